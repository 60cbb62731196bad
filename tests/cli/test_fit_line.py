"""fit-line end to end: statuses, run folder, JSON curves, CSV points, bad input."""

from __future__ import annotations

import json

import pytest


def test_grid_marks_gd_03_diverged_and_writes_run_folder(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("fit-line", "--optimizers", "gd", "--lrs", "0.01,0.3", "--momentums", "", "--iterations", "300",
                 "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    runs = {r["lr"]: r for r in doc["runs"]}
    assert runs[0.3]["status"] == "diverged" and runs[0.3]["final_loss"] is None
    assert runs[0.01]["status"] == "converged"
    assert runs[0.01]["w"] == pytest.approx(doc["lstsq_w"], abs=0.05)
    assert len(runs[0.01]["losses"]) == 300
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 2
    assert "tensorflow" in saved["environment"]
    assert len((out / "runs.jsonl").read_text().splitlines()) == 2
    for png in ("loss_curves.png", "fitted_lines.png", "comparison.png"):
        assert (out / png).stat().st_size > 10_000


def test_every_optimizer_trains_the_line(cli):
    names = "gd,momentum,nesterov,adagrad,adadelta,rmsprop,rmsprop-nesterov,adam,ftrl"
    result = cli("fit-line", "--optimizers", names, "--lrs", "0.01", "--momentums", "", "--iterations", "200",
                 "--no-save", "--json")
    assert result.exit_code == 0, result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert [r["optimizer"] for r in runs] == names.split(",")
    for run in runs:
        assert run["status"] in ("converged", "slow")
        assert run["losses"][-1] < run["losses"][0]  # each one made progress


def test_points_from_csv(cli, tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x,y\n" + "".join(f"{x},{0.5 * x - 2}\n" for x in range(-5, 6)))
    result = cli("fit-line", "--points-csv", str(points), "--optimizers", "adam", "--lrs", "0.1",
                 "--momentums", "", "--no-save", "--json")
    doc = json.loads(result.stdout)
    assert doc["lstsq_w"] == pytest.approx(0.5, abs=1e-5) and doc["lstsq_b"] == pytest.approx(-2, abs=1e-5)
    assert doc["true_w"] is None


def test_existing_out_folder_is_never_overwritten(cli, tmp_path):
    (tmp_path / "results.json").write_text("{}")
    result = cli("fit-line", "--out", str(tmp_path), "--iterations", "5")
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert (tmp_path / "results.json").read_text() == "{}"


@pytest.mark.parametrize("args,needle", [
    (["--lrs", "0.1,abc"], "not a number"),
    (["--lrs", "-1"], "positive"),
    (["--optimizers", "adamw"], "unknown optimizer"),
    (["--momentums", "1.5"], "momentum"),
    (["--points", "1"], "--points"),
    (["--noise", "-1"], "standard deviation"),
])
def test_bad_values_exit_2(cli, args, needle):
    result = cli("fit-line", *args, "--no-save")
    assert result.exit_code == 2, result.output
    assert needle in result.stderr and "Traceback" not in result.output


def test_missing_csv_is_exit_3(cli, tmp_path):
    result = cli("fit-line", "--points-csv", str(tmp_path / "nope.csv"), "--no-save")
    assert result.exit_code == 3
