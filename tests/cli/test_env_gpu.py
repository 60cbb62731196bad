"""dltool env on GPU machines, with a fake nvidia-smi and fake TensorFlow build facts: compute capability, the
code each GPU runs (machine code or PTX JIT), the driver version and the warnings (old driver, JIT on first use).

TensorFlow 2.21's wheel carries sm_60, sm_70, sm_80, sm_89 machine code and compute_90 PTX, CUDA 12.5.1: an A100
(8.0) runs sm_80 code, an H100 (9.0) JIT-compiles the compute_90 PTX on first use.
"""

from __future__ import annotations

import json

import pytest

TF_221 = {"cuda_compute_capabilities": ["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"], "cuda_version": "12.5.1",
          "cudnn_version": "9", "is_cuda_build": True}
H100 = "NVIDIA H100 80GB HBM3, 81559, 9.0, {driver}"
A100 = "NVIDIA A100-SXM4-40GB, 40960, 8.0, {driver}"


@pytest.fixture
def fake_gpus(tmp_path, monkeypatch):
    """Put a fake nvidia-smi that prints ``lines`` on PATH and the TF 2.21 build facts in place of the wheel's."""
    from dltool import envinfo

    monkeypatch.setattr(envinfo, "build_info", lambda: dict(TF_221))

    def install(*lines: str, driver: str = "560.35.03"):
        smi = tmp_path / "nvidia-smi"
        body = "\n".join(line.format(driver=driver) for line in lines)
        smi.write_text(f"#!/bin/sh\ncat <<'EOF'\n{body}\nEOF\n")
        smi.chmod(0o755)
        monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")

    return install


def test_code_kind_follows_cuda_binary_and_ptx_compatibility():
    from dltool.envinfo import code_kind

    arches = TF_221["cuda_compute_capabilities"]
    assert code_kind("8.0", arches) == ("machine_code", "sm_80")  # A100
    assert code_kind("8.6", arches) == ("machine_code", "sm_80")  # RTX 3090: an sm_80 cubin runs on 8.6
    assert code_kind("8.9", arches) == ("machine_code", "sm_89")  # L4, RTX 4090
    assert code_kind("7.5", arches) == ("machine_code", "sm_70")  # T4
    assert code_kind("9.0", arches) == ("ptx_jit", "compute_90")  # H100, H200
    assert code_kind("12.0", arches) == ("ptx_jit", "compute_90")  # RTX 5090: PTX of a lower capability JITs
    assert code_kind("5.2", arches) == ("none", None)  # Maxwell: below every cubin and the PTX
    assert code_kind("9.0", ["sm_90a"]) == ("machine_code", "sm_90a")
    assert code_kind("9.1", ["sm_90a"]) == ("none", None)  # an arch-specific cubin runs on its capability only
    assert code_kind(None, arches) == (None, None) and code_kind("9.0", []) == (None, None)


