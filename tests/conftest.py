"""Shared fixtures: the real datasets beside the project (../shared/datasets), a CLI runner, quiet TensorFlow."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# one matmul-peak cache per test session (measured once, never the user's ~/.cache)
os.environ.setdefault("DLTOOL_CACHE_DIR", tempfile.mkdtemp(prefix="dltool-test-cache-"))

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def datasets_dir(needed: str = "mnist") -> Path | None:
    """The datasets folder that holds ``needed``: $DLTOOL_DATA_DIR first, then ../shared/datasets."""
    env = os.environ.get("DLTOOL_DATA_DIR")
    for candidate in ([Path(env)] if env else []) + [SHARED_DATASETS]:
        if (candidate / needed).is_dir():
            return candidate
    return None


def _datasets_with(needed: str, monkeypatch) -> Path:
    found = datasets_dir(needed)
    if found is None:
        pytest.skip(f"real dataset {needed}/ not found: set DLTOOL_DATA_DIR or put it in ../shared/datasets")
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(found))
    return found


@pytest.fixture
def data_dir(monkeypatch) -> Path:
    """The real datasets (MNIST at least), also set as $DLTOOL_DATA_DIR; the test is skipped without them."""
    return _datasets_with("mnist", monkeypatch)


@pytest.fixture
def mnist_dir(data_dir) -> Path:
    return data_dir


@pytest.fixture
def cifar_dir(monkeypatch) -> Path:
    """The datasets folder with the CIFAR-10 sample (cifar-10-sample/), also set as $DLTOOL_DATA_DIR."""
    return _datasets_with("cifar-10-sample", monkeypatch)


@pytest.fixture
def no_datasets(monkeypatch, tmp_path) -> Path:
    """A machine without any dataset: $DLTOOL_DATA_DIR, $TFDS_DATA_DIR and /usr/share/datasets point at an
    empty folder (returned) and there is no network for tensorflow-datasets to download from."""
    from dltool.data import sources

    empty = tmp_path / "no-datasets"
    empty.mkdir()
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(empty))
    monkeypatch.setenv("TFDS_DATA_DIR", str(empty))
    monkeypatch.setattr(sources, "SYSTEM_DATA_DIR", empty)
    monkeypatch.setattr(sources, "network_available", lambda *a, **k: False)
    return empty


@pytest.fixture
def cli():
    """Invoke the app like a user would; returns click's Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from dltool.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, list(args), **kwargs)

    return invoke


# A tiny real run of every training command (the smallest settings of its own tests, smaller where the figures
# stay the same), with the real dataset it needs (None: none). More than one run where it is cheap, so that a
# stopped copy keeps some of them. Each runs once per test session, with --json, into its own --out folder.
TINY_RUNS = {
    "fit-line": (["fit-line", "--optimizers", "gd,adam", "--lrs", "0.01", "--momentums", "", "--iterations", "20"],
                 None),
    "mnist softmax": (["mnist", "softmax", "--quick", "--optimizers", "gd", "--lrs", "0.5,0.1", "--steps", "20",
                       "--subset", "500", "--test-subset", "200"], "mnist"),
    "mnist cnn": (["mnist", "cnn", "--quick", "--batch-sizes", "50,20", "--steps", "4", "--subset", "200",
                   "--test-subset", "100"], "mnist"),
    "mnist filters": (["mnist", "filters", "--quick", "--filters", "8", "--lrs", "0.1,0.01", "--steps", "5",
                       "--subset", "300", "--validation", "50", "--test-subset", "100"], "mnist"),
    "mnist mlp": (["mnist", "mlp", "--quick", "--studies", "schedule", "--steps", "5", "--subset", "300",
                   "--test-subset", "100"], "mnist"),
    # two devices only: no 1-device baseline, so no speedup (the figure crashed on its empty panel, exit 1)
    "mnist devices": (["mnist", "devices", "--quick", "--devices", "2", "--batch-sizes", "4,8", "--steps", "2",
                       "--model", "softmax"], "mnist"),
    "mnist workers": (["mnist", "workers", "--quick", "--workers", "1", "--model", "softmax", "--steps", "5",
                       "--subset", "300", "--test-subset", "100"], "mnist"),
    "cifar-adaptive": (["cifar-adaptive", "--quick", "--methods", "adam", "--epochs", "1", "--subset", "128",
                        "--test-subset", "64"], "cifar-10-sample"),
    "scale": (["scale", "--gpus", "1,2", "--virtual", "--model", "softmax", "--dataset", "synthetic", "--steps", "8",
               "--batch-size", "64", "--per-learner-batch", "32"], None),
    # training included (3 steps of 8): the README's `.train[]` example has rows to read
    "allreduce": (["allreduce", "--quick", "--devices", "2", "--implementations",
                   "reduction-to-one-device,hierarchical-copy", "--workers", "0", "--max-size", "16K", "--steps", "3",
                   "--batch-size", "8"], None),
    "cutout train": (["cutout", "train", "--quick", "--ms", "1", "--epochs", "1", "--subset", "200", "--validation",
                      "64", "--test-subset", "64"], "cifar-10-sample"),
    "eggholder": (["eggholder", "--quick", "--max-networks", "2", "--epochs", "2", "--samples", "2000",
                   "--time-alone", "3"], None),
}


@pytest.fixture(scope="session")
def _tiny_runs_made(tmp_path_factory) -> dict:
    return {"root": tmp_path_factory.mktemp("tiny-runs"), "made": {}}


@pytest.fixture(scope="session", params=list(TINY_RUNS))
def tiny_run(request, _tiny_runs_made):
    """One tiny real run of a training command (every test that takes this fixture runs once per command of
    :data:`TINY_RUNS`): ``.command``, ``.folder`` (its --out run folder) and ``.stdout`` (what --json printed).
    Each command runs once per session; without its real dataset the test is skipped with the reason."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from dltool.cli.app import app

    command = request.param
    made = _tiny_runs_made["made"]
    if command not in made:
        args, needed = TINY_RUNS[command]
        found = datasets_dir(needed) if needed else None
        if needed and found is None:
            pytest.skip(f"real dataset {needed}/ not found: set DLTOOL_DATA_DIR or put it in ../shared/datasets")
        out = _tiny_runs_made["root"] / command.replace(" ", "-")
        with pytest.MonkeyPatch.context() as patch:
            if found is not None:
                patch.setenv("DLTOOL_DATA_DIR", str(found))
            result = CliRunner().invoke(app, [*args, "--out", str(out), "--json"])
        assert result.exit_code == 0, result.stderr[-3000:]
        made[command] = SimpleNamespace(command=command, folder=out, stdout=result.stdout)
    return made[command]
