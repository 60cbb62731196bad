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


@pytest.fixture
def run_folder(tiny_run):
    """The run folder of a tiny real run of each training command (``tiny_run``, tests/conftest.py)."""
    return tiny_run.folder


def _pngs(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


@pytest.mark.slow
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
