"""dltool runs: list, show, compare and plot real run folders; TensorBoard events in them; no TensorFlow import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two real fit-line run folders that differ in their learning rates and iterations."""
    from typer.testing import CliRunner

    from dltool.cli.app import app

    root = tmp_path_factory.mktemp("runs")
    runner = CliRunner()
    for name, lrs, iterations in (("a", "0.01", "40"), ("b", "0.02,0.05", "30")):
        done = runner.invoke(app, ["fit-line", "--optimizers", "gd", "--lrs", lrs, "--momentums", "",
                                   "--iterations", iterations, "--out", str(root / name), "--json"])
        assert done.exit_code == 0, done.stderr
    return root


def test_list_gives_each_folder_with_its_headline(cli, two_runs):
    result = cli("runs", str(two_runs), "--json")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)["runs"]
    assert [r["name"] for r in listed] == ["a", "b"]
    for entry in listed:
        saved = json.loads((two_runs / entry["name"] / "results.json").read_text())
        losses = [r["final_loss"] for r in saved["runs"] if r["final_loss"] is not None]
        assert entry["command"] == "fit-line" and entry["status"] == "finished"
        assert entry["runs"] == len(saved["runs"])
        assert entry["headline_metric"] == "final_loss" and entry["headline_value"] == min(losses)
        assert entry["duration_s"] is not None and entry["duration_s"] >= 0
    # the same through the explicit subcommand, and as CSV rows
    assert json.loads(cli("runs", "list", str(two_runs), "--json").stdout)["runs"] == listed
    rows = cli("runs", str(two_runs), "--csv").stdout.strip().splitlines()
    assert rows[0].startswith("run,command,started,status,runs,headline_metric") and len(rows) == 3


def test_show_reprints_the_stored_tables(cli, two_runs):
    saved = json.loads((two_runs / "b" / "results.json").read_text())
    assert saved["tables"] and saved["tables"][0]["title"].startswith("fit-line")
    table = cli("runs", "show", str(two_runs / "b"))
    assert table.exit_code == 0, table.stderr
    assert saved["tables"][0]["title"] in table.stdout
    for row in saved["tables"][0]["rows"]:  # every formatted cell of the run's own table comes back
        assert all(cell in table.stdout for cell in row)
    assert json.loads(cli("runs", "show", str(two_runs / "b"), "--json").stdout) == saved
    assert cli("runs", "show", str(two_runs / "b"), "--csv").stdout == saved["tables"][0]["csv"]
    markdown = cli("runs", "show", str(two_runs / "b"), "--markdown").stdout
    assert markdown.startswith(f"### {saved['tables'][0]['title']}")


def test_show_of_a_folder_without_stored_tables_lists_its_fields(cli, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "results.json").write_text(json.dumps(
        {"command": "mnist cnn", "status": "interrupted", "runs": [{"batch_size": 50, "test_accuracy": 0.98}]}))
    result = cli("runs", "show", str(tmp_path / "old"), "--markdown")
    assert result.exit_code == 0, result.stderr
    assert "batch_size" in result.stdout and "0.98" in result.stdout and "interrupted" in result.stdout
    listed = json.loads(cli("runs", str(tmp_path), "--json").stdout)["runs"]
    assert listed[0]["headline_metric"] == "test_accuracy" and listed[0]["headline_value"] == 0.98


