"""A run stopped by Ctrl-C or SIGTERM draws the figures of its finished runs into its folder (it wrote only
results.json, runs.jsonl and events before), still exits 130 / 143 with results.json kept, and says where the PNGs
are only when they were written; ``runs plot --redraw`` never claims PNGs that are not there."""

from __future__ import annotations

import json

import pytest

ARGS = ["fit-line", "--optimizers", "gd", "--lrs", "0.01,0.02,0.05", "--momentums", "", "--iterations", "30"]


@pytest.fixture
def stop_after(monkeypatch):
    """Make fit-line stop (``error``: KeyboardInterrupt or Terminated) after ``n`` of its 3 runs finished."""
    from dltool.experiments import fit_line as exp

    real = exp.run

    def arm(n: int, error: type[BaseException] = KeyboardInterrupt):
        def stopped(cfg, on_run=None, progress=None):
            finished = []

            def after(record):
                if on_run is not None:
                    on_run(record)
                finished.append(record)
                if len(finished) >= n:
                    raise error()

            if n == 0:
                raise error()
            return real(cfg, on_run=after, progress=progress)

        monkeypatch.setattr(exp, "run", stopped)

    return arm


def _pngs(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


@pytest.mark.parametrize("signal_name, code, status", [("ctrl-c", 130, "interrupted"),
                                                        ("sigterm", 143, "terminated")])
def test_a_stopped_run_draws_its_finished_runs(cli, stop_after, tmp_path, signal_name, code, status):
    from dltool.errors import Terminated

    stop_after(2, KeyboardInterrupt if signal_name == "ctrl-c" else Terminated)
    out = tmp_path / "run"
    result = cli(*ARGS, "--out", str(out))
    assert result.exit_code == code, result.stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["status"] == status and len(doc["runs"]) == 2
    # fitted_lines.png needs the points, which only the end-of-run summary holds
    assert _pngs(out) == ["comparison.png", "loss_curves.png"]
    assert not [p for p in out.iterdir() if p.name.startswith(".figures-")]  # the scratch folder is gone
    said = "".join(result.stderr.split())  # rich may break a long path anywhere
    assert f"figuresofthe2finishedrunsin{out}/:loss_curves.png,comparison.png" in said
    # the figures are the ones --redraw draws from the same results.json
    again = cli("runs", "plot", str(out), "--redraw", "--out", str(tmp_path / "again"))
    assert again.exit_code == 0, again.stderr
    assert _pngs(tmp_path / "again") == _pngs(out)


def test_no_figures_and_no_claim_when_no_run_finished(cli, stop_after, tmp_path):
    stop_after(0)
    out = tmp_path / "run"
    result = cli(*ARGS, "--out", str(out))
    assert result.exit_code == 130, result.stderr
    assert json.loads((out / "results.json").read_text())["runs"] == []
    assert _pngs(out) == [] and "figures of" not in result.stderr
    redraw = cli("runs", "plot", str(out), "--redraw")
    assert redraw.exit_code == 2
    lines = [line for line in redraw.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no finished run to draw" in lines[0] and "PNG" not in lines[0]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])  # a figure that fails; a second Ctrl-C
def test_figures_that_fail_cost_neither_the_results_nor_the_exit_code(cli, stop_after, monkeypatch, tmp_path,
                                                                      error):
    from dltool.report.views import fit_line as views

    def broken(result, run_dir):
        (run_dir / "loss_curves.png").write_bytes(b"half a PNG")
        raise error()

    monkeypatch.setattr(views, "plots", broken)
    stop_after(1)
    out = tmp_path / "run"
    result = cli(*ARGS, "--out", str(out))
    assert result.exit_code == 130, result.stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["status"] == "interrupted" and len(doc["runs"]) == 1
    assert _pngs(out) == [] and "figures of" not in result.stderr and "Traceback" not in result.stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".figures-")]


def test_redraw_that_cannot_draw_names_no_pngs_that_are_not_there(cli, tmp_path):
    """A stopped run has no PNGs: "its PNGs are in the run folder" sent the user looking for files that were never
    written. Where the run did draw them, the hint still says so."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text(json.dumps(
        {"command": "scale", "status": "interrupted", "runs": [{"mode": "strong", "learners": 1}]}))
    result = cli("runs", "plot", str(tmp_path / "run"), "--redraw")
    assert result.exit_code == 2 and "cannot be redrawn" in result.stderr
    assert "PNG" not in result.stderr
    (tmp_path / "run" / "throughput.png").write_bytes(b"")
    result = cli("runs", "plot", str(tmp_path / "run"), "--redraw")
    assert result.exit_code == 2 and "its PNGs are in the run folder" in " ".join(result.stderr.split())
