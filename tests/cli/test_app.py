"""The root app: help, version, exit codes, one-line errors, and no TensorFlow at start-up."""

from __future__ import annotations

import subprocess
import sys

from dltool import __version__


def test_help_lists_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("archcalc", "fit-line"):
        assert command in result.stdout


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"dltool {__version__}"


def test_unknown_option_is_one_line_exit_2(cli):
    result = cli("archcalc", "vgg19", "--no-such-option")
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dltool: error:")
    assert "Traceback" not in result.output


def test_bad_value_type_is_exit_2(cli):
    result = cli("archcalc", "vgg19", "--batch-size", "many")
    assert result.exit_code == 2
    assert "--batch-size" in result.stderr


def test_traceback_flag_shows_the_trace(cli):
    result = cli("--traceback", "archcalc", "vgg91")
    assert result.exit_code == 2  # the trace is added, the exit code stays
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("dltool: error: unknown network 'vgg91'")


def test_only_one_output_format(cli):
    result = cli("archcalc", "vgg19", "--json", "--csv")
    assert result.exit_code == 2
    assert "only use one of --json, --csv" in result.stderr


def _modules_after(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_help_and_archcalc_do_not_import_tensorflow():
    code = (
        "import sys, io, contextlib\n"
        "from dltool.cli.app import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help']); main(['archcalc', 'vgg19', '--json'])\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    assert _modules_after(code).split() == ["False", "False"]


def test_help_imports_neither_numpy_nor_tensorflow_nor_an_experiment():
    """`dltool --help` builds every command's help; cifar-adaptive's equations come from its experiment module
    (numpy) and are built only for `dltool cifar-adaptive --help`."""
    code = (
        "import sys, io, contextlib\n"
        "from dltool.cli.app import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    code = main(['--help'])\n"
        "assert code == 0 and 'cifar-adaptive' in out.getvalue(), (code, out.getvalue())\n"
        "heavy = ('numpy', 'tensorflow', 'keras', 'pandas', 'matplotlib', 'dltool.experiments', 'dltool.engine.loop')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    assert _modules_after(code).strip() == "[]"


def test_command_annotations_are_resolved_once_at_start_up():
    """Typer reads each command's annotations four times; strings would be compiled and evaluated each time."""
    import typer

    from dltool.cli.app import app

    def callbacks(typer_app: typer.Typer):
        for info in typer_app.registered_commands:
            yield info.callback
        for group in typer_app.registered_groups:
            yield from callbacks(group.typer_instance)

    found = list(callbacks(app))
    assert len(found) >= 10
    assert {f.__name__: a for f in found for a in f.__annotations__.values() if isinstance(a, str)} == {}


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "dltool", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and __version__ in done.stdout


def test_ctrl_c_maps_to_130(cli, monkeypatch):
    import dltool.archcalc as ac

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ac, "build", interrupted)
    result = cli("archcalc", "vgg19")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr


def test_tensorflow_start_up_chatter_is_kept_off_stderr():
    code = ("from dltool import quiet_tf; quiet_tf.install(); import tensorflow as tf; "
            "tf.config.list_physical_devices('CPU'); print(tf.__version__)")
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "DLTOOL_TF_LOGS")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()  # TensorFlow imported and works
    assert "absl::InitializeLog" not in done.stderr and "I0000" not in done.stderr and "cuInit" not in done.stderr
