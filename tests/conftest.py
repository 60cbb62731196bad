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
