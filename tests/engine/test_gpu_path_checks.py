"""benchmarks/gpu_path_checks.py on this machine: one JSON line per check, in the order ``--list`` names them; on a
machine without a GPU every check is skipped with its reason (ok null), none passes, and the exit status is 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_path_checks.py"


def _listed() -> list[str]:
    done = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return [line.split("\t")[0] for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_every_check_prints_one_json_line_and_the_exit_status_follows_them():
    names = _listed()
    assert {"ops_on_gpu", "fp16_loss_scale", "virtual_gpus", "nccl_virtual", "cuda_visible"} <= set(names)
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=400)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [r["check"] for r in rows] == names, done.stderr[-2000:]
    assert all(set(r) == {"check", "ok", "detail"} and r["detail"] for r in rows)
    failed = [r for r in rows if r["ok"] is False]
    assert done.returncode == (1 if failed else 0)
    assert not failed, failed
    for r in rows:
        if r["ok"] is None:
            assert r["detail"].startswith("skipped:")
    if not Path("/proc/driver/nvidia").exists():  # no GPU here: a check that passes would prove nothing
        assert all(r["ok"] is None for r in rows), [r for r in rows if r["ok"] is not None]
