"""--help and completion: the name options list their values, usage lines name arguments plainly, number options
keep the descriptions readable at 80 columns, a mistyped command's suggestion reads as one sentence."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from dltool.cli import choices

ROOT = Path(__file__).resolve().parents[2]

# (command, option, the module:NAME the values are defined in, or the config that checks them inline)
NAME_OPTIONS = [
    ("fit-line", "--preset", "dltool.experiments.fit_line:PRESET_NAMES"),
    ("mnist softmax", "--preset", "dltool.experiments.mnist.softmax:PRESET_NAMES"),
    ("mnist softmax", "--loss", "dltool.experiments.mnist.softmax:LOSSES"),
    ("mnist softmax", "--init", "dltool.experiments.mnist.softmax:INITS"),
    ("mnist softmax", "--dataset", "dltool.experiments.mnist.common:DATASETS"),
    ("mnist cnn", "--preset", "dltool.experiments.mnist.cnn:PRESETS"),
    ("mnist cnn", "--init", None),
    ("mnist filters", "--dataset", "dltool.experiments.mnist.common:DATASETS"),
    ("scale", "--strategy", "dltool.experiments.scale:STRATEGIES"),
    ("scale", "--mode", "dltool.experiments.scale:MODES"),
    ("scale", "--dataset", "dltool.experiments.scale:DATASETS"),
    ("cutout show", "--split", None),
    ("archcalc", "--preset", "dltool.archcalc.inception:INCEPTION_PRESETS"),
    ("mnist cnn", "--schedule", "dltool.experiments.mnist.cnn:SCHEDULES"),
    ("cutout train", "--lr-schedule", "dltool.experiments.cutout:LR_SCHEDULES"),
    ("mnist devices", "--cross-device-ops", "dltool.engine.devices:CROSS_DEVICE_OPS"),
    ("scale", "--cross-device-ops", "dltool.engine.devices:CROSS_DEVICE_OPS"),
    ("scale", "--communication", "dltool.engine.devices:COMMUNICATIONS"),
    ("mnist softmax", "--optimizer-defaults", "dltool.engine.optimizers:DEFAULTS"),
    ("fit-line", "--optimizer-defaults", "dltool.engine.optimizers:DEFAULTS"),
]


def _command(path: str):
    import typer

    from dltool.cli._click import click
    from dltool.cli.app import app

    command = typer.main.get_command(app)
    for word in path.split():
        command = command.get_command(click.Context(command), word)
    return command


def _option(path: str, name: str):
    return next(p for p in _command(path).params if name in getattr(p, "opts", ()))


def _defined(source: str) -> list[str]:
    module, _, attribute = source.partition(":")
    return [str(v) for v in getattr(importlib.import_module(module), attribute)]


def _help(cli, path: str, columns: int = 80) -> str:
    result = cli(*path.split(), "--help", env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(("path", "name", "source"), NAME_OPTIONS, ids=[f"{p} {n}" for p, n, _ in NAME_OPTIONS])
def test_name_options_show_the_values_defined_where_they_are_checked(cli, path, name, source):
    option = _option(path, name)
    values = list(option.type.choices)
    if source is not None:
        assert values == _defined(source)
    metavar = option.type.get_metavar(option, None)
    text = _help(cli, path)
    line = next(line for line in text.splitlines() if f" {name} " in line)
    assert "<str>" not in line
    if metavar == "<name>":  # a value too long for the type column: the description names every value
        assert all(value in " ".join(_help(cli, path, 120).split()) for value in values)
        assert max(len(v) for v in values) > 18
    else:
        assert metavar.replace("\n", "") == "<" + "|".join(values) + ">"
        assert all(piece in text for piece in metavar.splitlines())  # a long list wraps at "|", all of it shown


def test_the_inline_lists_are_what_their_configs_accept():
    """--init of mnist cnn and --split of cutout show are checked inline in their configs: hold the lists equal."""
    from dltool.errors import UsageError
    from dltool.experiments.cutout import ShowConfig
    from dltool.experiments.mnist.cnn import CnnConfig

    for value in choices.CNN_INITS:
        CnnConfig.from_options(False, init=value)
    for value in choices.CUTOUT_SPLITS:
        ShowConfig.from_options(False, split=value)
    for make in (lambda: CnnConfig.from_options(False, init="glorot"),
                 lambda: ShowConfig.from_options(False, split="validation")):
        with pytest.raises(UsageError):
            make()


@pytest.mark.parametrize(("args", "message"), [
    ("mnist softmax --preset bogus --no-save", "dltool: error: unknown preset 'bogus'. choose one of table1,"),
    ("mnist softmax --loss Bogus --no-save", "dltool: error: unknown loss"),
    ("scale --mode x --no-save", "dltool: error: unknown mode 'x'. use --mode strong, weak or both"),
    ("cutout show --split val --no-save", "dltool: error: --split must be train or test, got 'val'"),
])
def test_a_value_outside_the_list_keeps_its_config_message(cli, args, message):
    result = cli(*args.split())
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


def test_names_are_read_as_typed_case_and_dashes_included(cli):
    """The configs take "Stable" and "fashion-mnist" (case-insensitive, - for _): the choice type passes them on."""
    option = _option("scale", "--dataset")
    assert option.type.convert("fashion-mnist", option, None) == "fashion-mnist"
    option = _option("mnist softmax", "--loss")
    assert option.type.convert("Stable", option, None) == "Stable"


def test_help_of_a_command_with_choices_imports_no_tensorflow_and_root_help_no_experiment():
    code = ("import sys, io, contextlib\nfrom dltool.cli.app import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])\n"
            "print(sorted(m for m in sys.modules if m.startswith(('numpy', 'dltool.experiments'))))\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    main(['mnist', 'softmax', '--help']); main(['scale', '--help']); main(['archcalc', '--help'])\n"
            "print('<stable|naive>' in out.getvalue(), 'tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"COLUMNS": "100", "PATH": ""}).stdout.splitlines()
    assert lines == ["[]", "True False False"]


def test_bash_completion_offers_the_values_of_a_name_option():
    script = ROOT / "completions" / "dltool.bash"
    probe = (f"source {script}; COMP_WORDS=(dltool scale --mode ''); COMP_CWORD=3; _dltool; echo ${{COMPREPLY[@]}}; "
             "COMP_WORDS=(dltool mnist softmax --preset report001-m); COMP_CWORD=4; _dltool; echo ${COMPREPLY[@]}")
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["strong weak both", "report001-momentum"]


def _all_commands() -> list[str]:
    import typer

    from dltool.cli._click import click
    from dltool.cli.app import app

    out, todo = [], [([], typer.main.get_command(app))]
    while todo:
        path, command = todo.pop()
        out.append(" ".join(path))
        if hasattr(command, "list_commands"):
            ctx = click.Context(command)
            todo += [([*path, name], command.get_command(ctx, name)) for name in command.list_commands(ctx)]
    return sorted(p for p in out if p)


def test_usage_lines_name_arguments_in_capitals(cli):
    usage = {}
    for path in _all_commands():
        text = _help(cli, path)
        usage[path] = next(line.strip() for line in text.splitlines() if "Usage:" in line)
    assert not [line for line in usage.values() if "{" in line or "}" in line], usage
    assert usage["archcalc"] == "Usage: dltool archcalc [OPTIONS] NETWORK..."
    assert usage["runs show"] == "Usage: dltool runs show [OPTIONS] RUN"
    assert usage["runs compare"] == "Usage: dltool runs compare [OPTIONS] RUNS..."


def test_number_options_have_a_short_type_at_80_columns(cli):
    """`<int range> [0<=x<=4294967295]` made the type column 30 wide and squeezed every description."""
    for path in _all_commands():
        text = _help(cli, path)
        assert "int range" not in text and "float range" not in text and "4294967295" not in text, path
    softmax = _help(cli, "mnist softmax")
    assert "<int> [x>=1]" in softmax
    seed = next(line for line in softmax.splitlines() if "--seed" in line)
    assert "<int>" in seed and "Random seed (0 … 2^32−1);" in seed  # the description starts beside it, unbroken


@pytest.mark.parametrize("seed", ["-1", "4294967296", "99999999999999999999"])
def test_a_seed_out_of_range_is_still_refused_in_one_line(cli, seed):
    result = cli("fit-line", "--seed", seed, "--no-save")
    assert result.exit_code == 2
    assert result.stderr == (f"dltool: error: Invalid value for '--seed': {seed} is not in the range 0 … "
                             "4,294,967,295 (2^32−1). See 'dltool fit-line --help'.\n")


def test_a_mistyped_command_gets_one_sentence_with_its_suggestion(cli):
    result = cli("fit-lin")
    assert result.exit_code == 2
    assert result.stderr == ("dltool: error: No such command 'fit-lin'. Did you mean 'fit-line'? "
                             "See 'dltool --help'.\n")
    result = cli("nosuchthing")
    assert result.stderr == "dltool: error: No such command 'nosuchthing'. See 'dltool --help'.\n"
