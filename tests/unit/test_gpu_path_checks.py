"""benchmarks/gpu_path_checks.py without a GPU: no check passes where the box cannot show what it names, and the
checks judge recorded GPU outcomes (what the worker processes would return on a GPU) the right way."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_path_checks.py"


@pytest.fixture
def checks(monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("gpu_path_checks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gpu_path_checks", module)
    spec.loader.exec_module(module)
    calls = []

    def fake_sub(target, config, **kwargs):
        calls.append(target)
        if isinstance(module.FAKE[target], Exception):
            raise module.FAKE[target]
        return module.FAKE[target]

    module.FAKE = {}
    monkeypatch.setattr(module, "sub", fake_sub)
    module.calls = calls

    def lines():
        return [json.loads(row) for row in capsys.readouterr().out.splitlines() if row.startswith("{")]

    module.lines = lines
    return module


def test_list_names_every_check_with_what_it_asserts():
    done = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = dict(line.split("\t") for line in done.stdout.splitlines())
    assert set(rows) == {"ops_on_gpu", "fp16_loss_scale", "fp16_replicas", "fp16_workers", "xla_replicas",
                         "worker_gpus", "memory_growth", "nccl_virtual", "virtual_gpus", "collective_timeout",
                         "cuda_visible"}
    assert "get_memory_info" in rows["virtual_gpus"] and "loss scale" in rows["fp16_loss_scale"]
    bad = subprocess.run([sys.executable, str(SCRIPT), "--only", "bogus"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "unknown check(s) bogus" in bad.stderr


@pytest.mark.parametrize("name", ["nccl_virtual", "collective_timeout", "xla_replicas", "fp16_workers",
                                  "ops_on_gpu", "fp16_loss_scale", "virtual_gpus"])
def test_no_check_passes_without_a_gpu(checks, name):
    check = next(c for c in checks.CHECKS if checks.check_name(c) == name)
    assert check(0) is None
    (row,) = checks.lines()
    assert row["check"] == name and row["ok"] is None and row["detail"].startswith("skipped:")
    assert checks.calls == []  # nothing ran


def test_fp16_workers_on_one_gpu_skips_instead_of_cpu_ring_workers(checks, monkeypatch):
    from dltool.engine import workers

    monkeypatch.setattr(workers, "launch", lambda *a, **k: pytest.fail("no workers on one GPU"))
    assert checks.check_fp16_workers(1) is None
    (row,) = checks.lines()
    assert "needs ≥ 2 GPUs" in row["detail"] and "has 1" in row["detail"]


def _virtual(refused=(True, True), held=(15872, 15872), peak=(15900, 15900), limits=(16000, 16000), total=35000):
    return {"limits_mib": list(limits), "logical": 2, "held_bytes": [h * 2**20 for h in held],
            "peak_bytes": [p * 2**20 for p in peak], "refused": list(refused), "visible": 1, "physical": 1,
            "total_mib": total}


@pytest.mark.parametrize("fake, ok", [
    (_virtual(), True),
    (_virtual(refused=(True, False)), False),  # the limit is not enforced: 1.25 × the limit was allocated
    (_virtual(held=(15872, 256), peak=(15900, 300)), False),  # the second logical GPU held next to nothing
    (_virtual(peak=(15900, 17000)), False),  # it held more than its limit
    (_virtual(limits=(20000, 20000), held=(19968, 19968), peak=(19990, 19990)), False),  # limits exceed the card
])
def test_virtual_gpus_measures_what_was_allocated(checks, fake, ok):
    checks.FAKE["t_virtual_alloc"] = fake
    assert checks.check_virtual(1) is ok
    assert checks.calls == ["t_virtual_alloc"]


@pytest.mark.parametrize("fake, ok", [
    ({"status": "finished", "variables": ["/job:localhost/replica:0/task:0/device:GPU:0"],
      "peak_bytes": 80 * 2**20, "activation_bytes": 64 * 2**20}, True),
    ({"status": "finished", "variables": ["/job:localhost/replica:0/task:0/device:CPU:0"],
      "peak_bytes": 80 * 2**20, "activation_bytes": 64 * 2**20}, False),
    ({"status": "finished", "variables": ["/job:localhost/replica:0/task:0/device:GPU:0"],
      "peak_bytes": 2**20, "activation_bytes": 64 * 2**20}, False),  # the step's tensors were not on the GPU
])
def test_ops_on_gpu_needs_the_step_on_the_gpu(checks, fake, ok):
    checks.FAKE["t_ops_on_gpu"] = fake
    assert checks.check_ops_on_gpu(1) is ok


@pytest.mark.parametrize("grown, halved, ok", [(2.0 ** 17, 2.0 ** 16, True), (2.0 ** 15, 2.0 ** 14, False),
                                               (2.0 ** 17, 2.0 ** 17, False)])
def test_fp16_loss_scale_must_move(checks, grown, halved, ok):
    checks.FAKE["t_fp16_loss_scale"] = {"status": "finished", "start": 2.0 ** 15, "grown": grown, "halved": halved,
                                        "compute_dtype": "float16"}
    assert checks.check_fp16_loss_scale(1) is ok


def test_the_loss_scale_target_moves_the_scale_on_cpu():
    """The worker target itself, on the CPU (fp16 runs there, slowly): growth and halving as the check expects."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec = importlib.util.spec_from_file_location("gpu_path_checks_target", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out = module.t_fp16_loss_scale({})
    finally:
        sys.path.remove(str(SCRIPT.parent))
    assert (out["start"], out["grown"], out["halved"]) == (2.0 ** 15, 2.0 ** 17, 2.0 ** 16)
    assert out["compute_dtype"] == "float16" and out["status"] == "finished"


def test_warmup_without_a_gpu_is_skipped_without_tensorflow(tmp_path):
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)}  # no nvidia-smi
    done = subprocess.run([sys.executable, str(SCRIPT), "--warmup"], capture_output=True, text=True, timeout=60,
                          env=env)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout.strip().splitlines()[-1])
    assert row == {"check": "warm-up", "ok": None, "detail": "skipped: no GPU"}


@pytest.mark.parametrize("ran, says", [(False, "fails, as the refusal expects"), (True, "the refusal could be lifted"),
                                       (None, "did not finish: TimeoutError")])
def test_nccl_virtual_on_a_gpu_shows_what_nccl_does_on_two_logical_gpus(checks, ran, says):
    checks.FAKE["t_nccl_two_logical"] = (TimeoutError("no answer in 60 s") if ran is None else
                                         {"ran": ran, "detail": "InternalError: ncclInvalidUsage" if not ran
                                          else "sum [2.0, 2.0, 2.0, 2.0]"})
    assert checks.check_nccl_virtual(1) is True
    (row,) = checks.lines()
    assert "scale: exit 2; mnist devices: exit 2" in row["detail"] and says in row["detail"]
