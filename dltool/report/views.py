"""Result → tables (and plots) for each command. The only place that decides what a user sees.

Each function takes an experiment's Result (pure numbers) and returns ``(tables, footer_lines)``; plot
functions write PNGs into a run folder and return their paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltool.report.tables import Column, TableSpec


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _shape(shape) -> str:
    return "×".join(str(v) for v in shape) if shape is not None else "—"


def _sig(value: Any, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


# ---- archcalc -------------------------------------------------------------------------------------------

def archcalc_network(report, batch_size: int = 1, dtype: str = "fp32", formulas: bool = True):
    rows = []
    for r in report.rows:
        rows.append({
            "layer": r.name, "output": _shape(r.output_shape),
            "activations": r.activations, "activations_formula": r.activations_formula,
            "weights": r.weights, "weights_formula": r.weights_formula,
            "biases": r.biases, "params": r.params, "macs": r.macs, "macs_formula": r.macs_formula,
            "receptive_field": r.receptive_field if r.receptive_field is not None else "all",
        })
    if formulas:
        columns = [Column("layer", "layer", justify="left"), Column("output", "output"),
                   Column("activations_formula", "activations", justify="right"),
                   Column("weights_formula", "weights", justify="right"),
                   Column("biases", "biases", ","), Column("macs", "MACs", ","),
                   Column("receptive_field", "RF")]
    else:
        columns = [Column("layer", "layer", justify="left"), Column("output", "output"),
                   Column("activations", "activations", ","), Column("weights", "weights", ","),
                   Column("biases", "biases", ","), Column("params", "params", ","),
                   Column("macs", "MACs", ","), Column("receptive_field", "RF")]
    csv_columns = [Column(k, k) for k in ("layer", "output", "activations", "weights", "biases", "params", "macs",
                                          "receptive_field", "activations_formula", "weights_formula",
                                          "macs_formula")]
    layers = TableSpec(f"{report.name} at {_shape(report.input_shape)}" + ("" if report.bias else " (no biases)"),
                       columns, rows, notes=["MACs: multiply-accumulates per image (formulas in --json/--csv); "
                                             "RF: receptive field in input pixels along one side ('all': the "
                                             "whole input)."], csv_columns=csv_columns)

    mem = report.memory(batch_size, dtype)
    ref = report.reference
    totals = [
        {"what": "parameters (weights + biases)", "value": f"{report.total_params:,}",
         "detail": f"{report.total_weights:,} + {report.total_biases:,}"
                   + (f" + {report.total_other_params:,} other" if report.total_other_params else ""),
         "reference": f"{ref.params:,} ({ref.source})" if ref else "—"},
        {"what": "activations per image (input included)", "value": f"{report.total_activations:,}",
         "detail": f"input {report.input_activations:,}", "reference": "—"},
        {"what": "MACs per image (multiply-accumulates)", "value": f"{report.total_macs:,}",
         "detail": f"{report.total_macs / 1e9:.3f} G",
         "reference": f"{ref.gmacs} G ({ref.gmacs_source})" if ref and ref.gmacs else "—"},
        {"what": "FLOPs per image (= 2 × MACs)", "value": f"{report.total_flops:,}",
         "detail": f"{report.total_flops / 1e9:.3f} G", "reference": "—"},
        {"what": f"parameter memory ({mem.dtype}, {mem.bytes_per_value} B each)",
         "value": f"{mem.params_mb:,.2f} MB", "detail": f"{mem.params_mib:,.2f} MiB", "reference": "—"},
        {"what": f"activation memory (batch {batch_size}, {mem.dtype})", "value": f"{mem.activation_mb:,.2f} MB",
         "detail": f"{mem.activation_mib:,.2f} MiB", "reference": "—"},
    ]
    totals_table = TableSpec("Totals", [Column("what", "total", justify="left"), Column("value", "computed"),
                                        Column("detail", "detail"), Column("reference", "reference", justify="left")],
                             totals, notes=["MB = 10^6 bytes, MiB = 2^20 bytes."] + list(report.notes),
                             primary=False)
    return [layers, totals_table], []


def archcalc_inception(comparison):
    tables = []
    for module in (comparison.naive, comparison.reduced):
        rows = []
        for branch in module.branches:
            for op in branch.ops:
                rows.append({"branch": branch.name, "operation": op.name, "output": _shape(op.output_shape),
                             "multiplications": op.multiplications, "formula": op.formula, "weights": op.weights})
        tables.append(TableSpec(
            f"{module.variant} Inception module on {_shape(module.input_shape)} → {_shape(module.output_shape)}",
            [Column("branch", "branch", justify="left"), Column("operation", "operation", justify="left"),
             Column("output", "output"), Column("formula", "multiplications", justify="right"),
             Column("weights", "weights", ",")],
            rows, notes=[f"concatenation: {module.concat_formula}",
                         f"total multiplications: {module.total_formula}"]))
    summary = [{"variant": m.variant, "output": _shape(m.output_shape), "multiplications": m.total_multiplications,
                "weights": m.total_weights} for m in (comparison.naive, comparison.reduced)]
    tables.append(TableSpec("Naive vs dimension-reduced", [
        Column("variant", "variant", justify="left"), Column("output", "output after concatenation"),
        Column("multiplications", "multiplications", ","), Column("weights", "weights", ",")], summary,
        notes=[f"saving: {comparison.saving:,} multiplications ({comparison.saving_pct:.2f} %, "
               f"{comparison.ratio:.3f}× fewer)"]))
    return tables, []


def archcalc_receptive(stacked):
    rows = [{"layer": s.layer, "rf": s.rf, "formula": s.formula} for s in stacked.steps]
    return [TableSpec(f"Receptive field of {stacked.n} stacked {stacked.f}×{stacked.f} convolutions (stride 1)",
                      [Column("layer", "layer", justify="left"), Column("rf", "receptive field"),
                       Column("formula", "step", justify="left")], rows,
                      notes=[f"N(F−1)+1 = {stacked.formula}"])], []


# ---- fit-line -------------------------------------------------------------------------------------------

def fit_line(result):
    rows = []
    for r in result.runs:
        rows.append({"optimizer": r.optimizer, "lr": r.lr, "momentum": r.momentum, "final_loss": r.final_loss,
                     "w": r.w, "b": r.b, "w_error": r.w_error, "b_error": r.b_error, "status": r.status,
                     "iterations": r.iterations, "seconds": r.seconds})
    table = TableSpec("fit-line: y = w·x + b, full-batch training", [
        Column("optimizer", "optimizer", justify="left"), Column("lr", "lr", "g"), Column("momentum", "momentum", "g"),
        Column("final_loss", "final loss (MSE)", ".5g"), Column("w", "w", ".4f"), Column("b", "b", ".4f"),
        Column("w_error", "|w − w*|", ".3g"), Column("b_error", "|b − b*|", ".3g"),
        Column("status", "status", justify="left"), Column("iterations", "iterations", ","),
        Column("seconds", "seconds", ".2f")], rows,
        notes=[f"points: {len(result.x)}; true line w*={_sig(result.true_w)}, b*={_sig(result.true_b)}; "
               f"least squares w={result.lstsq_w:.4f}, b={result.lstsq_b:.4f}, optimal MSE {result.optimal_loss:.5g}",
               "status: converged = final loss within 1 % of the least-squares optimum; diverged = loss "
               "non-finite or exploded (run stopped)."])
    return [table], []


def fit_line_plots(result, run_dir: Path) -> list[Path]:
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
    paths.append(save_figure(fitted_lines(result.x, result.y, lines, title="Fitted lines"),
                             run_dir / "fitted_lines.png"))
    best: dict[str, Any] = {}
    for r in result.runs:
        name = r.optimizer if r.momentum is None else f"momentum {r.momentum:g}"
        key = r.final_loss if r.final_loss is not None else float("inf")
        if name not in best or key < (best[name].final_loss or float("inf")):
            best[name] = r
    series = [(f"{name} (lr {r.lr:g})", r.losses) for name, r in best.items()]
    paths.append(save_figure(curves(series, xlabel="iteration", ylabel="MSE", logy=True,
                                    title="Best learning rate of each optimizer",
                                    hlines=[("least-squares optimum", result.optimal_loss)]),
                             run_dir / "comparison.png"))
    return paths
