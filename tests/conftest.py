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


def datasets_dir() -> Path | None:
    env = os.environ.get("DLTOOL_DATA_DIR")
    for candidate in ([Path(env)] if env else []) + [SHARED_DATASETS]:
        if (candidate / "mnist").is_dir():
            return candidate
    return None


@pytest.fixture
def data_dir(monkeypatch) -> Path:
    found = datasets_dir()
    if found is None:
        pytest.skip("real datasets not found: set DLTOOL_DATA_DIR or put them in ../shared/datasets")
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(found))
    return found


@pytest.fixture
def cli():
    """Invoke the app like a user would; returns click's Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from dltool.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, list(args), **kwargs)

    return invoke
