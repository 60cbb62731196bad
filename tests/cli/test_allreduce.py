"""``dltool allreduce`` from the command line: help, a tiny real run with --json and a run folder, exit codes."""

from __future__ import annotations

import json

import pytest


def test_help(cli):
    result = cli("allreduce", "--help")
    assert result.exit_code == 0
    for option in ("--devices", "--implementations", "--communications", "--max-size", "--virtual", "--quick"):
        assert option in result.stdout


def test_tiny_run_json_and_run_folder(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("allreduce", "--devices", "2", "--virtual", "--implementations", "reduction-to-one-device,nccl",
                 "--workers", "0", "--max-size", "64K", "--iterations", "3", "--model", "softmax", "--steps", "4",
                 "--batch-size", "8", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ran = [r for r in doc["bus"] if r["status"] == "ok"]
    assert [r["message"] for r in ran] == ["4 KiB", "16 KiB", "64 KiB", "gradients (2 tensors)"]
    assert all(r["verified"] is True and r["max_error"] == 0 for r in ran)
    assert all(r["busbw"] == pytest.approx(r["algbw"]) for r in ran)  # n = 2: busbw = algbw
    (nccl,) = [r for r in doc["bus"] if r["implementation"] == "nccl"]
    assert nccl["status"] == "unavailable" and "CPU" in nccl["reason"]
    assert doc["memcpy_bandwidth"] > 0 and doc["fits"][0]["bandwidth"] > 0
    trained = [t for t in doc["train"] if t["status"] == "ok"]
    assert len(trained) == 1 and trained[0]["throughput"] > 0 and trained[0]["global_batch"] == 16
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 2
    for name in ("busbw.png", "time_vs_size.png"):
        assert (out / name).stat().st_size > 10_000


def test_table_shows_unavailable_with_reason(cli):
    result = cli("allreduce", "--devices", "2", "--virtual", "--implementations", "nccl", "--workers", "0",
                 "--no-save")
    assert result.exit_code == 0, result.output
    assert "unavailable (note 1)" in result.stdout and "NcclAllReduce has no CPU kernel" in result.stdout


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
