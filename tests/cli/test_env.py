"""dltool env: versions, CPU flags, datasets and cached peaks without TensorFlow; NCCL through TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import pytest


def _env_json(extra_env: dict | None = None, *args: str) -> tuple[dict, bool]:
    code = ("import sys, io, contextlib, json\n"
            "from dltool.cli.app import main\n"
            "buf = io.StringIO()\n"
            f"with contextlib.redirect_stdout(buf):\n    code = main(['env', '--json', *{list(args)!r}])\n"
            "print(json.dumps({'code': code, 'doc': json.loads(buf.getvalue()), "
            "'tf': 'tensorflow' in sys.modules}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(extra_env or {})})
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["code"] == 0
    return out["doc"], out["tf"]


def test_env_reports_versions_cpu_and_datasets_without_tensorflow(data_dir):
    doc, imported_tf = _env_json({"DLTOOL_DATA_DIR": str(data_dir)})
    assert imported_tf is False
    assert doc["packages"]["tensorflow"] == metadata.version("tensorflow")
    assert doc["packages"]["keras"] == metadata.version("keras")
    assert doc["packages"]["tensorflow-datasets"] == metadata.version("tensorflow-datasets")
    assert doc["python"] == ".".join(map(str, sys.version_info[:3]))
    assert doc["cpu"]["logical_cores"] == os.cpu_count()
    assert doc["datasets"]["mnist"]["found"] == str(data_dir / "mnist")
    assert doc["datasets"]["cifar10"]["found"] == str(data_dir / "cifar-10-sample")
    assert doc["nccl"]["usable"] is None and "--tensorflow" in doc["nccl"]["detail"]


def test_cpu_flags_come_from_proc_cpuinfo():
    from dltool.envinfo import CPU_FLAGS, cpu_info

    try:
        flags = set(next(row for row in open("/proc/cpuinfo") if row.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):
        pytest.skip("no /proc/cpuinfo flags on this system")
    info = cpu_info()
    assert info["flags"] == {f: f in flags for f in CPU_FLAGS}
    if "amx_bf16" in flags:
        assert "AMX" in info["fast_precision"]
    elif "avx512_bf16" in flags:
        assert "AVX-512 BF16" in info["fast_precision"]
    else:
        assert info["fast_precision"].startswith("fp32")


def test_missing_dataset_says_how_to_provide_it(tmp_path, monkeypatch):
    from dltool import envinfo
    from dltool.data import sources

    monkeypatch.setenv("DLTOOL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(sources, "SYSTEM_DATA_DIR", tmp_path / "system")
    found = envinfo.dataset_locations()
    assert set(found) == {"mnist", "fashion-mnist", "cifar10"}
    for entry in found.values():
        assert entry["found"] is None and "--data-dir" in entry["how"] and "DLTOOL_DATA_DIR" in entry["how"]
    assert "apt install dataset-fashion-mnist" in found["fashion-mnist"]["how"]


def test_peaks_come_from_the_cache_or_say_how_to_measure(tmp_path, monkeypatch, cli):
    from dltool.engine import peak

    monkeypatch.setenv("DLTOOL_CACHE_DIR", str(tmp_path))
    empty = json.loads(cli("env", "--json").stdout)
    assert empty["peaks"] == {peak.cpu_name(): {}} and "dltool env --measure" in empty["peak_hint"]
    entry = {"flops": 2.5e11, "n": 4096, "measured": "2026-01-01T00:00:00"}
    (tmp_path / peak.CACHE_FILE).write_text(json.dumps({peak.cpu_name(): {"fp32": entry}}))
    cached = json.loads(cli("env", "--json").stdout)
    assert cached["peaks"][peak.cpu_name()]["fp32"] == entry
    table = cli("env").stdout
    assert "0.25 TFLOP/s" in table


def test_nccl_is_checked_through_tensorflow(data_dir):
    doc, imported_tf = _env_json({"DLTOOL_DATA_DIR": str(data_dir)}, "--tensorflow")
    assert imported_tf is True
    assert doc["tensorflow_build"].get("is_cuda_build") in (True, False)
    if doc["gpus"]:
        assert doc["nccl"]["usable"] is True, doc["nccl"]
    else:  # NCCL has no CPU kernel: a clear "no" with the reason
        assert doc["nccl"]["usable"] is False and "no GPU" in doc["nccl"]["detail"]


def test_env_help_and_bad_format(cli):
    assert cli("env", "--help").exit_code == 0
    bad = cli("env", "--json", "--markdown")
    assert bad.exit_code == 2 and "only use one of" in bad.stderr


@pytest.mark.slow  # measures fp32 and bf16 matmuls: ≈ 20 s on 2 cores
def test_measure_fills_the_cache_with_real_peaks(cli):
    from dltool.engine import peak

    result = cli("env", "--measure", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    cpu = doc["peaks"][peak.cpu_name()]
    assert set(cpu) >= {"fp32", "bf16"} and all(entry["flops"] > 1e9 for entry in cpu.values())
    assert cpu["fp32"]["flops"] == peak.cached_peaks()["fp32"]["flops"]  # cached: a second env reads it back
    if not doc["gpus"]:
        assert doc["peak_hint"] is None
