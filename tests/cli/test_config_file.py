"""``--config FILE`` and ``dltool runs rerun``: a saved config fed back to its command.

Every training command rebuilds the same Config from its own results.json (checked without training: the launch
is replaced by a recorder), the command line wins over the file, fields no option sets are carried as recorded,
bad files are one line and exit 2, and a rerun of a seeded CPU run repeats its numbers exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dltool.cli import config_file
from dltool.report.output import jsonable

# (command, options of a first run): each is built, saved as a results.json and built again from it alone
ROUND_TRIPS: list[tuple[str, list[str]]] = [
    ("fit-line", ["--optimizers", "gd,adam", "--lrs", "0.05,0.001", "--momentums", "", "--iterations", "30",
                  "--noise", "0.5", "--true-w", "-3", "--seed", "7"]),
    ("fit-line", ["--preset", "report001-compare", "--optimizer-defaults", "keras"]),
    ("mnist softmax", ["--quick"]),  # the preset's explicit settings: a field no option sets
    ("mnist softmax", ["--optimizers", "adam", "--lrs", "0.1", "--steps", "20", "--momentums", "0.5", "--loss",
                       "naive", "--init", "glorot", "--subset", "100", "--precision", "bf16", "--seed", "3"]),
    ("mnist cnn", ["--quick"]),
    ("mnist cnn", ["--preset", "fast99", "--batch-sizes", "64,32", "--epochs", "0.5", "--xla", "--init", "keras"]),
    ("mnist filters", ["--quick"]),
    ("mnist filters", ["--filters", "", "--lrs", "0.5", "--epochs", "2"]),
    ("mnist mlp", ["--quick"]),
    ("mnist mlp", ["--studies", "depth,l1", "--decay-unit", "step", "--l1-definition", "sum", "--target-accuracy",
                   "0.9"]),
    ("mnist devices", ["--quick"]),  # its preset's --subset has no option
    ("mnist devices", ["--devices", "1,4", "--batch-sizes", "8", "--model", "mlp", "--virtual",
                       "--cross-device-ops", "reduction-to-one-device"]),
    ("mnist workers", ["--quick"]),
    ("mnist workers", ["--workers", "3", "--l2", "0.001", "--shards", "strided", "--epochs", "2"]),
    ("cifar-adaptive", ["--quick"]),
    ("cifar-adaptive", ["--methods", "adam,adagrad", "--lrs", "adam=3e-4", "--parts", "3", "--xla", "--precision",
                        "bf16"]),
    ("scale", ["--quick"]),
    ("scale", ["--gpus", "4", "--virtual", "--mode", "weak", "--model", "resnet20", "--dataset", "synthetic",
               "--steps", "5", "--timeout", "30", "--batch-size", "128"]),
    ("scale", ["--strategy", "multiworker", "--workers", "3", "--batch-size", "48", "--dataset", "synthetic"]),
    ("allreduce", ["--quick"]),
    ("allreduce", ["--virtual", "--devices", "2", "--max-size", "64M", "--min-size", "8K", "--no-train",
                   "--communications", "ring", "--workers", "0", "--timeout", "20"]),
    ("cutout train", ["--quick"]),
    ("cutout train", ["--ms", "1,4", "--lr", "0.02", "--lr-schedule", "constant", "--validation", "300", "--target",
                      "0.5", "--epochs", "3"]),
    ("eggholder", ["--quick"]),
    ("eggholder", ["--widths", "32,128", "--layers", "2", "--budget", "256", "--orders", "non-increasing",
                   "--bundle", "1", "--no-bn-recalibrate", "--max-networks", "3", "--xla"]),
]


@pytest.fixture
def built(monkeypatch, tmp_path):
    """Replace the launch of every training command by a recorder of (command, Config, RunOptions), with the
    file's fixed fields applied as launch applies them: the config is built, nothing is trained or written."""
    from dltool.cli import sweep

    seen: list[tuple[str, object, object]] = []

    def record(command, cfg, opts, *args, **kwargs):
        seen.append((command, config_file.apply_fixed(cfg, opts.fixed), opts))

    monkeypatch.setattr(sweep, "launch", record)
    monkeypatch.chdir(tmp_path)
    return seen


