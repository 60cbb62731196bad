"""The figures of the training commands: drawn without a library warning on the user's terminal, and drawn again
from a run folder's results.json alone (``dltool runs plot RUN --redraw``)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_fit_line_figures_print_no_library_warning(tmp_path):
    """Two points fit exactly (least-squares optimum 7.9e-30) while 20 steps at lr 0.001 leave the losses near 1e2:
    the optimum's label lay far below the log axis, matplotlib said "UserWarning: Tight layout not applied" on
    stderr and comparison.png came out 768 × 14,125 pixels."""
    from PIL import Image

    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "dltool", "fit-line", "--optimizers", "gd,adadelta", "--lrs", "0.001", "--momentums",
         "", "--points", "2", "--iterations", "20", "--out", str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "default"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Warning" not in done.stderr, done.stderr[-2000:]
    for name in ("comparison.png", "fitted_lines.png", "loss_curves.png"):
        width, height = Image.open(out / name).size
        assert width < 1600 and height < 1600, (name, width, height)