def test_compare_shows_the_config_keys_that_differ_and_the_results(cli, two_runs):
    result = cli("runs", "compare", str(two_runs / "a"), str(two_runs / "b"), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["config_differs"]["iterations"] == [40, 30]
    assert doc["config_differs"]["lrs"] == [[0.01], [0.02, 0.05]]
    assert "optimizers" not in doc["config_differs"] and doc["config_same_keys"] > 5
    best = [min(r["final_loss"] for r in json.loads((two_runs / n / "results.json").read_text())["runs"]
                if r["final_loss"] is not None) for n in ("a", "b")]
    assert doc["results"]["final_loss"] == best
    table = cli("runs", "compare", str(two_runs / "a"), str(two_runs / "b")).stdout
    assert "config: the keys that differ" in table and "iterations" in table


def test_plot_overlays_every_run(cli, two_runs, tmp_path):
    target = tmp_path / "both.png"
    result = cli("runs", "plot", str(two_runs / "a"), str(two_runs / "b"), "--out", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.stat().st_size > 10_000 and "3 curves from 2 run folders" in result.stderr
    again = cli("runs", "plot", str(two_runs / "a"), "--out", str(target))
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_redraw_gives_the_run_s_own_figures_pixel_for_pixel(cli, two_runs, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    result = cli("runs", "plot", str(two_runs / "b"), "--redraw", "--out", str(tmp_path / "again"))
    assert result.exit_code == 0, result.stderr
    drawn = sorted(p.name for p in (tmp_path / "again").glob("*.png"))
    assert drawn == ["comparison.png", "fitted_lines.png", "loss_curves.png"]
    for name in drawn:
        np.testing.assert_array_equal(mpimg.imread(tmp_path / "again" / name), mpimg.imread(two_runs / "b" / name))
    assert cli("runs", "plot", str(two_runs / "a"), str(two_runs / "b"), "--redraw").exit_code == 2


def test_redraw_of_an_interrupted_run_draws_the_runs_that_finished(cli, two_runs, tmp_path):
    """An interrupted results.json has its finished runs but not the summary (the points, the optimum): the redraw
    failed with "TypeError: 'NoneType' object is not iterable"; it draws what the runs hold."""
    from dltool.report.export import RunRecorder

    doc = json.loads((two_runs / "b" / "results.json").read_text())
    (tmp_path / "run").mkdir()
    recorder = RunRecorder(tmp_path / "run", doc["command"], doc["config"])
    recorder.add_run(doc["runs"][0])
    recorder.finish("interrupted")
    result = cli("runs", "plot", str(tmp_path / "run"), "--redraw")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "run" / "redrawn").glob("*.png")) == ["comparison.png",
                                                                                    "loss_curves.png"]
    assert "interrupted run: its 1 finished runs" in " ".join(result.stderr.split())


@pytest.mark.parametrize("doc, words", [
    ({"command": "scale", "runs": [{"mode": "strong", "learners": 1}]}, "cannot be redrawn"),
    ({"command": "fit-line", "status": "interrupted", "runs": []}, "no finished run to draw"),
    ({"command": "allreduce", "status": "interrupted", "config": {"virtual": True},  # nccl: no CPU kernel
      "runs": [{"bus": [{"time_s": None, "tensors": 1, "strategy": "mirrored", "implementation": "nccl",
                         "devices": 2, "virtual": True, "bytes": 4096, "status": "unavailable"}]}]}, "make no figure"),
    ({"command": "no-such-command", "runs": []}, "no figures to redraw"),
])
def test_redraw_says_when_it_cannot(cli, tmp_path, doc, words):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text(json.dumps(doc))
    result = cli("runs", "plot", str(tmp_path / "run"), "--redraw")
    assert result.exit_code == 2 and words in result.stderr
    assert not (tmp_path / "run" / "redrawn").exists()


def test_training_runs_write_tensorboard_events_matching_results(two_runs):
    from dltool.report.tensorboard import read_scalars

    saved = json.loads((two_runs / "b" / "results.json").read_text())
    scalars = read_scalars(two_runs / "b" / "tensorboard")
    assert len(scalars) == len(saved["runs"]) == 2
    for (folder, tags), run in zip(sorted(scalars.items()), saved["runs"]):
        assert folder.startswith(("01-", "02-")) and f"lr={run['lr']:g}" in folder
        assert [v for _, v in tags["train/loss"]] == pytest.approx(run["losses"], rel=1e-6)
        assert [v for _, v in tags["train/learning_rate"]][0] == pytest.approx(run["lr"], rel=1e-6)


@pytest.mark.parametrize("args, code, words", [
    (["runs", "/no/such/folder"], 2, "does not exist"),
    (["runs", "show", "/no/such/run"], 2, "not a run folder"),
    (["runs", "compare", "/no/such/run"], 2, "at least two"),
    (["runs", "plot", "x", "--out", "x.jpg"], 2, "not a .png"),
    (["runs", "--json", "--csv"], 2, "only use one of"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args, code, words):
    result = cli(*args)
    assert result.exit_code == code
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_help_and_an_empty_default_folder(cli, tmp_path, monkeypatch):
    for args in (["runs", "--help"], ["runs", "show", "--help"], ["runs", "compare", "--help"],
                 ["runs", "plot", "--help"]):
        assert cli(*args).exit_code == 0, args
    monkeypatch.chdir(tmp_path)  # no runs/ here yet: an empty list, not an error
    result = cli("runs", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == {"root": "runs", "runs": []}
    (tmp_path / "runs").mkdir()  # runs/ without run folders: the empty table says so
    assert "no run folders here" in cli("runs").stdout


def test_runs_never_import_tensorflow(two_runs):
    code = (
        "import sys, io, contextlib\n"
        "from dltool.cli.app import main\n"
        f"root = {str(two_runs)!r}\n"
        "for args in (['runs', root, '--json'], ['runs', 'show', root + '/a'], "
        "['runs', 'compare', root + '/a', root + '/b', '--markdown'], "
        f"['runs', 'plot', root + '/a', '--redraw', '--out', {str(two_runs.parent / 'redrawn-no-tf')!r}]):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(args) == 0, args\n"
        "print('tensorflow' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