def _build(cli, seen, *args: str):
    seen.clear()
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert len(seen) == 1, result.output
    return seen[0]


def _save(path: Path, command: str, cfg) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "results.json").write_text(json.dumps({"command": command, "config": jsonable(cfg), "runs": []}))
    return path


def test_every_training_command_has_a_round_trip_and_the_option():
    assert {command for command, _ in ROUND_TRIPS} == set(config_file.COMMANDS)
    assert {command for command, args in ROUND_TRIPS if args == ["--quick"]} == set(config_file.COMMANDS) - {
        "fit-line"}


@pytest.mark.parametrize(("command", "args"), ROUND_TRIPS, ids=[f"{c}:{' '.join(a)}" for c, a in ROUND_TRIPS])
def test_config_of_its_results_json_rebuilds_the_same_config(cli, built, tmp_path, command, args):
    name, first, _ = _build(cli, built, *command.split(), *args)
    assert name == command
    run = _save(tmp_path / "run", command, first)
    default = jsonable(_build(cli, built, *command.split())[1])
    for source in (run, run / "results.json"):  # a run folder or its file
        again = jsonable(_build(cli, built, *command.split(), "--config", str(source))[1])
        assert again == jsonable(first)
    assert jsonable(first) != default or args == []  # the round trip carried something


def test_command_line_wins_and_the_rest_is_the_files(cli, built, tmp_path):
    _, first, _ = _build(cli, built, "eggholder", "--quick", "--widths", "16,64", "--seed", "5", "--lr", "0.02")
    run = _save(tmp_path / "egg", "eggholder", first)
    _, again, _ = _build(cli, built, "eggholder", "--config", str(run), "--epochs", "3", "--seed", "6")
    expected = {**jsonable(first), "epochs": 3, "seed": 6}
    assert jsonable(again) == expected


def test_recorded_settings_give_way_to_the_options_that_replace_them(cli, built, tmp_path):
    """softmax --quick records its four (optimizer, lr) settings, which no option sets: a rerun keeps them,
    and --optimizers on the command line replaces them instead of being hidden by them."""
    _, first, _ = _build(cli, built, "mnist", "softmax", "--quick")
    assert first.settings
    run = _save(tmp_path / "soft", "mnist softmax", first)
    _, kept, _ = _build(cli, built, "mnist", "softmax", "--config", str(run), "--steps", "7")
    assert kept.settings == first.settings and kept.steps == 7
    _, replaced, _ = _build(cli, built, "mnist", "softmax", "--config", str(run), "--optimizers", "adam")
    assert replaced.settings is None and replaced.optimizers == ["adam"]
    assert [g[:2] for g in replaced.grid()] == [("adam", 0.01)]
    assert replaced.subset == first.subset and replaced.steps == first.steps  # the rest stays the file's


def test_a_recorded_null_stays_null_under_a_preset(cli, built, tmp_path):
    """No option gives null, but a file may: cnn's fast99 preset sets a target, a null in the file unsets it
    (and a typed --target-accuracy still wins)."""
    (tmp_path / "c.json").write_text(json.dumps({"preset": "fast99", "target_accuracy": None}))
    _, cfg, _ = _build(cli, built, "mnist", "cnn", "--config", "c.json")
    assert cfg.preset == "fast99" and cfg.target_accuracy is None and cfg.model == "fast"
    _, typed, _ = _build(cli, built, "mnist", "cnn", "--config", "c.json", "--target-accuracy", "0.98")
    assert typed.target_accuracy == 0.98


