"""benchmarks/gpu_path_checks.py on this machine: one JSON line per check of items 1–8; on a machine without a
GPU the GPU-only checks are skipped (ok null, with the reason) and the others pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_path_checks.py"
NAMES = ["fp16_replicas", "fp16_workers", "xla_replicas", "worker_gpus", "memory_growth", "nccl_virtual",
         "virtual_gpus", "collective_timeout", "cuda_visible"]


@pytest.mark.slow
def test_every_check_prints_one_json_line_and_the_exit_status_follows_them():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=400)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [r["check"] for r in rows] == NAMES, done.stderr[-2000:]
    assert all(set(r) == {"check", "ok", "detail"} and r["detail"] for r in rows)
    failed = [r for r in rows if r["ok"] is False]
    assert done.returncode == (1 if failed else 0)
    assert not failed, failed
    cpu_checks = {"fp16_replicas", "fp16_workers", "xla_replicas", "nccl_virtual", "collective_timeout"}
    assert all(r["ok"] is True for r in rows if r["check"] in cpu_checks)  # these run without a GPU too
    for r in rows:
        if r["ok"] is None:
            assert r["detail"].startswith("skipped:")
