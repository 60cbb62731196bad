"""``dltool scale`` from the command line: help, a tiny real run with --json and a run folder, exit codes of bad
input, missing devices, and a worker killed mid-run (exit 1, one clear line)."""

from __future__ import annotations

import json
import re
import time

import pytest

from dltool.experiments.scale import expand_counts

TINY = ["--model", "softmax", "--dataset", "synthetic", "--steps", "8", "--batch-size", "64",
        "--per-learner-batch", "32"]


def test_help(cli):
    result = cli("scale", "--help")
    assert result.exit_code == 0
    for option in ("--strategy", "--gpus", "--virtual", "--mode", "--workers", "--price-per-hour", "--quick"):
        assert option in result.stdout


def test_counts():
    assert expand_counts("4", "--gpus") == [1, 2, 4]
    assert expand_counts("6", "--gpus") == [1, 2, 4, 6]
    assert expand_counts("1", "--gpus") == [1]
    assert expand_counts("8,2,1", "--gpus") == [1, 2, 8]


@pytest.mark.slow  # ≈ 30 s on 2 cores
def test_tiny_run_json_and_run_folder(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("scale", "--gpus", "1,2", "--virtual", *TINY, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["virtual"] is True
    rows = {(r["mode"], r["learners"]): r for r in doc["runs"]}
    assert set(rows) == {("strong", 1), ("weak", 1), ("strong", 2), ("weak", 2)}
    for r in rows.values():
        assert r["throughput"] > 0 and r["step_time"] > 0 and "(virtual)" in r["devices"]
        assert r["cost"] is None  # no price for virtual CPU devices
        assert r["device_hours"] == pytest.approx(r["learners"] * r["training_seconds"] / 3600)
        assert r["wall_seconds"] > 0 and r["training_time_measured"] is False  # 8 steps, not 10 epochs
        assert r["training_time_basis"] == "extrapolated: steps × mean step time"
        assert r["training_seconds"] == pytest.approx(10 * r["steps_per_epoch"] * r["step_time"])
    assert rows[("strong", 1)]["efficiency"] == pytest.approx(1.0)
    assert rows[("weak", 2)]["iteration_time_ratio"] == pytest.approx(
        rows[("weak", 2)]["step_time"] / rows[("weak", 1)]["step_time"])
    assert doc["price_per_hour"] is None and doc["price_source"].startswith("n/a — no price for CPU/virtual")
    assert "t_iter(N)/t_iter(N0)" in doc["definitions"]["iteration_time_ratio"]
    assert doc["report"]["learners"] == [1, 2, 4, 8, 16] and doc["report"]["strong_global_batch"] == 256
    assert any("learners 1, 2" in d for d in doc["differences"])
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 4
    assert saved["price_per_hour"] is None and saved["training_time_basis"].startswith("extrapolated")
    for name in ("throughput.png", "training_time.png", "cost.png", "efficiency.png"):
        assert (out / name).stat().st_size > 10_000


def test_table_labels_wall_time_and_no_price(cli):
    result = cli("scale", "--gpus", "1", "--virtual", "--mode", "strong", *TINY, "--no-save", "--markdown")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "VIRTUAL" in text and "examples/s" in text
    assert "wall, 8 steps (measured)" in text and "10 epochs (extrapolated)" in text
    assert "t_iter(N)/t_iter(1) (report)" in text and "efficiency (conventional)" in text
    assert "n/a (no price)" in text and "no price for CPU/virtual devices" in text
    assert not re.search(r"\$\s*\d", text)  # no dollar amount anywhere


def test_a_full_run_reports_measured_wall_time_and_the_users_price(cli):
    # one epoch of synthetic data (60,000 images) in 10 steps of 6,000: trained in full, so measured
    result = cli("scale", "--gpus", "1", "--virtual", "--mode", "strong", "--model", "softmax", "--dataset",
                 "synthetic", "--epochs", "1", "--batch-size", "6000", "--price-per-hour", "2", "--no-save", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (run,) = doc["runs"]
    assert run["steps"] == run["work_steps"] == 10 and run["training_time_measured"] is True
    assert run["training_seconds"] == run["wall_seconds"] > 0
    assert run["training_time_basis"] == "measured wall time"
    assert doc["price_per_hour"] == 2 and "your price" in doc["price_source"]
    assert run["cost"] == pytest.approx(run["wall_seconds"] / 3600 * 2)


@pytest.mark.parametrize("args, code, words", [
    (["--mode", "sideways"], 2, "mode"),
    (["--gpus", "1,3", "--virtual", "--batch-size", "256"], 2, "multiple of 3"),
    (["--gpus", "two"], 2, "--gpus"),
    (["--model", "vgg16"], 2, "unknown model"),
    (["--dataset", "imagenet"], 2, "unknown dataset"),
    (["--price-per-hour", "-1"], 2, "price"),
    (["--strategy", "multiworker", "--gpus", "2"], 2, "--workers"),
    (["--strategy", "ring"], 2, "strategy"),
    (["--workers", "2"], 2, "multiworker"),
    (["--gpus", "2"], 3, "--virtual"),
])
def test_bad_input_exit_codes(cli, monkeypatch, args, code, words):
    import dltool.engine.devices as devices

    monkeypatch.setattr(devices, "physical_gpus", lambda: 0)  # the exit-3 case needs a machine without GPUs
    result = cli("scale", *args)
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("dltool: error:") and words in lines[-1]


def test_no_gpu_is_reported_before_missing_data(cli, monkeypatch, no_datasets, tmp_path):
    """--gpus 2 without --virtual on a machine with neither GPUs nor data: the command cannot run here whatever
    the data, so that comes first (it used to say the data were missing, then, once fetched, that --virtual was
    needed); with --virtual the next problem is the data. No run folder either way."""
    import dltool.engine.devices as devices

    monkeypatch.setattr(devices, "physical_gpus", lambda: 0)
    for args, words in ((["--gpus", "2"], ("has none", "--virtual")),
                        (["--gpus", "2", "--virtual"], ("fashion-mnist dataset not found", "--data-dir"))):
        result = cli("scale", *args, "--out", str(tmp_path / "run"))
        assert result.exit_code == 3, result.output
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("dltool: error:"), result.stderr
        assert all(w in lines[0] for w in words), lines[0]
        assert not (tmp_path / "run").exists()


def test_bad_tf_config_is_exit_2(cli, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{oops")
    result = cli("scale", "--strategy", "multiworker", *TINY, "--no-save")
    assert result.exit_code == 2 and "TF_CONFIG" in result.stderr


def test_killed_worker_is_exit_1_with_a_clear_message(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("DLTOOL_FAULT", "worker=1,after_steps=3,action=kill")
    t0 = time.monotonic()
    # "2,2": a list, so only the 2-worker cluster runs (a bare "2" would measure 1 worker first)
    result = cli("scale", "--strategy", "multiworker", "--workers", "2,2", "--mode", "strong", "--model", "softmax",
                 "--dataset", "synthetic", "--steps", "100000", "--batch-size", "64", "--out", str(tmp_path / "r"))
    assert result.exit_code == 1, result.output
    message = [ln for ln in result.stderr.splitlines() if ln.startswith("dltool: error:")]
    assert len(message) == 1
    assert "worker 1 of 2" in message[0] and "lost" in message[0] and "SIGKILL" in message[0]
    assert time.monotonic() - t0 < 90
    saved = json.loads((tmp_path / "r" / "results.json").read_text())
    assert saved["status"] == "failed" and "worker 1 of 2" in saved["error"]


def _built_config(cli, monkeypatch, *args):
    """The ScaleConfig the command line builds (nothing trains: launch is replaced by a recorder)."""
    import dltool.cli.sweep as sweep

    seen = {}
    monkeypatch.setattr(sweep, "launch", lambda command, cfg, *a, **k: seen.setdefault("cfg", cfg))
    result = cli("scale", *args)
    assert result.exit_code == 0, result.output
    return seen["cfg"]


def test_no_virtual_overrides_the_quick_preset(cli, monkeypatch):
    """--quick splits devices (virtual) by default; --no-virtual keeps real devices, so a one-GPU check can run
    the real path (device masks, memory growth, price) instead of one logical GPU carved with a memory limit."""
    assert _built_config(cli, monkeypatch, "--quick").virtual is True
    assert _built_config(cli, monkeypatch, "--quick", "--gpus", "1", "--no-virtual").virtual is False
    assert _built_config(cli, monkeypatch, "--gpus", "1", "--virtual").virtual is True
    assert _built_config(cli, monkeypatch, "--gpus", "1").virtual is False
    assert "--no-virtual" in cli("scale", "--help").stdout


@pytest.mark.slow  # one real learner process, ≈ 20 s on 2 cores
def test_quick_one_learner_no_virtual_runs_on_real_devices(cli):
    result = cli("scale", "--quick", "--gpus", "1", "--no-virtual", "--steps", "4", "--json", "--no-save")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["virtual"] is False
    assert {r["learners"] for r in doc["runs"]} == {1}
    assert all("virtual" not in r["devices"] for r in doc["runs"])