def test_a_toml_or_json_file_of_some_keys(cli, built, tmp_path):
    """A TOML file on Python 3.11+ (tomllib); on 3.10, which pyproject allows, the same file is refused (exit 2,
    asking for JSON) and the same keys as JSON give the same config."""
    keys = {"widths": [32, 128], "layers": [1], "epochs": 4, "orders": "all", "bn_recalibrate": False, "seed": 9}
    (tmp_path / "egg.toml").write_text('widths = [32, 128]\nlayers = [1]\nepochs = 4\norders = "all"\n'
                                       'bn_recalibrate = false\nseed = 9\n')
    (tmp_path / "egg.json").write_text(json.dumps(keys))
    _, typed, _ = _build(cli, built, "eggholder", "--widths", "32,128", "--layers", "1", "--epochs", "4",
                         "--no-bn-recalibrate", "--seed", "9")
    if config_file.TOMLLIB:
        _, from_toml, _ = _build(cli, built, "eggholder", "--config", "egg.toml")
        assert jsonable(from_toml) == jsonable(typed)
    else:
        built.clear()
        refused = cli("eggholder", "--config", "egg.toml")
        assert refused.exit_code == 2 and built == [] and "give the same keys as a JSON file" in refused.stderr
    _, from_json, _ = _build(cli, built, "eggholder", "--config", "egg.json")
    assert jsonable(from_json) == jsonable(typed)
    (tmp_path / "fit.json").write_text(json.dumps({"command": "fit-line", "lrs": [0.1], "optimizers": ["gd"],
                                                   "momentums": []}))
    _, fit, _ = _build(cli, built, "fit-line", "--config", "fit.json")
    assert fit.grid() == [("gd", 0.1, None)]


def test_a_recorded_data_dir_missing_here_is_left_out(cli, built, tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"data_dir": str(tmp_path / "not-here"), "subset": 50}))
    _, cfg, _ = _build(cli, built, "mnist", "mlp", "--config", "c.json")
    assert cfg.data_dir is None and cfg.subset == 50
    (tmp_path / "here").mkdir()
    (tmp_path / "d.json").write_text(json.dumps({"data_dir": str(tmp_path / "here")}))
    assert Path(_build(cli, built, "mnist", "mlp", "--config", "d.json")[1].data_dir) == tmp_path / "here"


def test_a_missing_data_dir_note_waits_for_the_run(cli, tmp_path, monkeypatch):
    """The note on a recorded --data-dir missing here was printed as the file was read (two lines at 80
    columns), so a run refused afterwards printed it before its one-line error. Now: a refusal is one line; a
    run that starts says the note in one line. (The real launch up to the sweep: no data read, nothing trained.)"""
    from dltool.cli import sweep
    from dltool.experiments.mnist.mlp import MlpConfig

    started = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(MlpConfig, "prepare", lambda self: None)
    monkeypatch.setattr(sweep, "run_sweep", lambda *args, **kwargs: started.append(args))
    (tmp_path / "dd2.json").write_text(json.dumps({"data_dir": str(tmp_path / "not-here" / ("x" * 40))}))
    refused = cli("mnist", "mlp", "--config", "dd2.json", "--epochs", "0")
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert refused.exit_code == 2 and len(lines) == 1 and lines[0].startswith("dltool: error: "), refused.stderr
    assert started == [] and refused.stdout == ""
    ran = cli("mnist", "mlp", "--config", "dd2.json", "--no-save")
    assert ran.exit_code == 0 and len(started) == 1, ran.output
    notes = [line for line in ran.stderr.splitlines() if "not on this machine" in line]
    assert len(notes) == 1 and notes[0].endswith("(give --data-dir to choose)"), ran.stderr


