"""scale: one table (a row per mode × learner count) and four figures (throughput, training time, cost and
scaling efficiency against learners, strong and weak on each), every quantity labelled with the definition it
uses (report 004, Problem 2, where the report gives one)."""

from __future__ import annotations

import math
from pathlib import Path

from dltool.report.tables import Column, TableSpec


def _duration(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _money(value) -> str:
    if value is None or not math.isfinite(value):
        return "n/a (no price)"
    return f"{value:,.2f}" if value >= 1 or value == 0 else f"{value:.3g}"


def _ratio(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _percent(value) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def training_label(result, basis: str | None = None) -> str:
    """What the training-time numbers are: e.g. "10 epochs, measured wall time"."""
    epochs = result.config.epochs
    basis = basis or result.training_time_basis
    if basis == "measured wall time":
        return f"{epochs} epochs, measured wall time"
    if basis == "mixed":
        return f"{epochs} epochs, measured or extrapolated per row"
    return f"{epochs} epochs, extrapolated: steps × mean step time"


def tables(result):
    virtual = " (VIRTUAL devices)" if result.virtual else ""
    all_measured = result.training_time_basis == "measured wall time"
    mixed = result.training_time_basis == "mixed"
    same_steps = len({r.steps for r in result.runs}) == 1
    rows = []
    for r in result.runs:
        rows.append({
            "mode": r.mode, "learners": r.learners, "devices": r.devices, "global_batch": r.global_batch,
            "per_learner_batch": r.per_learner_batch, "step_ms": r.step_time * 1000 if r.step_time else None,
            "throughput": r.throughput, "throughput_sem": r.throughput_sem,
            "throughput_text": (f"{r.throughput:,.1f} ± {r.throughput_sem:,.1f}"
                                if r.throughput is not None and math.isfinite(r.throughput) else "—"),
            "steps": r.steps, "wall_seconds": r.wall_seconds, "mfu": r.mfu,
            "wall_text": _duration(r.wall_seconds) + ("" if same_steps else f" ({r.steps:,} steps)"),
            "epoch_seconds": r.epoch_seconds, "work_steps": r.work_steps,
            "extrapolated_seconds": r.extrapolated_seconds, "training_seconds": r.training_seconds,
            "training_time_basis": r.training_time_basis,
            "training_text": _duration(r.training_seconds) + (
                " (extrapolated)" if mixed and not r.training_time_measured else ""),
            "device_hours": r.device_hours, "cost": r.cost, "cost_text": _money(r.cost), "speedup": r.speedup,
            "efficiency": r.efficiency,
            "efficiency_text": _percent(r.efficiency), "iteration_time_ratio": r.iteration_time_ratio,
            "ratio_text": _ratio(r.iteration_time_ratio),
            "status": r.status + (" (shared)" if r.shared_measurement else ""),
        })
    cfg = result.config
    label = training_label(result)
    priced = result.price_per_hour is not None
    if priced:
        cost_note = (f"cost = learners × training hours × ${result.price_per_hour:g} per device-hour "
                     f"({result.price_source}).")
    else:
        cost_note = f"cost: {result.price_source}; device-hours = learners × training hours are in the JSON."
    notes = [
        f"model {result.model} ({result.parameters:,} parameters) on {result.dataset.get('name', cfg.dataset)}"
        + (f"; input {result.input_adaptation}" if result.input_adaptation else "")
        + f"; strategy {cfg.strategy}, {result.device_kind}; precision {cfg.precision}.",
        "throughput: examples/s, mean ± σ/√n over the timed calls (warmup excluded); step: mean seconds per "
        "iteration; wall: the training loop's measured wall clock for the steps it ran (tracing and warmup "
        "included).",
        (f"training time ({label}): " + ("the wall clock of each job, which trained them in full." if all_measured
                                         else f"⌊n_train/B⌋ steps per epoch × {cfg.epochs} epochs × mean step "
                                              "time, not measured (each job ran only the steps in the wall "
                                              "column).")),
        cost_note,
        "strong: effective batch fixed, speedup S = X(N)/X(1), efficiency S/N. weak: batch per learner fixed, "
        "efficiency t_iter(1)/t_iter(N); t_iter(N)/t_iter(1) is the report's weak-scaling 'scaling efficiency' "
        "(the increase in time to finish one iteration as learners increase; 1.00 = none). '(shared)': the strong "
        "and weak runs had the same global batch and share one measurement.",
    ]
    base = result.baseline_learners
    if any(v != 1 for v in base.values()):
        notes.append(f"speedups and ratios are relative to N0 = {base} learners; speedups scaled by N0 (linear up "
                     "to N0 assumed).")
    if result.differences:
        notes.append(f"differs from {result.report.get('source', 'the report')}: " + "; ".join(result.differences)
                     + ".")
    else:
        notes.append(f"settings: {result.report.get('source', 'the report')} as written.")
    notes.extend(result.notes)
    columns = [
        Column("mode", "mode", justify="left"), Column("learners", "learners", "d"),
        Column("devices", "devices", justify="left", secondary=True), Column("global_batch", "eff. batch", ","),
        Column("per_learner_batch", "per learner", ",", secondary=True),
        Column("step_ms", "step (ms)", ",.1f", secondary=True), Column("throughput_text", "examples/s ± sem"),
        Column("mfu", "MFU", ".1%", secondary=True)]
    work = f"{cfg.epochs} epochs"
    if all_measured:
        columns.append(Column("training_text", f"training time {work} (measured wall)"))
    else:
        steps = f", {result.runs[0].steps} steps" if same_steps and result.runs else ""
        columns += [Column("wall_text", f"wall{steps} (measured)", secondary=True),
                    Column("training_text", f"{work} ({'extrapolated' if not mixed else 'see notes'})")]
    columns += [
        Column("cost_text", "cost ($)", secondary=True), Column("speedup", "speedup", ".2f"),
        Column("efficiency_text", "efficiency (conventional)"),
        Column("ratio_text", "t_iter(N)/t_iter(1) (report)"), Column("status", "status", justify="left")]
    table = TableSpec(f"scale: data-parallel scaling, {result.model}{virtual}", columns, rows, notes=notes,
                      csv_columns=[Column(k, k) for k in (
                          "mode", "learners", "devices", "global_batch", "per_learner_batch", "step_ms",
                          "throughput", "throughput_sem", "steps", "wall_seconds", "epoch_seconds", "work_steps",
                          "extrapolated_seconds", "training_seconds", "training_time_basis", "device_hours",
                          "cost", "speedup", "efficiency", "iteration_time_ratio", "status", "mfu")])
    return [table], []


def _rows(result) -> list:
    """The rows the figures draw, read from fields only so that a run's results.json draws them again
    (``dltool runs plot RUN --redraw``): its ``summary`` holds the rows with the speedups and efficiencies the
    finished sweep derived; ``runs`` holds each row as it finished (without them when the sweep was stopped)."""
    stored = getattr(result, "summary", None)
    return list(stored if isinstance(stored, list) and stored else result.runs)


def _series(rows: list, attr: str):
    out = []
    for mode in ("strong", "weak"):
        picked = sorted((r for r in rows if r.mode == mode), key=lambda r: r.learners)
        if picked:
            out.append((mode, [r.learners for r in picked], [getattr(r, attr) for r in picked], picked))
    return out


def _basis(result, rows: list) -> str:
    """The result's training-time basis; for a stopped sweep, the same rule over the rows that finished."""
    if result.training_time_basis:
        return result.training_time_basis
    measured = {bool(r.training_time_measured) for r in rows}
    return ("measured wall time" if measured == {True} else
            "extrapolated: steps × mean step time" if measured == {False} else "mixed")


def _price(result, rows: list):
    """US$ per device-hour: the result's, or for a stopped sweep the one its costed rows were priced at."""
    if result.price_per_hour is not None:
        return result.price_per_hour
    return next((r.cost / r.device_hours for r in rows if r.cost is not None and r.device_hours), None)


def _axes_learners(ax, counts):
    low, high = ax.dataLim.intervalx
    if not (math.isfinite(low) and math.isfinite(high) and low > 0):  # nothing drawn: no weak rows, or none derived
        ax.set_xlim(min(counts) / 1.25, max(counts) * 1.25)
    ax.set_xscale("log", base=2)
    ax.set_xticks(counts)
    ax.set_xticklabels([str(c) for c in counts])
    ax.set_xlabel("learners")
    ax.grid(True, which="both", alpha=0.3)


def _no_values(ax, stopped: bool) -> None:
    """Say why a panel has no curve: no weak-scaling rows, or a sweep stopped before its ratios were derived."""
    ax.text(0.5, 0.5, "derived when the sweep finishes:\nthis one was stopped" if stopped else "no weak-scaling runs",
            transform=ax.transAxes, ha="center", va="center", fontsize=9, color="grey")


def _nan(values):
    return [float("nan") if v is None else v for v in values]


def plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import figure, save_figure

    every = _rows(result)  # every row; the loops below call one mode's rows `rows`
    counts = sorted({r.learners for r in every})
    kind = result.device_kind or ", ".join(dict.fromkeys(r.devices.split(" × ")[-1] for r in every))
    tag = f"{result.model or result.config.model}, {kind}".replace("(virtual)", "(VIRTUAL devices)")
    colours = {"strong": "tab:blue", "weak": "tab:orange"}
    cfg = result.config
    basis = _basis(result, every)
    label = training_label(result, basis)
    price = _price(result, every)
    paths = []

    fig, ax = figure(figsize=(7, 4.5))
    for mode, xs, ys, rows in _series(every, "throughput"):
        batch = f"effective batch {cfg.global_batch}" if mode == "strong" else f"{cfg.per_learner_batch} per learner"
        ax.errorbar(xs, ys, yerr=[r.throughput_sem for r in rows], marker="o", capsize=3, color=colours[mode],
                    label=f"{mode} ({batch})")
        base = rows[0]
        ax.plot(xs, [base.throughput * x / base.learners for x in xs], linestyle="--", color=colours[mode],
                alpha=0.5, label=f"{mode}: linear (ideal)")
    _axes_learners(ax, counts)
    ax.set_ylabel("average throughput (examples/s, warmup excluded)")
    ax.set_title(f"Throughput vs learners\n{tag}", fontsize=10)
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, run_dir / "throughput.png"))

    fig, ax = figure(figsize=(7, 4.5))
    for mode, xs, ys, rows in _series(every, "training_seconds"):
        ax.plot(xs, ys, marker="o", color=colours[mode], label=f"{mode}: training time ({label})")
        if basis != "measured wall time":
            ax.plot(xs, [r.wall_seconds for r in rows], marker="x", linestyle=":", color=colours[mode],
                    label=f"{mode}: measured wall time of the {rows[0].steps}-step job")
    _axes_learners(ax, counts)
    ax.set_yscale("log")
    ax.set_ylabel("seconds")
    ax.set_title(f"Training time vs learners ({label})\n{tag}", fontsize=10)
    ax.legend(fontsize=7)
    paths.append(save_figure(fig, run_dir / "training_time.png"))

    fig, ax = figure(figsize=(7, 4.5))
    priced = price is not None
    for mode, xs, ys, _ in _series(every, "cost" if priced else "device_hours"):
        ax.plot(xs, _nan(ys), marker="o", color=colours[mode], label=mode)
    _axes_learners(ax, counts)
    if priced:
        ax.set_ylabel(f"training cost, {cfg.epochs} epochs (US$)")
        ax.set_title(f"Training cost vs learners: learners × hours × ${price:g} per device-hour\n"
                     f"({label}) {tag}", fontsize=9)
    else:
        ax.set_ylabel(f"device-hours, {cfg.epochs} epochs (learners × hours)")
        ax.set_title("No price for CPU/virtual devices: device-hours shown, cost = device-hours × price\n"
                     f"({label}) {tag}", fontsize=9)
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, run_dir / "cost.png"))

    fig, (left, right) = figure(ncols=2, figsize=(11, 4.5))
    weak = [(xs, ys) for mode, xs, ys, _ in _series(every, "iteration_time_ratio")
            if mode == "weak" and any(y is not None for y in ys)]
    for xs, ys in weak:
        left.plot(xs, _nan(ys), marker="o", color=colours["weak"], label="weak: t_iter(N)/t_iter(1)")
    if not weak:
        _no_values(left, any(r.mode == "weak" for r in every))
    left.axhline(1.0, linestyle="--", color="grey", linewidth=1, label="ideal (no increase)")
    _axes_learners(left, counts)
    left.set_ylabel("t_iter(N) / t_iter(1)")
    left.set_title("Weak scaling, the report's scaling efficiency:\nincrease in time per iteration (higher is "
                   "worse)", fontsize=9)
    left.legend(fontsize=8)
    for mode, xs, ys, _ in _series(every, "efficiency"):
        text = "strong: S(N)/N" if mode == "strong" else "weak: t_iter(1)/t_iter(N)"
        right.plot(xs, _nan(ys), marker="o", color=colours[mode], label=text)
    if all(r.efficiency is None for r in every):
        _no_values(right, True)
    right.axhline(1.0, linestyle="--", color="grey", linewidth=1, label="ideal")
    _axes_learners(right, counts)
    right.set_ylim(0, max(1.1, max((r.efficiency or 0) for r in every) * 1.1))
    right.set_ylabel("efficiency (conventional)")
    right.set_title("Conventional scaling efficiency (1.0 = ideal)", fontsize=9)
    right.legend(fontsize=8)
    fig.suptitle(tag, fontsize=9)
    paths.append(save_figure(fig, run_dir / "efficiency.png"))
    return paths
