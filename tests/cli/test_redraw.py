"""The figures of the training commands: drawn without a library warning on the user's terminal, and drawn again
from a run folder's results.json alone (``dltool runs plot RUN --redraw``)."""

from __future__ import annotations

import json

import pytest


def test_fit_line_figures_print_no_library_warning(cli, tmp_path):
    """Two points fit exactly (least-squares optimum 7.9e-30) while 20 steps at lr 0.001 leave the losses near 1e2:
    the optimum's label lay far below the log axis, matplotlib said "UserWarning: Tight layout not applied" on
    stderr and comparison.png came out 768 × 14,125 pixels. Every warning is recorded here (Python prints them on
    stderr; pytest would otherwise keep them to itself)."""
    import warnings

    from PIL import Image

    out = tmp_path / "run"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cli("fit-line", "--optimizers", "gd,adadelta", "--lrs", "0.001", "--momentums", "", "--points", "2",
                     "--iterations", "20", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert not [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert "Warning" not in result.stderr
    for name in ("comparison.png", "fitted_lines.png", "loss_curves.png"):
        width, height = Image.open(out / name).size
        assert width < 1600 and height < 1600, (name, width, height)


# A tiny real run of every training command (the smallest settings of its own tests, smaller where the figures
# stay the same), and the conftest fixture of the real dataset it needs. More than one run where it is cheap, so
# that a stopped run below keeps some of them.
COMMANDS = {
    "fit-line": (["fit-line", "--optimizers", "gd,adam", "--lrs", "0.01", "--momentums", "", "--iterations", "20"],
                 None),
    "mnist softmax": (["mnist", "softmax", "--quick", "--optimizers", "gd", "--lrs", "0.5,0.1", "--steps", "20",
                       "--subset", "500", "--test-subset", "200"], "mnist_dir"),
    "mnist cnn": (["mnist", "cnn", "--quick", "--batch-sizes", "50,20", "--steps", "4", "--subset", "200",
                   "--test-subset", "100"], "mnist_dir"),
    "mnist filters": (["mnist", "filters", "--quick", "--filters", "8", "--lrs", "0.1,0.01", "--steps", "5",
                       "--subset", "300", "--validation", "50", "--test-subset", "100"], "mnist_dir"),
    "mnist mlp": (["mnist", "mlp", "--quick", "--studies", "schedule", "--steps", "5", "--subset", "300",
                   "--test-subset", "100"], "mnist_dir"),
    # two devices only: no 1-device baseline, so no speedup (the figure crashed on its empty panel, exit 1)
    "mnist devices": (["mnist", "devices", "--quick", "--devices", "2", "--batch-sizes", "4,8", "--steps", "2",
                       "--model", "softmax"], "mnist_dir"),
    "mnist workers": (["mnist", "workers", "--quick", "--workers", "1", "--model", "softmax", "--steps", "5",
                       "--subset", "300", "--test-subset", "100"], "mnist_dir"),
    "cifar-adaptive": (["cifar-adaptive", "--quick", "--methods", "adam", "--epochs", "1", "--subset", "128",
                        "--test-subset", "64"], "cifar_dir"),
    "scale": (["scale", "--gpus", "1,2", "--virtual", "--model", "softmax", "--dataset", "synthetic", "--steps", "8",
               "--batch-size", "64", "--per-learner-batch", "32"], None),
    "allreduce": (["allreduce", "--quick", "--devices", "2", "--implementations",
                   "reduction-to-one-device,hierarchical-copy", "--workers", "0", "--max-size", "16K", "--no-train"],
                  None),
    "cutout train": (["cutout", "train", "--quick", "--ms", "1", "--epochs", "1", "--subset", "200", "--validation",
                      "64", "--test-subset", "64"], "cifar_dir"),
    "eggholder": (["eggholder", "--quick", "--max-networks", "2", "--epochs", "2", "--samples", "2000",
                   "--time-alone", "3"], None),
}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The run folders made so far in this module: one tiny run per command, shared by its tests."""
    return {"root": tmp_path_factory.mktemp("runs"), "folders": {}}


@pytest.fixture
def run_folder(request, made):
    from typer.testing import CliRunner

    from dltool.cli.app import app

    command = request.param
    args, dataset = COMMANDS[command]
    if dataset:
        request.getfixturevalue(dataset)  # skips without the real dataset; else sets DLTOOL_DATA_DIR for the run
    if command not in made["folders"]:
        out = made["root"] / command.replace(" ", "-")
        result = CliRunner().invoke(app, [*args, "--out", str(out), "--json"])
        assert result.exit_code == 0, result.stderr[-3000:]
        made["folders"][command] = out
    return made["folders"][command]


def _pngs(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


@pytest.mark.slow
@pytest.mark.parametrize("run_folder", list(COMMANDS), indirect=True)
def test_redraw_draws_every_figure_of_the_run_again(cli, run_folder, tmp_path):
    """scale's figures called the Result's methods (exit 2), the MLP gallery and the eggholder surfaces need
    arrays results.json does not hold: every command's figures now come back, pixel for pixel."""
    import matplotlib.image as mpimg
    import numpy as np

    drawn = _pngs(run_folder)
    assert drawn, "the run drew no figure"
    result = cli("runs", "plot", str(run_folder), "--redraw", "--out", str(tmp_path / "again"))
    assert result.exit_code == 0, result.stderr
    assert _pngs(tmp_path / "again") == drawn
    for name in drawn:
        np.testing.assert_array_equal(mpimg.imread(tmp_path / "again" / name), mpimg.imread(run_folder / name),
                                      err_msg=name)
    assert "not drawn again" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("run_folder", list(COMMANDS), indirect=True)
def test_redraw_of_a_stopped_run_draws_its_finished_runs(cli, run_folder, tmp_path):
    """A run stopped by Ctrl-C keeps its finished runs in results.json but not the summary written at the end
    (fit-line's points, allreduce's fits, mnist mlp's references …): the redraw failed with "TypeError: 'NoneType'
    object is not iterable". Written here the way a stopped run writes it, by the same recorder."""
    from dltool.report.export import RunRecorder

    doc = json.loads((run_folder / "results.json").read_text())
    kept = doc["runs"][:max(1, len(doc["runs"]) - 1)]
    stopped = tmp_path / "stopped"
    stopped.mkdir()
    recorder = RunRecorder(stopped, doc["command"], doc["config"])
    for run in kept:
        recorder.add_run(run)
    recorder.finish("interrupted")
    result = cli("runs", "plot", str(stopped), "--redraw")
    assert result.exit_code == 0, result.stderr
    redrawn = _pngs(stopped / "redrawn")
    assert redrawn and set(redrawn) <= set(_pngs(run_folder)), redrawn
    assert f"interrupted run: its {len(kept)} finished runs" in " ".join(result.stderr.split())
