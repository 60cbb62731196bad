"""benchmarks/gpu_check.sh without a GPU: syntax, --dry-run, --rows, the no-GPU exit, and its row logic on
stand-ins.

The stand-ins (a fake ``nvidia-smi`` that lists N GPUs and reports a utilisation, and a fake ``dltool`` that prints
canned JSON, shaped like what the real commands print) test the script's own logic — which rows run, what each
row requires of what the run wrote, the table and the exit code — not dltool's GPU paths, which only a GPU machine
can test (the script has not run on one yet).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.sh"
ROWS = ["env", "mnist-fp16", "mnist-bf16", "scale-1gpu", "scale-2virtual", "allreduce-nccl",
        "allreduce-hierarchical", "cutout"]

FAKE_DLTOOL = r'''
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
mode = os.environ.get("STUB_MODE", "ok").split(",")
log = os.environ.get("STUB_LOG")
if log:
    with open(log, "a") as f:
        f.write(" ".join(args) + "\n")
out = Path(args[args.index("--out") + 1]) if "--out" in args else None
device = "CPU" if "cpu-fp16" in mode and "fp16" in args else "GPU"
precision = args[args.index("--precision") + 1] if "--precision" in args else "fp32"
env = {"devices": {"device_type": device}, "precision": precision}
if args[:2] == ["scale", "--help"]:
    print("Usage: dltool scale [OPTIONS]\n  --virtual" + ("\n  --no-virtual" if "no-virtual" in mode else ""))
    sys.exit()
if args[0] == "env":
    gpus = [] if "tf-no-gpu" in mode else [{"index": 0, "name": "Fake GPU", "compute_capability": "9.0",
                                            "code_kind": "ptx_jit", "code": "compute_90"}]
    warnings = ["GPU 0: driver 535.54.03 is older than 555.42.02"] if "old-driver" in mode else []
    doc = {"gpus": gpus, "driver_version": "560.35.03", "warnings": warnings,
           "nccl": {"usable": "nccl-broken" not in mode, "detail": "fake NCCL"}}
elif args[0] == "mnist":
    doc = {"runs": [{"test_accuracy": 0.9903, "train_seconds": 4.2, "status": "target reached"}], "environment": env}
elif args[0] == "scale":
    n = 2 if "2" in args[args.index("--gpus") + 1] else 1
    doc = {"runs": [{"devices": f"{k} × GPU", "learners": k, "virtual": "--virtual" in args, "throughput": 1000.0 * k,
                     "status": "finished"} for k in range(1, n + 1)], "environment": env}
elif args[0] == "allreduce":
    impl = args[args.index("--implementations") + 1]
    # as AllreduceConfig decides: --quick's preset splits the devices virtually unless --no-virtual is given
    virtual = "--virtual" in args or ("--quick" in args and "--no-virtual" not in args)
    row = {"strategy": "mirrored", "implementation": impl, "devices": 2, "virtual": virtual, "status": "ok",
           "verified": True, "busbw": 2e9}
    if impl == "nccl" and virtual:  # what allreduce reports for NCCL on logical GPUs of one card
        row.update(status="unavailable", verified=None, busbw=None,
                   reason="NCCL cannot put several ranks on one physical GPU (the devices are virtual)")
    if impl == "nccl" and "nccl-broken" in mode:
        print("dltool: error: the devices-2 process failed: NcclAllReduce: ncclSystemError: unhandled system error",
              file=sys.stderr)
        sys.exit(1)
    if impl == "nccl" and "nccl-wrong" in mode:
        row.update(status="WRONG SUM", verified=False)
    doc = {"bus": [row], "device_type": "GPU"}
else:
    doc = {"runs": [{"status": "finished", "final_val_accuracy": 0.1 if "cutout-low" in mode else 0.25},
                    {"status": "finished", "final_val_accuracy": 0.26}], "environment": env}
if out:
    out.mkdir(parents=True)
    (out / "results.json").write_text(json.dumps({"environment": env, **doc}))
print(json.dumps(doc))
'''

FAKE_PATH_CHECKS = r'''
import json, sys
import os, time
CHECKS = {"fake_fp16_matmul": "an fp16 matmul on the GPU equals numpy's", "fake_two_gpus": "needs 2 physical GPUs",
          "fake_hang": "hangs when STUB_MODE has path-hang"}
if "--list" in sys.argv:
    for name, asserts in CHECKS.items():
        print(f"{name}\t{asserts}\t{3 if name == 'fake_hang' else 20}")
    sys.exit()
if "--warmup" in sys.argv:
    print(json.dumps({"check": "warm-up", "ok": True, "detail": "on GPU; fp32 first 12.0 s, warm 0.01 s"}))
    sys.exit()
only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else list(CHECKS)
rows = {"fake_fp16_matmul": (True, "1.0 == 1.0"), "fake_two_gpus": (None, "skipped: needs 2 physical GPUs"),
        "fake_hang": (True, "did not hang")}
for name in only:
    if name == "fake_hang" and "path-hang" in os.environ.get("STUB_MODE", ""):
        time.sleep(30)
    ok, detail = rows[name]
    print(json.dumps({"check": name, "ok": ok, "detail": detail}))
'''


def _env(tmp_path, mode="ok", path_checks=True, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update({"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "PYTHON": sys.executable,
                "STUB_LOG": str(tmp_path / "calls"), "DLTOOL": f"{sys.executable} {tmp_path / 'fake_dltool.py'}",
                "STUB_MODE": mode,
                "GPU_CHECK_PATH_CHECKS": str(tmp_path / ("fake_path_checks.py" if path_checks else "absent.py")),
                **extra})
    return env


def _run(tmp_path, *args, fake_gpu=True, gpus=1, util=40, mode="ok", path_checks=True, extra_env=None,
         timeout=120, query=""):
    """``query``: what the fake nvidia-smi answers to ``--query-gpu=name,…`` (real ``dltool env`` asks it); its
    utilisation queries are logged to ``smi_calls``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if fake_gpu:
        smi = bin_dir / "nvidia-smi"
        listing = "\n".join(f"GPU {i}: Fake GPU (UUID: GPU-{i})" for i in range(gpus))
        smi.write_text(f"#!/bin/sh\ncase \"$*\" in\n"
                       f"  *utilization*) echo \"$*\" >>'{tmp_path / 'smi_calls'}'; "
                       f"echo '{0 if isinstance(util, int) else util}'; echo '{util}' ;;\n"
                       "  *compute_cap*) echo 'Field \"compute_cap\" is not a valid field to query.'; exit 2 ;;\n"
                       f"  *query-gpu=name*) echo '{query}' ;;\n"
                       f"  *) cat <<'EOF'\n{listing}\nEOF\n;;\nesac\n")
        smi.chmod(0o755)
    (tmp_path / "fake_dltool.py").write_text(FAKE_DLTOOL)
    (tmp_path / "fake_path_checks.py").write_text(FAKE_PATH_CHECKS)
    env = _env(tmp_path, mode, path_checks, **(extra_env or {}))
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=timeout)


