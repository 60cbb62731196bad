"""fit-line: the runs table and the three figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltool.report.tables import Column, TableSpec
from dltool.report.views.common import sig

# ---- fit-line -------------------------------------------------------------------------------------------

def tables(result):
    rows = []
    for r in result.runs:
        rows.append({"optimizer": r.optimizer, "lr": r.lr, "momentum": r.momentum, "final_loss": r.final_loss,
                     "w": r.w, "b": r.b, "w_error": r.w_error, "b_error": r.b_error, "status": r.status,
                     "iterations": r.iterations, "seconds": r.seconds})
    table = TableSpec("fit-line: y = w·x + b, full-batch training", [
        Column("optimizer", "optimizer", justify="left"), Column("lr", "lr", "g"), Column("momentum", "momentum", "g"),
        Column("final_loss", "final loss (MSE)", ".5g"), Column("w", "w", ".4f"), Column("b", "b", ".4f"),
        Column("w_error", "|w − w*|", ".3g", secondary=True), Column("b_error", "|b − b*|", ".3g", secondary=True),
        Column("status", "status", justify="left"), Column("iterations", "iterations", ",", secondary=True),
        Column("seconds", "seconds", ".2f", secondary=True)], rows,
        notes=[f"points: {len(result.x)}; generating line w={sig(result.true_w)}, b={sig(result.true_b)}; "
               f"least-squares optimum w*={result.lstsq_w:.4f}, b*={result.lstsq_b:.4f}, optimal MSE "
               f"{result.optimal_loss:.5g}; |w − w*|, |b − b*| are measured from this optimum.",
               f"status: converged = final loss within {result.config.tolerance:.0%} of the optimal MSE and w, b "
               f"both within {result.config.param_tolerance:g} of w*, b*; slow = not yet; diverged = loss "
               "non-finite or exploded (run stopped).",
               f"preset {result.config.preset}; {result.config.optimizer_defaults} optimizer constants."])
    return [table], []


def plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import curve_panels, curves, fitted_lines, save_figure

    panels: dict[str, list[tuple[str, list[float]]]] = {}
    for r in result.runs:
        panel = r.optimizer if r.momentum is None else f"momentum μ={r.momentum:g}"
        label = f"lr {r.lr:g}" + (" (diverged)" if r.status == "diverged" else "")
        panels.setdefault(panel, []).append((label, r.losses))
    paths = [save_figure(curve_panels(panels, title="Training loss per optimizer (log scale)"),
                         run_dir / "loss_curves.png")]
    finished = [r for r in result.runs if r.w is not None]
    lines = [(f"{r.optimizer} {r.lr:g}" + (f" μ{r.momentum:g}" if r.momentum else ""), r.w, r.b) for r in finished]
    if result.x is not None:  # the points are stored with the summary: none when the run was stopped
        paths.append(save_figure(fitted_lines(result.x, result.y, lines, title="Fitted lines"),
                                 run_dir / "fitted_lines.png"))
    best: dict[str, Any] = {}
    for r in result.runs:
        name = r.optimizer if r.momentum is None else f"momentum {r.momentum:g}"
        key = r.final_loss if r.final_loss is not None else float("inf")
        if name not in best or key < (best[name].final_loss or float("inf")):
            best[name] = r
    series = [(f"{name} (lr {r.lr:g})", r.losses) for name, r in best.items()]
    paths.append(save_figure(curves(series, xlabel="iteration (log scale)", ylabel="MSE", logy=True, logx=True,
                                    title="Best learning rate of each optimizer",
                                    hlines=[("least-squares optimum", result.optimal_loss)]),
                             run_dir / "comparison.png"))
    return paths
