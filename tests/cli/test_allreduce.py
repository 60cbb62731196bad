"""``dltool allreduce`` from the command line: help, a tiny real run with --json and a run folder, exit codes."""

from __future__ import annotations

import json

import pytest


def test_help(cli):
    result = cli("allreduce", "--help")
    assert result.exit_code == 0
    for option in ("--devices", "--implementations", "--communications", "--max-size", "--virtual", "--quick"):
        assert option in result.stdout


@pytest.mark.slow  # ≈ 37 s on 2 cores
def test_quick_fills_vs_one_device_and_compares_with_a_large_memcpy(cli, tmp_path):
    # the quick preset (1 and 2 virtual devices, ≤ 256 KiB, softmax), without its multi-worker part to save time
    out = tmp_path / "run"
    result = cli("allreduce", "--quick", "--implementations", "reduction-to-one-device,nccl", "--workers", "0",
                 "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ran = [r for r in doc["bus"] if r["status"] == "ok"]
    assert [r["message"] for r in ran] == ["4 KiB", "16 KiB", "64 KiB", "256 KiB", "gradients (2 tensors)"]
    assert all(r["verified"] is True and r["max_error"] == 0 for r in ran)
    assert all(r["busbw"] == pytest.approx(r["algbw"]) for r in ran)  # n = 2: busbw = algbw
    (nccl,) = [r for r in doc["bus"] if r["implementation"] == "nccl"]
    assert nccl["status"] == "unavailable" and "CPU" in nccl["reason"]
    # memcpy: a copy far larger than the caches, whatever the largest message (256 KiB here)
    assert doc["memcpy_bytes"] >= 64 << 20 and doc["memcpy_bytes"] > 4 * max(r["bytes"] for r in ran)
    assert doc["memcpy_bandwidth"] > 0 and doc["fits"][0]["bandwidth"] > 0
    assert all(r["memcpy_share"] == pytest.approx(r["busbw"] / doc["memcpy_bandwidth"]) for r in ran)
    trained = {(t["implementation"], t["devices"]): t for t in doc["train"] if t["status"] == "ok"}
    assert set(trained) == {("none", 1), ("reduction-to-one-device", 2)}
    one, two = trained[("none", 1)], trained[("reduction-to-one-device", 2)]
    assert one["global_batch"] == 16 and two["global_batch"] == 32
    assert one["speedup"] == pytest.approx(1.0) and one["efficiency"] == pytest.approx(1.0)
    assert two["speedup"] == pytest.approx(two["throughput"] / one["throughput"])  # "vs 1 device" is filled
    assert two["efficiency"] == pytest.approx(two["speedup"] / 2)
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 3 and saved["memcpy_bytes"] == doc["memcpy_bytes"]
    for name in ("busbw.png", "time_vs_size.png"):
        assert (out / name).stat().st_size > 10_000


def test_table_shows_unavailable_with_reason(cli):
    result = cli("allreduce", "--devices", "2", "--virtual", "--implementations", "nccl", "--workers", "0",
                 "--no-save", "--markdown")
    assert result.exit_code == 0, result.output
    assert "unavailable (note 1)" in result.stdout and "NcclAllReduce has no CPU kernel" in result.stdout
    assert "numpy copy of 256 MiB" in result.stdout and "busbw/memcpy" in result.stdout
    assert "1 is not among the device counts" in result.stdout  # why "vs 1 device" is empty


@pytest.mark.parametrize("args, code, words", [
    (["--max-size", "lots"], 2, "--max-size"),
    (["--min-size", "1M", "--max-size", "4K"], 2, "--min-size"),
    (["--workers", "1"], 2, "--workers"),
    (["--implementations", "magic"], 2, "--implementations"),
    (["--communications", "pigeon"], 2, "--communications"),
    (["--devices", "0"], 2, "--devices"),
    (["--model", "vgg16"], 2, "unknown model"),
    (["--devices", "2"], 3, "--virtual"),
])
def test_bad_input_exit_codes(cli, monkeypatch, args, code, words):
    import dltool.engine.devices as devices

    monkeypatch.setattr(devices, "physical_gpus", lambda: 0)  # the exit-3 case needs a machine without GPUs
    result = cli("allreduce", *args, "--no-save")
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("dltool: error:") and words in lines[-1]


def test_unknown_model_message_names_allreduce(cli):
    # it said "for scale", the command whose model list allreduce shares
    result = cli("allreduce", "--model", "vgg16", "--no-save")
    assert result.exit_code == 2, result.output
    (line,) = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert "unknown model 'vgg16' for allreduce" in line and "for scale" not in line


def test_no_virtual_overrides_the_quick_preset(cli, monkeypatch):
    """--quick splits the devices virtually; --no-virtual asks for real ones, so on a machine without GPUs two
    devices are refused (exit 3, naming --virtual) instead of being carved out of the CPU."""
    import dltool.engine.devices as devices
    from dltool.experiments.allreduce import AllreduceConfig

    monkeypatch.setattr(devices, "physical_gpus", lambda: 0)
    seen = []
    real = AllreduceConfig.from_options.__func__
    monkeypatch.setattr(AllreduceConfig, "from_options",
                        classmethod(lambda cls, *a, **k: seen.append(real(cls, *a, **k)) or seen[-1]))
    result = cli("allreduce", "--quick", "--no-virtual", "--devices", "2", "--workers", "0", "--no-train",
                 "--no-save")
    assert result.exit_code == 3, result.output
    assert seen and seen[-1].virtual is False and "--virtual" in result.stderr.splitlines()[-1]