def _calls(tmp_path) -> list[str]:
    log = tmp_path / "calls"
    return log.read_text().splitlines() if log.exists() else []


def _table(stdout: str) -> dict[str, str]:
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[1] in ("PASS", "FAIL", "SKIP"):
            rows[cells[0]] = cells[1]
    return rows


def _detail(stdout: str, row: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(f"| {row} "))


def test_syntax():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_dry_run_lists_every_row_with_what_it_asserts(tmp_path):
    done = _run(tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for row in ROWS + ["warm-up"]:
        assert any(line.startswith(f"{row} ") for line in out.splitlines()), row
    assert "dltool scale --quick --gpus 1 --no-virtual" in out and "one physical GPU, not virtual" in out
    assert "dltool cutout train --quick" in out and "validation accuracy >= 0.18" in out
    assert "test accuracy >= 0.98" in out and "nvidia-smi saw it busy" in out
    assert "skipped on 1 GPU" in out and "untimed, outside the budget" in out
    # the path checks' own rows, each with what it asserts (from gpu_path_checks.py --list)
    assert "fake_fp16_matmul" in out and "an fp16 matmul on the GPU equals numpy's" in out
    assert "total budget: 480s" in out
    assert _calls(tmp_path) == []  # a dry run runs nothing


def test_dry_run_lists_the_real_path_checks(tmp_path):
    real = SCRIPT.parent / "gpu_path_checks.py"
    out = _run(tmp_path, "--dry-run", extra_env={"GPU_CHECK_PATH_CHECKS": str(real)}).stdout
    for name in ("ops_on_gpu", "fp16_loss_scale", "virtual_gpus", "nccl_virtual"):
        assert any(line.startswith(f"{name} ") for line in out.splitlines()), name
    assert "get_memory_info" in out


def test_row_and_check_limits_fit_the_budget_on_one_gpu(tmp_path):
    """Every row and every path check has its own limit; on one GPU (the nccl row and fp16_workers skip) the rows
    after env (which runs before the budget's clock) and the checks add up to the 480 s budget at most."""
    real = SCRIPT.parent / "gpu_path_checks.py"
    out = _run(tmp_path, "--dry-run", extra_env={"GPU_CHECK_PATH_CHECKS": str(real)}).stdout
    checks = subprocess.run([sys.executable, str(real), "--list"], capture_output=True, text=True,
                            timeout=60).stdout
    names = [line.split("\t")[0] for line in checks.splitlines()]
    limits = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in ROWS + names and parts[1].endswith("s"):
            limits[parts[0]] = int(parts[1][:-1])
    assert set(limits) == set(ROWS + names) and len(names) == 11
    one_gpu = sum(v for k, v in limits.items() if k not in ("env", "allreduce-nccl", "fp16_workers"))
    assert one_gpu <= 480
    assert all(limits[name] <= 60 for name in names)
    doubled = _run(tmp_path, "--dry-run", extra_env={"GPU_CHECK_LIMIT_FACTOR": "2"}).stdout
    assert any(line.split()[:2] == ["cutout", "150s"] for line in doubled.splitlines() if line.strip())


def test_rows_filters_the_dry_run_and_the_run(tmp_path):
    dry = _run(tmp_path, "--dry-run", "--rows", "cutout,fake_two_gpus").stdout
    assert "cutout " in dry and "mnist-fp16" not in dry and "fake_two_gpus" in dry and "fake_fp16_matmul" not in dry
    done = _run(tmp_path, "--rows", "mnist-bf16,fake_fp16_matmul")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _table(done.stdout) == {"env": "PASS", "mnist-bf16": "PASS", "fake_fp16_matmul": "PASS"}
    assert [c.split()[0] for c in _calls(tmp_path)] == ["env", "mnist"]


def test_rows_rejects_an_unknown_name(tmp_path):
    done = _run(tmp_path, "--rows", "mnist-fp16,bogus")
    assert done.returncode == 2 and "no row named 'bogus'" in done.stderr and "mnist-fp16" in done.stderr


def test_no_gpu_says_so_and_exits_3(tmp_path):
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has nvidia-smi: the no-GPU path cannot be seen here")
    done = _run(tmp_path, fake_gpu=False)
    assert done.returncode == 3
    assert "no NVIDIA GPU" in done.stderr and "--dry-run" in done.stderr and done.stdout == ""


@pytest.mark.slow  # the real env: two TensorFlow imports, ≈ 30 s on 2 cores
def test_tensorflow_without_the_gpu_exits_3_with_envs_warning(tmp_path):
    """The real `dltool env --tensorflow` (TensorFlow on this machine sees no GPU) with nvidia-smi reporting a V100
    on driver 470, too old for the CUDA 12 build: the script stops with exit 3 and passes env's warning on."""
    done = _run(tmp_path, query="Tesla V100-SXM2-16GB, 16160, 470.182.03",
                extra_env={"DLTOOL": f"{sys.executable} -m dltool"})
    assert done.returncode == 3, done.stdout + done.stderr
    assert "TensorFlow does not" in done.stderr and "[gpu]" in done.stderr
    assert "dltool env warns: driver 470.182.03 is older than 525.60.13" in done.stderr  # the likely reason


def test_one_gpu_passes_and_skips_nccl_instead_of_failing_it(tmp_path):
    done = _run(tmp_path, mode="ok,no-virtual")
    assert done.returncode == 0, done.stdout + done.stderr
    table = _table(done.stdout)
    assert table == {**{row: "PASS" for row in ROWS}, "allreduce-nccl": "SKIP", "warm-up": "PASS",
                     "fake_fp16_matmul": "PASS", "fake_two_gpus": "SKIP", "fake_hang": "PASS"}
    assert "skipped: NCCL all-reduce needs ≥ 2 physical GPUs" in _detail(done.stdout, "allreduce-nccl")
    assert not any("nccl" in c for c in _calls(tmp_path))  # nothing ran for it
    assert "all passed" in done.stdout
    # dltool's log level hides TensorFlow's PTX JIT warning: the script says it (the fake GPU is cc 9.0)
    assert "could take 30 minutes or longer" in done.stderr and "first use took" in done.stdout


def test_two_gpus_run_nccl_on_them_and_need_a_measured_row(tmp_path):
    done = _run(tmp_path, "--rows", "allreduce-nccl", gpus=2, path_checks=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _table(done.stdout)["allreduce-nccl"] == "PASS"
    (call,) = [c for c in _calls(tmp_path) if "nccl" in c]
    # neither --virtual nor --quick, whose preset splits the devices virtually (then NCCL is "unavailable")
    assert not {"--virtual", "--quick"} & set(call.split()) and "--devices 2" in call


@pytest.mark.parametrize("mode, says", [("nccl-broken", "ncclSystemError"), ("nccl-wrong", "WRONG SUM")])
def test_broken_nccl_fails_its_row(tmp_path, mode, says):
    done = _run(tmp_path, "--rows", "allreduce-nccl", gpus=2, mode=mode, path_checks=False)
    assert done.returncode == 1
    assert _table(done.stdout)["allreduce-nccl"] == "FAIL" and says in _detail(done.stdout, "allreduce-nccl")


def test_a_visible_devices_mask_of_one_gpu_skips_nccl(tmp_path):
    done = _run(tmp_path, "--rows", "allreduce-nccl", gpus=2, path_checks=False,
                extra_env={"CUDA_VISIBLE_DEVICES": "1"})
    assert _table(done.stdout)["allreduce-nccl"] == "SKIP", done.stdout + done.stderr


def test_scale_without_no_virtual_is_skipped_not_run_virtually(tmp_path):
    done = _run(tmp_path, "--rows", "scale-1gpu", path_checks=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _table(done.stdout)["scale-1gpu"] == "SKIP"
    assert "needs `scale --no-virtual`, not in this version" in _detail(done.stdout, "scale-1gpu")
    assert [c for c in _calls(tmp_path) if c.startswith("scale")] == ["scale --help"]


def test_an_idle_gpu_fails_the_training_rows(tmp_path):
    done = _run(tmp_path, "--rows", "mnist-fp16,cutout", util=0, path_checks=False)
    assert done.returncode == 1
    table = _table(done.stdout)
    assert table["mnist-fp16"] == "FAIL" and "GPU idle while it ran" in _detail(done.stdout, "mnist-fp16")


def test_no_utilisation_reported_is_cannot_tell_not_idle(tmp_path):
    """nvidia-smi prints [N/A] for utilisation on MIG slices and some vGPUs: that is no evidence of an idle GPU."""
    done = _run(tmp_path, "--rows", "mnist-fp16,scale-1gpu", util="[N/A]", mode="ok,no-virtual", path_checks=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _table(done.stdout) == {"env": "PASS", "mnist-fp16": "PASS", "scale-1gpu": "PASS"}
    assert "GPU busy: cannot tell" in _detail(done.stdout, "mnist-fp16")


@pytest.mark.parametrize("mask, gpu", [(None, "0"), ("1", "1"), ("GPU-1,GPU-0", "GPU-1")])
def test_utilisation_is_sampled_on_the_gpu_the_row_uses(tmp_path, mask, gpu):
    extra = {"CUDA_VISIBLE_DEVICES": mask} if mask else {}
    done = _run(tmp_path, "--rows", "mnist-fp16", gpus=2, path_checks=False, extra_env=extra)
    assert done.returncode == 0, done.stdout + done.stderr
    (call,) = (tmp_path / "smi_calls").read_text().splitlines()
    assert f"-i {gpu} " in f"{call} "


def test_a_path_check_past_its_limit_is_named_and_the_others_run(tmp_path):
    done = _run(tmp_path, "--rows", "fake_fp16_matmul,fake_hang,fake_two_gpus", mode="ok,path-hang")
    assert done.returncode == 1
    assert _table(done.stdout) == {"env": "PASS", "fake_fp16_matmul": "PASS", "fake_hang": "FAIL",
                                   "fake_two_gpus": "SKIP"}
    assert "timed out after 3s" in _detail(done.stdout, "fake_hang")


def test_a_spent_budget_names_each_check_not_run(tmp_path):
    done = _run(tmp_path, "--rows", "path-checks", extra_env={"GPU_CHECK_BUDGET_S": "5"})
    assert done.returncode == 1
    table = _table(done.stdout)
    assert table == {"env": "PASS", "fake_fp16_matmul": "FAIL", "fake_two_gpus": "FAIL", "fake_hang": "FAIL"}
    assert all("not run: the 5s budget was spent" in _detail(done.stdout, name)
               for name in ("fake_fp16_matmul", "fake_two_gpus", "fake_hang"))


def test_cutout_below_its_accuracy_threshold_fails(tmp_path):
    done = _run(tmp_path, "--rows", "cutout", mode="cutout-low", path_checks=False)
    assert done.returncode == 1
    assert _table(done.stdout)["cutout"] == "FAIL" and "want each >= 0.18" in _detail(done.stdout, "cutout")


def test_a_driver_too_old_fails_the_env_row(tmp_path):
    done = _run(tmp_path, "--rows", "env", mode="old-driver", path_checks=False)
    assert done.returncode == 1
    assert _table(done.stdout)["env"] == "FAIL" and "older than 555.42.02" in _detail(done.stdout, "env")


def test_a_run_off_the_gpu_fails_its_row_and_the_script(tmp_path):
    done = _run(tmp_path, mode="cpu-fp16", path_checks=False)
    assert done.returncode == 1
    table = _table(done.stdout)
    assert table["mnist-fp16"] == "FAIL" and table["mnist-bf16"] == "PASS"
    assert "device CPU" in done.stdout and "FAILED" in done.stdout


def test_bad_option_is_exit_2(tmp_path):
    done = _run(tmp_path, "--bogus")
    assert done.returncode == 2 and "unknown option --bogus" in done.stderr