def test_rerun_runs_the_recorded_command_with_the_overrides(cli, built, tmp_path):
    _, first, _ = _build(cli, built, "scale", "--quick", "--mode", "strong")
    run = _save(tmp_path / "runs" / "scale-1", "scale", first)
    name, again, opts = _build(cli, built, "runs", "rerun", str(run), "--steps", "3", "--out", "new")
    assert name == "scale" and opts.out == Path("new") and opts.config_file == run / "results.json"
    assert jsonable(again) == {**jsonable(first), "steps": 3}


# ---------------------------------------------------------------------------------------------------------------
# bad input: one line, exit 2, nothing run and nothing written


def _files(workdir: Path) -> None:
    (workdir / "typo.json").write_text(json.dumps({"epochs": 3, "learning_rate": 0.1}))
    (workdir / "wrong-type.json").write_text(json.dumps({"widths": "32,128"}))
    (workdir / "wrong-int.json").write_text(json.dumps({"epochs": 2.5}))
    (workdir / "out-of-range.json").write_text(json.dumps({"seed": -1}))
    (workdir / "not-json.json").write_text("{epochs: 3")
    (workdir / "not-toml.toml").write_text("epochs = [3\n")
    (workdir / "a-list.json").write_text("[1, 2]")
    cnn = workdir / "cnn-run"
    cnn.mkdir()
    (cnn / "results.json").write_text(json.dumps({"command": "mnist cnn", "config": {"epochs": 1}}))
    show = workdir / "show-run"
    show.mkdir()
    (show / "results.json").write_text(json.dumps({"command": "cutout show", "config": {"n": 2}}))
    egg = workdir / "egg-run"
    egg.mkdir()
    (egg / "results.json").write_text(json.dumps({"command": "eggholder", "config": {"epochs": 2}}))
    (workdir / "empty").mkdir()


BAD: list[tuple[str, str]] = [
    ("eggholder --config typo.json", "'learning_rate' is not a key of `dltool eggholder`. its keys: samples,"),
    ("eggholder --config wrong-type.json", "widths must be a list of whole numbers or null, got \"32,128\""),
    ("eggholder --config wrong-int.json", "epochs must be a whole number, got 2.5"),
    ("eggholder --config out-of-range.json", "seed = -1 is refused by --seed"),
    ("eggholder --config nowhere.json", "--config nowhere.json: no such file"),
    ("eggholder --config empty", "is a folder without a results.json"),
    ("eggholder --config not-json.json", "is not valid JSON"),
    # Python 3.10 has no tomllib: any .toml is refused there, asking for JSON (both branches: see below)
    ("eggholder --config not-toml.toml",
     "is not valid TOML" if config_file.TOMLLIB else "TOML needs Python 3.11 or newer"),
    ("eggholder --config a-list.json", "not an object of config keys"),
    ("mnist softmax --config cnn-run", "is a config of `dltool mnist cnn`, not of `dltool mnist softmax`"),
    ("mnist softmax --config cnn-run/results.json", "run `dltool mnist cnn --config"),
    ("eggholder --config egg-run --quick", "--quick cannot shrink the config of"),
    ("cutout train --config {workdir}/typo.json --resume empty", "--config and --resume cannot be combined"),
    ("runs rerun nowhere", "nowhere is not a run folder"),
    ("runs rerun show-run", "is a run of 'cutout show', which `runs rerun` cannot repeat"),
    ("runs rerun egg-run --epoch 3", "No such option: --epoch"),
    ("runs rerun egg-run --epochs 0", "--epochs"),
    ("runs rerun egg-run --quick", "--quick cannot shrink the config of"),
    ("runs rerun egg-run --config egg-run --no-save", "--config cannot follow RUN"),  # ran the file's config
    ("runs rerun --seed 3 egg-run", "put options after the run folder: dltool runs rerun egg-run --seed 3"),
    ("runs rerun egg-run --seed", "requires an argument. See 'dltool runs rerun --help'"),
]


