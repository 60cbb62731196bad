"""eggholder through the CLI: the --quick preset end to end (JSON, run folder, plots), and bad input."""

from __future__ import annotations

import json

import pytest


def test_help_names_the_defaults(cli):
    result = cli("eggholder", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    for needle in ("--bundle", "--orders", "--budget", "Standard deviation", "non-increasing", "143",
                   "default 100,000", "default 2,000", "[default: 0.3]", "[default: 512]", "--time-alone",
                   "default 50"):
        assert needle in text


@pytest.mark.slow  # 27–84 s on 2 cores
def test_quick_json_and_run_folder(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("eggholder", "--quick", "--json", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    nets = doc["networks"]
    # --quick: widths 32 and 128, 1–3 layers, ordered, ≤ 512 units: 2 + 4 + 8 networks, one compiled bundle
    assert len(nets) == 14 and len({n["name"] for n in nets}) == 14
    assert {n["layers"] for n in nets} == {1, 2, 3}
    assert all(n["hidden_units"] <= 512 and n["status"] == "finished" for n in nets)
    assert [b["networks"] for b in doc["bundles"]] == [[n["name"] for n in nets]]
    assert doc["n_train"] == 4_000 and doc["n_test"] == 1_000 and doc["noise_floor"] == 0.3
    constant = doc["constant_rmse"]
    assert 270 < constant < 330
    for n in nets:  # RMSE in f's units, near the constant predictor's after 160 steps
        assert 0.5 * constant < n["test_rmse"] < 1.2 * constant
        assert n["train_rmse"] > 0 and n["bundle_share_seconds"] > 0
        # each network timed on its own (--quick: 20 steps), extrapolated to the run's 160 steps
        assert n["own_timed_steps"] == 20
        assert n["own_train_seconds"] == pytest.approx(n["own_step_ms"] / 1e3 * 160)
    # one bundle: its share is one number for all; the own times are not, and grow with the network
    assert len({n["bundle_share_seconds"] for n in nets}) == 1
    own = {n["name"]: n["own_step_ms"] for n in nets}
    assert own["128-128-128"] > 2 * own["32"]
    assert "extrapolated from 20 timed steps" in doc["time_definitions"]["own_train_seconds"]
    assert doc["run_steps"] == 160 and doc["timing_seconds"] > 0
    best3 = doc["best"]["3"]
    assert best3["test_rmse"] == min(n["test_rmse"] for n in nets if n["layers"] == 3)
    assert best3["vs_constant"] < 0.95  # the deep BN networks already beat the constant predictor
    assert doc["networks_per_hour"] > 0 and doc["config"]["epochs"] == 40
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 14
    assert saved["constant_rmse"] == pytest.approx(constant)
    assert saved["time_definitions"] == doc["time_definitions"]
    assert len((out / "runs.jsonl").read_text().splitlines()) == 14
    for png in ("rmse_vs_hidden_units.png", "rmse_vs_params.png", "time_vs_params.png", "surfaces.png"):
        assert (out / png).stat().st_size > 10_000


@pytest.mark.parametrize("args,needle", [
    (["--widths", "16,abc"], "not a whole number"),
    (["--layers", "0"], "must be ≥ 1"),
    (["--budget", "8"], "fits the budget"),
    (["--widths", "600", "--layers", "1"], "fits the budget"),
    (["--orders", "random"], "--orders"),
    (["--bundle", "many"], "--bundle"),
    (["--bundle", "0"], "--bundle"),
    (["--noise-std", "-1"], "standard deviation"),
    (["--samples", "500"], "fewer than one batch"),
    (["--test-fraction", "1.5"], "--test-fraction"),
    (["--lr", "0"], "--lr"),
    (["--momentum", "1"], "--momentum"),
    (["--epochs", "0"], "--epochs"),
    (["--time-alone", "-5"], "--time-alone"),
    (["--json", "--csv"], "only use one of"),
])
def test_bad_input_is_one_line_exit_2(cli, args, needle):
    result = cli("eggholder", *args, "--no-save")
    assert result.exit_code == 2, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dltool: error:") and needle in lines[0]
    assert result.stdout == ""


def test_existing_out_folder_is_refused(cli, tmp_path):
    (tmp_path / "results.json").write_text("{}")
    result = cli("eggholder", "--quick", "--out", str(tmp_path))
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (tmp_path / "results.json").read_text() == "{}"
