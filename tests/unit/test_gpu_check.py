"""benchmarks/gpu_check.sh without a GPU: syntax, --dry-run, the no-GPU exit, and its row logic on stand-ins.

The stand-ins (a fake ``nvidia-smi`` and a fake ``dltool`` that prints canned JSON) test the script's own
plumbing — running each row, reading what the run wrote, the table and the exit code — not dltool's GPU paths,
which only a GPU machine can test (the script has not run on one yet).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.sh"
ROWS = ["env", "mnist fp16", "mnist bf16", "scale 1 GPU", "scale 2 virtual GPUs", "allreduce nccl",
        "allreduce hierarchical-copy", "cutout train --quick"]

FAKE_DLTOOL = r'''
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
mode = os.environ.get("STUB_MODE", "ok")
out = Path(args[args.index("--out") + 1]) if "--out" in args else None
device = "CPU" if mode == "cpu-fp16" and "fp16" in args else "GPU"
precision = args[args.index("--precision") + 1] if "--precision" in args else "fp32"
env = {"devices": {"device_type": device}, "precision": precision}
if args[0] == "env":
    gpus = [] if mode == "tf-no-gpu" else [{"index": 0, "name": "Fake GPU", "compute_capability": "9.0"}]
    doc = {"gpus": gpus, "nccl": {"usable": mode == "dup-nccl", "detail": "fake: no NCCL"}}
elif args[0] == "mnist":
    doc = {"runs": [{"test_accuracy": 0.9903, "train_seconds": 4.2, "status": "target reached"}], "environment": env}
elif args[0] == "scale":
    n = 2 if "2" in args[args.index("--gpus") + 1] else 1
    doc = {"runs": [{"devices": f"{k} × GPU", "learners": k, "virtual": "--virtual" in args, "throughput": 1000.0 * k,
                     "status": "finished"} for k in range(1, n + 1)], "environment": env}
elif args[0] == "allreduce":
    if "nccl" in args:
        print("NCCL WARN Duplicate GPU detected : rank 1 and rank 0 both on CUDA device 0" if mode == "dup-nccl"
              else "dltool: error: NCCL unavailable", file=sys.stderr)
        sys.exit(1 if mode == "dup-nccl" else 3)
    doc = {"bus": [{"status": "ok", "verified": True, "busbw": 2e9}], "device_type": "GPU"}
else:
    doc = {"runs": [{"status": "finished", "final_val_accuracy": 0.5}], "environment": env}
if out:
    out.mkdir(parents=True)
    (out / "results.json").write_text(json.dumps({"environment": env, **doc}))
print(json.dumps(doc))
'''

FAKE_PATH_CHECKS = r'''
import json
print(json.dumps({"check": "fake fp16 matmul", "ok": True, "detail": "1.0 == 1.0"}))
print(json.dumps({"check": "fake two GPUs", "ok": None, "detail": "needs 2 physical GPUs"}))
'''


def _run(tmp_path, *args, fake_gpu=True, mode="ok", path_checks=True, timeout=120):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if fake_gpu:
        smi = bin_dir / "nvidia-smi"
        smi.write_text("#!/bin/sh\necho 'GPU 0: Fake GPU (UUID: GPU-0)'\n")
        smi.chmod(0o755)
    stub = tmp_path / "fake_dltool.py"
    stub.write_text(FAKE_DLTOOL)
    checks = tmp_path / "fake_path_checks.py"
    checks.write_text(FAKE_PATH_CHECKS)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHON": sys.executable,
           "DLTOOL": f"{sys.executable} {stub}", "STUB_MODE": mode,
           "GPU_CHECK_PATH_CHECKS": str(checks) if path_checks else str(tmp_path / "absent.py")}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=timeout)


def _table(stdout: str) -> dict[str, str]:
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[1] in ("PASS", "FAIL", "SKIP", "UNAVAILABLE"):
            rows[cells[0]] = cells[1]
    return rows


def test_syntax():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_dry_run_lists_every_row(tmp_path):
    done = _run(tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr
    for row in ROWS:
        assert row in done.stdout
    assert "gpu_path_checks.py (each line)" in done.stdout and "total budget: 480s" in done.stdout


def test_no_gpu_says_so_and_exits_3(tmp_path):
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has nvidia-smi: the no-GPU path cannot be seen here")
    done = _run(tmp_path, fake_gpu=False)
    assert done.returncode == 3
    assert "no NVIDIA GPU" in done.stderr and "--dry-run" in done.stderr and done.stdout == ""


def test_tensorflow_without_the_gpu_exits_3(tmp_path):
    done = _run(tmp_path, mode="tf-no-gpu")
    assert done.returncode == 3 and "TensorFlow does not" in done.stderr and "[gpu]" in done.stderr


def test_rows_pass_nccl_unavailable_and_path_checks_become_rows(tmp_path):
    done = _run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    table = _table(done.stdout)
    assert table == {**{row: "PASS" for row in ROWS}, "allreduce nccl": "UNAVAILABLE",
                     "fake fp16 matmul": "PASS", "fake two GPUs": "SKIP"}
    assert "fake: no NCCL" in done.stdout and "all passed" in done.stdout


def test_nccl_refusing_two_ranks_on_one_gpu_is_unavailable_not_failed(tmp_path):
    done = _run(tmp_path, mode="dup-nccl", path_checks=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _table(done.stdout)["allreduce nccl"] == "UNAVAILABLE" and "two ranks on one physical GPU" in done.stdout


def test_a_run_off_the_gpu_fails_its_row_and_the_script(tmp_path):
    done = _run(tmp_path, mode="cpu-fp16", path_checks=False)
    assert done.returncode == 1
    table = _table(done.stdout)
    assert table["mnist fp16"] == "FAIL" and table["mnist bf16"] == "PASS"
    assert "device CPU" in done.stdout and "FAILED" in done.stdout


def test_bad_option_is_exit_2(tmp_path):
    done = _run(tmp_path, "--bogus")
    assert done.returncode == 2 and "unknown option --bogus" in done.stderr