@pytest.mark.parametrize(("case", "fragment"), BAD, ids=[c for c, _ in BAD])
def test_bad_config_is_one_line_exit_2_and_nothing_runs(cli, built, tmp_path, case, fragment):
    _files(tmp_path)
    if "typo.json --resume" in case:  # a key error would come first: give a good file
        (tmp_path / "typo.json").write_text(json.dumps({"lr": 0.05}))
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = cli(*case.format(workdir=tmp_path).split())
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("dltool: error: ") and fragment in lines[0], result.stderr
    assert result.stdout == "" and built == []
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_toml_before_python_3_11_asks_for_json(cli, built, tmp_path, monkeypatch):
    """The 3.10 branch, tested on any Python: the check that stands for a missing tomllib says no."""
    monkeypatch.setattr(config_file, "TOMLLIB", False)
    (tmp_path / "egg.toml").write_text("epochs = 4\n")
    result = cli("eggholder", "--config", "egg.toml")
    assert result.exit_code == 2 and built == []
    assert "TOML needs Python 3.11 or newer (tomllib). give the same keys as a JSON file" in result.stderr


def test_refused_config_never_imports_tensorflow(tmp_path):
    import subprocess
    import sys

    (tmp_path / "typo.json").write_text(json.dumps({"epoch": 3}))
    code = ("import sys\nfrom dltool.cli.app import main\nprint(main(sys.argv[1:]), 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, "mnist", "cnn", "--config", "typo.json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["2", "False"], done.stderr
    assert "'epoch' is not a key of `dltool mnist cnn`" in done.stderr


def test_help_names_the_option_and_rerun(cli):
    for command in config_file.COMMANDS:
        assert "--config" in cli(*command.split(), "--help").stdout, command
    assert "--config" not in cli("cutout", "show", "--help").stdout
    text = cli("runs", "rerun", "--help").stdout
    assert "RUN" in text and "new run folder" in text


# ---------------------------------------------------------------------------------------------------------------
# a real rerun repeats a seeded CPU run exactly


def _metrics(doc: dict, keys: tuple[str, ...]) -> list[tuple]:
    return [tuple(run.get(k) for k in keys) for run in doc["runs"]]


def test_rerun_repeats_a_seeded_fit_line_run_exactly(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = cli("fit-line", "--optimizers", "gd,adam", "--lrs", "0.01", "--momentums", "", "--iterations", "40",
                "--noise", "2", "--seed", "11", "--out", "first", "--json")
    assert first.exit_code == 0, first.output
    again = cli("runs", "rerun", "first", "--out", "again", "--json")
    assert again.exit_code == 0, again.output
    done = "rerun of first (fit-line) done as: dltool fit-line --config first/results.json --out again --json"
    assert done in again.stderr.splitlines()  # one line past 80 columns: a wrapped command cannot be copied
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("first", "again"))
    keys = ("optimizer", "lr", "status", "final_loss", "w", "b", "losses")
    assert _metrics(a, keys) == _metrics(b, keys) and len(a["runs"]) == 2
    assert a["x"] == b["x"] and a["config"] == b["config"]
    changed = cli("runs", "rerun", "first", "--seed", "12", "--no-save", "--json")
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout)["x"] != a["x"]  # the override took: other points


@pytest.mark.slow
def test_rerun_repeats_a_seeded_mnist_softmax_quick_run_exactly(cli, tmp_path, monkeypatch, mnist_dir):
    """--quick's settings (a field no option sets) come back from results.json: the same four runs."""
    monkeypatch.chdir(tmp_path)
    first = cli("mnist", "softmax", "--quick", "--steps", "15", "--seed", "4", "--out", "first", "--json")
    assert first.exit_code == 0, first.output
    again = cli("runs", "rerun", "first", "--out", "again", "--json")
    assert again.exit_code == 0, again.output
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("first", "again"))
    keys = ("optimizer", "lr", "test_accuracy", "final_loss", "losses")
    assert _metrics(a, keys) == _metrics(b, keys) and len(a["runs"]) == 4
    assert a["config"] == b["config"]
