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
    # after 300 steps the loss is within 1 % of the optimum but b is still > 0.01 away: not converged yet
    assert runs[0.01]["final_loss"] <= 1.01 * doc["optimal_loss"]
    assert runs[0.01]["b_error"] > 0.01 and runs[0.01]["status"] == "slow"
    assert runs[0.01]["w_error"] == pytest.approx(abs(runs[0.01]["w"] - doc["lstsq_w"]))
    assert runs[0.01]["w"] == pytest.approx(doc["lstsq_w"], abs=0.05)
    assert len(runs[0.01]["losses"]) == 300
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 2
    assert "tensorflow" in saved["environment"]
    assert len((out / "runs.jsonl").read_text().splitlines()) == 2
    for png in ("loss_curves.png", "fitted_lines.png", "comparison.png"):
        assert (out / png).stat().st_size > 10_000


def test_converged_means_at_the_least_squares_optimum(cli):
    result = cli("fit-line", "--optimizers", "gd", "--lrs", "0.01", "--momentums", "", "--no-save", "--json")
    doc = json.loads(result.stdout)
    run = doc["runs"][0]
    assert run["status"] == "converged" and run["w_error"] <= 0.01 and run["b_error"] <= 0.01
    assert (doc["lstsq_w"], doc["lstsq_b"]) == (pytest.approx(1.9869, abs=1e-4), pytest.approx(0.9925, abs=1e-4))


@pytest.mark.parametrize("preset, first", [("report001-adam", ("adam", 0.001)), ("report001-compare", ("gd", 0.01))])
def test_report001_presets(cli, preset, first):
    result = cli("fit-line", "--preset", preset, "--iterations", "50", "--no-save", "--json")
    assert result.exit_code == 0, result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert (runs[0]["optimizer"], runs[0]["lr"]) == first
    if preset == "report001-compare":
        assert [(r["optimizer"], r["lr"], r["momentum"]) for r in runs] == [
            ("gd", 0.01, None), ("momentum", 0.01, 0.8), ("adam", 0.05, None)]


def test_bad_preset_and_defaults_are_usage_errors(cli):
    for args in (("--preset", "report999"), ("--optimizer-defaults", "tf3")):
        result = cli("fit-line", *args, "--no-save")
        assert result.exit_code == 2 and "Traceback" not in result.stderr


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


def test_config_from_options_keeps_the_grid_preset_and_momentum_defaults():
    from dltool.experiments import fit_line

    cfg = fit_line.FitLineConfig.from_options(preset="report001-gd", momentums=None)
    assert cfg.preset == "report001-gd" and cfg.momentums == [0.2, 0.4, 0.6, 0.8]
    assert fit_line.parse_momentums("") == [] and fit_line.parse_momentums(None) is None
    assert fit_line.parse_momentums("0.5") == [0.5]


@pytest.mark.parametrize("rows", ["3,7\n", "2,1\n2,5\n2,9\n"], ids=["one-point", "all-x-equal"])
def test_csv_without_two_distinct_x_is_refused_before_tensorflow(tmp_path, rows):
    """One point, or every x the same, leaves the least-squares line undetermined: it used to train and report
    "converged" against numpy's minimum-norm pick. Refused with one line, exit 2, no folder, no TensorFlow."""
    import os
    import subprocess
    import sys

    (tmp_path / "points.csv").write_text("x,y\n" + rows)
    code = ("import sys\nfrom dltool.cli.app import main\n"
            "print(main(['fit-line', '--points-csv', 'points.csv', '--out', 'run']), 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env=dict(os.environ), timeout=120)
    assert done.stdout.split() == ["2", "False"], (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dltool: error: "), done.stderr
    assert "at least two distinct x values" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["points.csv"]  # no run folder


def test_quick_is_a_short_run_that_still_compares(cli):
    """fit-line had no --quick though every other training command has one (the option was refused, exit 2).
    --quick: 400 iterations, momentum 0.4 and 0.8 at lr 0.01 only; what its help promises holds."""
    result = cli("fit-line", "--quick", "--no-save", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["config"]["iterations"] == 400
    status = {(r["optimizer"], r["lr"], r["momentum"]): r["status"] for r in doc["runs"]}
    assert len(status) == 11 and {r["iterations"] for r in doc["runs"] if r["status"] != "diverged"} == {400}
    assert status[("gd", 0.3, None)] == "diverged"
    assert status[("rmsprop", 0.01, None)] == status[("momentum", 0.01, 0.8)] == "converged"
    assert status[("gd", 0.01, None)] == status[("momentum", 0.01, 0.4)] == "slow"


def test_quick_gives_way_to_typed_options_and_presets():
    from dltool.experiments import fit_line

    cfg = fit_line.FitLineConfig.from_options(True, iterations=50, momentums=[0.6])
    assert (cfg.iterations, cfg.momentums, cfg.momentum_lrs) == (50, [0.6], [0.01])
    cfg = fit_line.FitLineConfig.from_options(True, preset="report001-adam")
    assert [r[:2] for r in cfg.grid()] == [("adam", lr) for lr in (0.001, 0.01, 0.05, 0.1, 0.5)]
    assert fit_line.FitLineConfig.from_options(False).iterations == 1000  # the default is unchanged
