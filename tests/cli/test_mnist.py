"""dltool mnist …: --help, the --quick preset of every study with --json (and a run folder), and the exit code
of each kind of bad input. Real MNIST from ../shared/datasets, tiny subsets."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dltool.cli.app import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_help_lists_every_study():
    result = invoke("mnist", "--help")
    assert result.exit_code == 0
    for name in ("softmax", "cnn", "filters", "mlp", "devices", "workers"):
        assert name in result.stdout
    text = " ".join(invoke("mnist", "cnn", "--help").stdout.split())
    for needle in ("fast99", "--target-accuracy", "0.9827", "--preset"):
        assert needle in text, needle
    text = " ".join(invoke("mnist", "softmax", "--help").stdout.split())
    assert "Adadelta 0.5/0.01/0.9/3/9" in text and "--loss" in text


def test_softmax_quick_json_and_run_folder(mnist_dir, tmp_path):
    out = tmp_path / "softmax"
    result = invoke("mnist", "softmax", "--quick", "--json", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    runs = doc["runs"]
    assert [(r["optimizer"], r["lr"]) for r in runs] == [("gd", 0.5), ("adam", 0.01), ("adam", 0.1),
                                                         ("rmsprop", 0.5)]
    assert all(r["steps"] == 200 for r in runs)
    assert runs[0]["test_accuracy"] > 0.85 and runs[0]["reference"] == 0.9079
    assert doc["data"]["train"] == 10_000 and doc["data"]["test"] == 2_000
    assert doc["engines_built"] == 3
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 4 and saved["command"] == "mnist softmax"
    assert (out / "loss_curves.png").stat().st_size > 20_000 and (out / "accuracy.png").exists()


def test_cnn_quick(mnist_dir, tmp_path):
    result = invoke("mnist", "cnn", "--quick", "--json", "--out", str(tmp_path / "cnn"))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["preset"] == "quick" and [r["batch_size"] for r in doc["runs"]] == [100, 50]
    for run in doc["runs"]:
        assert run["params"] == 3_274_634 and run["steps"] == 2_000 // run["batch_size"]
        assert 0.3 < run["test_accuracy"] <= 1 and run["train_seconds"] > 0 and run["images_per_second"] > 0
    assert (tmp_path / "cnn" / "batch_sweep.png").exists()


def test_cnn_fast99_quick_target(mnist_dir):
    result = invoke("mnist", "cnn", "--preset", "fast99", "--quick", "--target-accuracy", "0.7", "--json",
                    "--no-save")
    assert result.exit_code == 0, result.stderr
    (run,) = json.loads(result.stdout)["runs"]
    assert run["model"] == "fast" and run["status"] == "target reached" and run["time_to_target"] > 0


def test_filters_quick(mnist_dir):
    result = invoke("mnist", "filters", "--quick", "--json", "--no-save")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    by_key = {(r["filters"], r["lr"]): r for r in doc["runs"]}
    assert set(by_key) == {(8, 0.1), (8, 0.01), (16, 0.1)}
    assert by_key[(8, 0.1)]["sweeps"] == "lr+filters"
    assert by_key[(8, 0.1)]["params"] == 52_258 and by_key[(16, 0.1)]["params"] == 104_250


def test_mlp_quick_markdown(mnist_dir):
    result = invoke("mnist", "mlp", "--quick", "--studies", "depth", "--markdown", "--no-save")
    assert result.exit_code == 0, result.stderr
    assert "| (25, 25, 25, 25)" in result.stdout and "784-100-10" in result.stdout


def test_mlp_quick_json(mnist_dir, tmp_path):
    result = invoke("mnist", "mlp", "--quick", "--json", "--out", str(tmp_path / "mlp"))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["runs"]) == 8 and doc["runs"][0]["params"] == 79_510
    assert all(len(r["epochs"]) == 1 for r in doc["runs"])
    for name in ("studies.png", "base_accuracy.png", "gallery.png", "report.png"):
        assert (tmp_path / "mlp" / name).exists(), name
    # report 003's numbers: a reference field per run, with its section, and one row each beside ours.
    refs = {r["name"]: {(x["source"], x["quantity"], x["value"]) for x in r["reference"]} for r in doc["runs"]}
    assert ("report 003, Q2", "test_accuracy", 0.965) in refs["α₀/(1+0.1k), k = epoch"]
    assert ("report 003, Q5", "mean_abs_weight", 0.002) in refs["L1 0.05 (λ·Σ|w|/50)"]
    assert ("report 003, Q6 (vanilla)", "test_accuracy", 0.965) in refs["base: (100), SGD, L2"]
    assert len(doc["references"]) == 16
    assert doc["config"]["l1_definition"] == "report" and doc["config"]["decay_unit"] == "epoch"


def test_mlp_options_reach_the_runs(mnist_dir):
    result = invoke("mnist", "mlp", "--quick", "--studies", "schedule,sparsity", "--l1-definition", "sum",
                    "--decay-unit", "step", "--epochs", "2", "--subset", "1000", "--json", "--no-save")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["config"]["epochs"] == 2 and all(len(r["epochs"]) == 2 for r in doc["runs"])
    names = [r["name"] for r in doc["runs"]]
    assert "α₀/(1+0.1k), k = step" in names and "L1 0.05 (λ·Σ|w|)" in names
    (l1,) = [r for r in doc["runs"] if r["l1"]]
    assert l1["l1_definition"] == "sum"


def test_mlp_markdown_shows_the_report_beside_ours(mnist_dir):
    result = invoke("mnist", "mlp", "--quick", "--studies", "norm", "--markdown", "--no-save")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "report 003's numbers beside ours" in out and "report 003, Q6 (vanilla)" in out
    assert "0.956 (Q1) and 0.965 (Q6)" in " ".join(out.split())


@pytest.mark.slow
def test_devices_quick(mnist_dir):
    result = invoke("mnist", "devices", "--quick", "--json", "--no-save")
    assert result.exit_code == 0, result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert [(r["devices"], r["batch_size"]) for r in runs] == [(1, 4), (1, 16), (2, 4), (2, 16)]
    assert [r["virtual"] for r in runs] == [False, False, True, True]
    assert runs[2]["label"] == "2 × CPU (virtual)" and runs[2]["per_device_batch"] == 2
    assert all(r["step_ms"] > 0 and r["speedup"] > 0 for r in runs)


@pytest.mark.slow
def test_workers_quick(mnist_dir):
    result = invoke("mnist", "workers", "--quick", "--json", "--no-save")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    runs = doc["runs"]
    assert (doc["config"]["model"], doc["config"]["l2"], doc["config"]["shards"]) == ("mlp", 0.01, "random")
    assert [r["workers"] for r in runs] == [1, 2]
    assert [r["shard_size"] for r in runs] == [6_000, 3_000]
    assert [r["global_batch"] for r in runs] == [100, 200] and [r["steps"] for r in runs] == [60, 30]
    for run in runs:
        assert run["test_accuracy"] > 0.7 and len(set(run["worker_test_accuracy"])) == 1
    assert (runs[0]["reference"], runs[0]["reference_source"]) == (0.956, "report 003, Q1")
    assert runs[1]["reference"] is None  # the report has no K = 2


@pytest.mark.slow
def test_workers_options(mnist_dir):
    result = invoke("mnist", "workers", "--quick", "--workers", "2", "--shards", "strided", "--model", "softmax",
                    "--lr", "0.5", "--json", "--no-save")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["config"]["shards"], doc["config"]["l2"]) == ("strided", 0.0)
    (run,) = doc["runs"]
    assert run["shard_size"] == 3_000 and run["test_accuracy"] > 0.7 and run["reference"] is None


@pytest.mark.parametrize("args", [
    ("softmax", "--optimizers", "adamm"),
    ("softmax", "--loss", "cheap"),
    ("softmax", "--lrs", "0.1,abc"),
    ("softmax", "--target-accuracy", "1.5"),
    ("softmax", "--dataset", "cifar10"),
    ("softmax", "--json", "--csv"),
    ("cnn", "--preset", "fastest"),
    ("cnn", "--model", "vgg"),
    ("cnn", "--batch-sizes", "0"),
    ("filters", "--filters", "8,x"),
    ("mlp", "--studies", "width"),
    ("mlp", "--dropout", "1.0"),
    ("mlp", "--l1-definition", "l0"),
    ("mlp", "--decay-unit", "hour"),
    ("devices", "--devices", "1,4", "--batch-sizes", "6"),
    ("devices", "--cross-device-ops", "magic"),
    ("workers", "--workers", "0"),
    ("workers", "--model", "resnet"),
    ("workers", "--shards", "blocks"),
    ("workers", "--l2", "-1"),
    ("workers", "--model", "softmax", "--l2", "0.01"),
])
def test_bad_input_exits_2(args):
    result = invoke("mnist", *args, "--no-save")
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert "error" in result.stderr


@pytest.mark.parametrize("study", ["softmax", "cnn", "filters", "mlp", "devices", "workers"])
def test_missing_data_exits_3(study, tmp_path, monkeypatch):
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(tmp_path))
    result = invoke("mnist", study, "--quick", "--data-dir", str(tmp_path), "--no-save")
    assert result.exit_code == 3, (study, result.stderr)
    assert "not found" in result.stderr


def test_cnn_runs_carry_their_reference_source(mnist_dir, monkeypatch):
    """Every run with a report number names where it comes from (`reference_source`), as the other studies do.
    200 stand-in images keep it short: the references depend on the setting, not on the images."""
    import numpy as np

    from dltool.experiments.mnist import common

    def tiny(dataset="mnist", data_dir=None, **kwargs):
        rng = np.random.default_rng(0)
        x, y = rng.random((200, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 200)
        return common.Arrays(x, y, None, None, x[:50], y[:50], {"name": "mnist", "train": 200, "test": 50},
                             (28, 28, 1), 10, [str(i) for i in range(10)])

    monkeypatch.setattr(common, "load_arrays", tiny)
    # the batch sweep's setting (one whole epoch, no subset): report 000's 0.954 at batch 100, none at 20
    result = invoke("mnist", "cnn", "--batch-sizes", "100,20", "--json", "--no-save")
    assert result.exit_code == 0, result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert [(r["batch_size"], r["steps"], r["reference"], r["reference_source"]) for r in runs] == [
        (100, 2, 0.954, "report 000, section 4"), (20, 10, None, None)]
    # fast99: report 001's 0.992 (30 epochs at batch 50)
    result = invoke("mnist", "cnn", "--preset", "fast99", "--quick", "--steps", "2", "--precision", "fp32", "--json",
                    "--no-save")  # fp32: the reference does not depend on it, and one matmul peak is measured, not two
    assert result.exit_code == 0, result.stderr
    (run,) = json.loads(result.stdout)["runs"]
    assert run["reference"] == 0.992 and run["reference_source"] == common.FAST_SOURCE
    assert run["reference_source"].startswith("report 001, section 4")
