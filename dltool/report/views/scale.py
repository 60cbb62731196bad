"""scale: one table (a row per mode × learner count) and four figures (throughput, training time, cost and
efficiency against learners, strong and weak on each)."""

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
        return "—"
    return f"{value:,.2f}" if value >= 1 or value == 0 else f"{value:.3g}"


def tables(result):
    virtual = " (VIRTUAL devices)" if result.virtual else ""
    rows = []
    for r in result.runs:
        rows.append({
            "mode": r.mode, "learners": r.learners, "devices": r.devices, "global_batch": r.global_batch,
            "per_learner_batch": r.per_learner_batch, "step_ms": r.step_time * 1000 if r.step_time else None,
            "throughput": r.throughput, "throughput_sem": r.throughput_sem,
            "throughput_text": (f"{r.throughput:,.1f} ± {r.throughput_sem:,.1f}"
                                if r.throughput is not None and math.isfinite(r.throughput) else "—"),
            "epoch_seconds": r.epoch_seconds, "epoch_text": _duration(r.epoch_seconds),
            "train_seconds": r.train_seconds, "train_text": _duration(r.train_seconds),
            "cost": r.cost, "speedup": r.speedup, "efficiency": r.efficiency,
            "efficiency_text": "—" if r.efficiency is None else f"{100 * r.efficiency:.1f} %",
            "status": r.status + (" (shared)" if r.shared_measurement else ""),
        })
    cfg = result.config
    work = f"{cfg.steps} steps" if cfg.steps else f"{cfg.epochs} epochs"
    notes = [
        f"model {result.model} ({result.parameters:,} parameters) on {result.dataset.get('name', cfg.dataset)}"
        + (f"; input {result.input_adaptation}" if result.input_adaptation else "")
        + f"; strategy {cfg.strategy}, {result.device_kind}; precision {cfg.precision}.",
        "throughput: examples/s, mean ± σ/√n over the timed calls (warmup excluded); step: mean seconds per "
        f"step; epoch = ⌊n_train/B⌋ steps; train time = {work} × step time; cost = learners × hours × "
        f"${result.price_per_hour:g}/learner-hour ({result.price_source}).",
        "strong: global batch fixed, speedup S = X(N)/X(1), efficiency S/N; weak: batch per learner fixed, "
        "efficiency t_iter(1)/t_iter(N). '(shared)': the strong and weak runs had the same global batch and "
        "share one measurement.",
    ]
    base = result.baseline_learners
    if any(v != 1 for v in base.values()):
        notes.append(f"speedups are relative to N0 = {base} learners, scaled by N0 (linear up to N0 assumed).")
    notes.extend(result.notes)
    table = TableSpec(f"scale: data-parallel throughput, {result.model}{virtual}", [
        Column("mode", "mode", justify="left"), Column("learners", "learners", "d"),
        Column("devices", "devices", justify="left"), Column("global_batch", "global batch", ","),
        Column("per_learner_batch", "per learner", ","), Column("step_ms", "step (ms)", ",.1f"),
        Column("throughput_text", "examples/s ± sem"), Column("epoch_text", "epoch time"),
        Column("train_text", f"train time ({work})"), Column("cost", "cost ($)", _money),
        Column("speedup", "speedup", ".2f"), Column("efficiency_text", "efficiency"),
        Column("status", "status", justify="left")], rows, notes=notes,
        csv_columns=[Column(k, k) for k in ("mode", "learners", "devices", "global_batch", "per_learner_batch",
                                            "step_ms", "throughput", "throughput_sem", "epoch_seconds",
                                            "train_seconds", "cost", "speedup", "efficiency", "status")])
    return [table], []


def _series(result, attr: str):
    out = []
    for mode in ("strong", "weak"):
        rows = sorted(result.rows(mode), key=lambda r: r.learners)
        if rows:
            out.append((mode, [r.learners for r in rows], [getattr(r, attr) for r in rows], rows))
    return out


def _axes_learners(ax, counts):
    ax.set_xscale("log", base=2)
    ax.set_xticks(counts)
    ax.set_xticklabels([str(c) for c in counts])
    ax.set_xlabel("learners")
    ax.grid(True, which="both", alpha=0.3)


def plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import figure, save_figure

    counts = sorted({r.learners for r in result.runs})
    tag = f"{result.model}, {result.device_kind}".replace("(virtual)", "(VIRTUAL devices)")
    colours = {"strong": "tab:blue", "weak": "tab:orange"}
    paths = []

    fig, ax = figure(figsize=(7, 4.5))
    for mode, xs, ys, rows in _series(result, "throughput"):
        ax.errorbar(xs, ys, yerr=[r.throughput_sem for r in rows], marker="o", capsize=3, color=colours[mode],
                    label=f"{mode} (global batch {'fixed' if mode == 'strong' else 'N × per-learner'})")
        base = rows[0]
        ax.plot(xs, [base.throughput * x / base.learners for x in xs], linestyle="--", color=colours[mode],
                alpha=0.5, label=f"{mode}: linear (ideal)")
    _axes_learners(ax, counts)
    ax.set_ylabel("throughput (examples/s)")
    ax.set_title(f"Throughput vs learners\n{tag}", fontsize=10)
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, run_dir / "throughput.png"))

    cfg = result.config
    work = f"{cfg.steps} steps" if cfg.steps else f"{cfg.epochs} epochs"
    fig, ax = figure(figsize=(7, 4.5))
    for mode, xs, ys, _ in _series(result, "train_seconds"):
        ax.plot(xs, ys, marker="o", color=colours[mode], label=mode)
    _axes_learners(ax, counts)
    ax.set_ylabel(f"training time for {work} (s)")
    ax.set_title(f"Training time vs learners\n{tag}", fontsize=10)
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, run_dir / "training_time.png"))

    fig, ax = figure(figsize=(7, 4.5))
    for mode, xs, ys, _ in _series(result, "cost"):
        ax.plot(xs, ys, marker="o", color=colours[mode], label=mode)
    _axes_learners(ax, counts)
    ax.set_ylabel(f"cost of {work} (US$)")
    ax.set_title(f"Cost vs learners at ${result.price_per_hour:g} per learner-hour\n{tag}", fontsize=10)
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, run_dir / "cost.png"))

    fig, ax = figure(figsize=(7, 4.5))
    for mode, xs, ys, _ in _series(result, "efficiency"):
        label = "strong: S(N)/N" if mode == "strong" else "weak: t_iter(1)/t_iter(N)"
        ax.plot(xs, [y if y is not None else float("nan") for y in ys], marker="o", color=colours[mode],
                label=label)
    ax.axhline(1.0, linestyle="--", color="grey", linewidth=1, label="ideal")
    _axes_learners(ax, counts)
    ax.set_ylim(0, max(1.1, max((r.efficiency or 0) for r in result.runs) * 1.1))
    ax.set_ylabel("scaling efficiency")
    ax.set_title(f"Scaling efficiency vs learners\n{tag}", fontsize=10)
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, run_dir / "efficiency.png"))
    return paths