def test_build_info_is_read_from_the_wheel_without_importing_tensorflow():
    import subprocess
    import sys

    code = ("import json, sys; from dltool.envinfo import build_info; "
            "print(json.dumps([build_info(), 'tensorflow' in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    info, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert imported is False
    import tensorflow as tf

    assert info == {k: (list(v) if isinstance(v, tuple) else v) for k, v in tf.sysconfig.get_build_info().items()}


def test_h100_jit_compiles_ptx_and_dltool_says_so(fake_gpus, cli):
    fake_gpus(H100)
    result = cli("env", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["build_compute_capabilities"] == TF_221["cuda_compute_capabilities"]
    assert doc["driver_version"] == "560.35.03"
    gpu = doc["gpus"][0]
    assert (gpu["compute_capability"], gpu["code_kind"], gpu["code"]) == ("9.0", "ptx_jit", "compute_90")
    assert len(doc["warnings"]) == 1 and "could take 30 minutes or longer" in doc["warnings"][0]
    assert "older than" not in doc["warnings"][0]  # 560 runs CUDA 12.5's PTX
    table = cli("env").stdout
    assert "JIT-compiles compute_90 PTX" in table and "30 minutes" in table and "560.35.03" in table


def test_a100_runs_machine_code_without_warnings(fake_gpus, cli):
    fake_gpus(A100, A100)
    doc = json.loads(cli("env", "--json").stdout)
    assert [(g["index"], g["code_kind"], g["code"]) for g in doc["gpus"]] == [(0, "machine_code", "sm_80"),
                                                                               (1, "machine_code", "sm_80")]
    assert doc["warnings"] == []
    assert "runs machine code (sm_80)" in cli("env").stdout


def test_a_driver_older_than_cuda_12_is_a_warning(fake_gpus, cli):
    fake_gpus(A100, driver="520.61.05")
    doc = json.loads(cli("env", "--json").stdout)
    assert doc["driver_version"] == "520.61.05"
    assert len(doc["warnings"]) == 1 and "older than 525.60.13" in doc["warnings"][0]
    assert "update the NVIDIA driver" in doc["warnings"][0]


def test_ptx_from_cuda_12_5_needs_its_driver(fake_gpus, cli):
    fake_gpus(H100, driver="535.54.03")  # enough for CUDA 12.x machine code, too old for CUDA 12.5's PTX
    doc = json.loads(cli("env", "--json").stdout)
    old = [w for w in doc["warnings"] if "older than" in w]
    assert len(old) == 1 and "555.42.02" in old[0] and "PTX" in old[0]
    assert any("30 minutes" in w for w in doc["warnings"])


def test_no_gpu_no_driver_no_code_kind(tmp_path, monkeypatch, cli):
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")  # no nvidia-smi here
    doc = json.loads(cli("env", "--json").stdout)
    assert doc["driver_version"] is None and doc["gpus"] == [] and doc["warnings"] == []


def test_a_driver_without_compute_cap_still_shows_and_is_warned_about(tmp_path, monkeypatch, cli):
    """R470 does not know --query-gpu=compute_cap and refuses the whole query: the GPUs still show, with their
    driver, and the driver's age is the warning."""
    from dltool import envinfo

    monkeypatch.setattr(envinfo, "build_info", lambda: dict(TF_221))
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\ncase \"$*\" in\n  *compute_cap*) echo 'Field \"compute_cap\" is not a valid field to "
                   "query.'; exit 2 ;;\nesac\necho 'Tesla T4, 15109, 470.182.03'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    doc = json.loads(cli("env", "--json").stdout)
    assert doc["driver_version"] == "470.182.03"
    assert [(g["name"], g["memory_mib"], g["compute_capability"], g["code_kind"]) for g in doc["gpus"]] == [
        ("Tesla T4", 15109, None, None)]
    assert any("older than 525.60.13" in w for w in doc["warnings"])


def test_tensorflow_seeing_no_gpu_keeps_the_driver_warning(tmp_path, monkeypatch, cli):
    """`env --tensorflow` where TensorFlow sees no GPU (this machine: TensorFlow on the CPU) but nvidia-smi lists a
    V100 on driver 470: the driver is too old for the CUDA 12 build, which is why TensorFlow sees none; the warning
    stays and the note names the driver, not a missing tensorflow[and-cuda]."""
    import tensorflow as tf

    from dltool import envinfo

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("TensorFlow sees a GPU here: the case needs one it cannot see")
    monkeypatch.setattr(envinfo, "build_info", lambda: dict(TF_221))
    monkeypatch.setattr(envinfo, "nccl_check_subprocess", lambda: {"usable": False, "detail": "no GPU (fake)"})
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\ncase \"$*\" in\n  *compute_cap*) echo 'Field \"compute_cap\" is not a valid field to "
                   "query.'; exit 2 ;;\nesac\necho 'Tesla V100-SXM2-16GB, 16160, 470.182.03'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    plain = json.loads(cli("env", "--json").stdout)
    result = cli("env", "--tensorflow", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["gpus"] == [] and doc["driver_version"] == "470.182.03"
    old = [w for w in doc["warnings"] if "older than 525.60.13" in w]
    assert len(old) == 1 and old == [w for w in plain["warnings"] if "older than 525.60.13" in w]
    (note,) = [n for n in doc["notes"] if "TensorFlow does not" in n]
    assert "driver 470.182.03 is the likely reason" in note and "and-cuda" not in note
