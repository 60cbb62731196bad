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
    cells = [line.split("\t") for line in done.stdout.splitlines()]
    rows = {name: asserts for name, asserts, _ in cells}
    limits = {name: int(limit) for name, _, limit in cells}  # each check's own limit, seconds
    assert all(0 < v <= 60 for v in limits.values())
    assert set(rows) == {"ops_on_gpu", "fp16_loss_scale", "fp16_replicas", "fp16_workers", "xla_replicas",
                         "worker_gpus", "memory_growth", "nccl_virtual", "virtual_gpus", "collective_timeout",
                         "cuda_visible"}
    assert "get_memory_info" in rows["virtual_gpus"] and "loss scale" in rows["fp16_loss_scale"]
    bad = subprocess.run([sys.executable, str(SCRIPT), "--only", "bogus"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "unknown check(s) bogus" in bad.stderr


@pytest.mark.parametrize("name", ["nccl_virtual", "collective_timeout", "xla_replicas", "fp16_workers",
                                  "ops_on_gpu", "fp16_loss_scale", "virtual_gpus", "fp16_replicas"])
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


@pytest.mark.parametrize("ran, says, ok", [(False, "gives no sum, as the refusal expects", True),
                                           (True, "ran, so the refusal is not needed", False),
                                           (None, "did not finish: TimeoutError", True)])
def test_nccl_virtual_needs_the_refusal_and_nccl_failing_there(checks, ran, says, ok):
    """The claim has two halves: refused with exit 2, and NCCL on 2 ranks of one card gives no sum (an error, or a
    hang). NCCL summing there means the refusal is wrong: the check fails."""
    checks.FAKE["t_nccl_two_logical"] = (TimeoutError("no answer in 10 s") if ran is None else
                                         {"ran": ran, "detail": "InternalError: ncclInvalidUsage" if not ran
                                          else "sum [2.0, 2.0, 2.0, 2.0]"})
    assert checks.check_nccl_virtual(1) is ok
    (row,) = checks.lines()
    assert "scale: exit 2; mnist devices: exit 2" in row["detail"] and says in row["detail"]


def test_nccl_virtual_fails_without_the_refusal(checks, monkeypatch):
    from dltool.experiments.scale import ScaleConfig

    monkeypatch.setattr(ScaleConfig, "validate", lambda self: None)  # scale no longer refuses NCCL on virtual GPUs
    checks.FAKE["t_nccl_two_logical"] = {"ran": False, "detail": "InternalError: ncclInvalidUsage"}
    assert checks.check_nccl_virtual(1) is False
    (row,) = checks.lines()
    assert row["detail"].startswith("mnist devices: exit 2;")


@pytest.mark.parametrize("gpus", [0, 1])
def test_collective_timeout_is_a_configuration_check_that_never_passes(checks, gpus):
    """One process cannot withhold a replica to make a timeout fire: the row skips and says it only checked the
    configuration (no timeout unless asked), on a GPU too."""
    assert checks.check_timeout(gpus) is None
    (row,) = checks.lines()
    assert row["detail"].startswith("skipped: cannot be shown in one process")
    assert "configuration check only" in row["detail"] and "(None, None, None)" in row["detail"]


def test_collective_timeout_fails_a_default_that_sets_one(checks, monkeypatch):
    import types

    from dltool.engine import devices

    monkeypatch.setattr(devices, "communication_options", lambda name: types.SimpleNamespace(timeout_seconds=600.0))
    assert checks.check_timeout(1) is False
    (row,) = checks.lines()
    assert "600.0" in row["detail"] and "want none unless asked" in row["detail"]
