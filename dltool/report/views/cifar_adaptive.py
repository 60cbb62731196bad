"""cifar-adaptive: the per-method table and the training-loss curves of each part."""

from __future__ import annotations

from pathlib import Path

from dltool.report.tables import Column, TableSpec
from dltool.report.views.common import MFU_COLUMN, mfu_note, span

MIN_TIMED_STEPS = 20  # fewer timed steps per run: the table prints no time ratio (noise on a shared CPU)


def _acc(value) -> str:
    return f"{100 * value:.2f} %"


def _status(row) -> str:
    statuses = [x for x in (row.status, row.status_dropout) if x is not None]
    if not statuses:
        return "—"
    if len(set(statuses)) == 1:
        return statuses[0]
    return f"{row.status or '—'} / {row.status_dropout or '—'} (dropout)"


def tables(result):
    cfg = result.config
    rows = [{"method": r.method, "lr": r.lr, "final_loss": r.final_loss, "best_loss": r.best_loss,
             "final_loss_dropout": r.final_loss_dropout, "best_loss_dropout": r.best_loss_dropout,
             "seconds": r.seconds, "seconds_dropout": r.seconds_dropout,
             "time_ratio_shown": r.time_ratio if (r.timed_steps or 0) >= MIN_TIMED_STEPS else None,
             "time_ratio": r.time_ratio, "time_ratio_incl_tracing": r.time_ratio_incl_tracing,
             "timed_steps": r.timed_steps, "status": _status(r), "test_accuracy": r.test_accuracy,
             "test_accuracy_dropout": r.test_accuracy_dropout, "mfu": r.mfu, "mfu_dropout": r.mfu_dropout}
            for r in result.rows]
    data = result.dataset
    epochs = max((r.epochs_run for r in result.runs), default=0)
    timed = min((r.timed_steps for r in result.rows if r.timed_steps is not None), default=None)
    tracing = [r.tracing_seconds for r in result.runs if r.tracing_seconds is not None]
    notes = [
        f"MLP 3072→1000→1000→10 (ReLU), {result.parameters:,} parameters; batch {cfg.batch_size}, "
        f"{epochs} epochs; "
        f"L2 λ={cfg.l2:g} on the hidden kernels (penalty {result.l2_penalty_at_init:.3f} at init vs ln 10 ≈ 2.303)",
        f"CIFAR-10: {data['train']:,} training, {data['test']:,} test images ({data['source']}); "
        f"precision {cfg.precision}{', XLA' if cfg.xla else ''}",
        "training loss = epoch mean of cross-entropy + L2 penalty; with dropout it is the loss of the thinned "
        f"networks (input keep {1 - cfg.input_dropout:g}, hidden keep {1 - cfg.dropout:g})",
        "time s: training seconds without evaluation, the first compiled call (tracing"
        + (f", {span(tracing, '.1f')} s here" if tracing else "") + ") included. "
        "time ratio: with ÷ without dropout of steps × mean step time, tracing excluded"
        + (f" ({timed} timed steps per run)" if timed is not None else
           " (none here: every step ran in the first call)" if any(r.seconds for r in result.rows) else "")
        + (f"; shown from {MIN_TIMED_STEPS} timed steps on, fewer are noise on a shared CPU (the JSON keeps "
           "it, and the ratio with tracing)" if timed is not None and timed < MIN_TIMED_STEPS else ""),
    ]
    rose = [r for r in result.runs if r.status == "loss rose"]
    if rose:
        notes.append("loss rose: the last epoch's mean training loss is above the first batch's loss before any "
                     "update — " + ", ".join(f"{r.method} part {r.part} {r.initial_loss:.2f} → {r.final_loss:.2f}"
                                              for r in rose)
                     + (". AdaDelta's first steps move every weight by ≈ η·√(ε/(1−ρ)) ≈ 1.4e-3 whatever its "
                        "gradient, and the loss jumps before it falls (on the 2,000-image sample it was back below "
                        "its start in the 2nd epoch); a run this short ends inside that jump"
                        if any(r.method == "adadelta" for r in rose) else ""))
    check = result.dropout_check
    if 3 in cfg.parts:
        notes.append("test acc (dropout): no weights scaled at test time — Keras' inverted dropout divides the kept "
                     "units by the keep probability during training. The assignment's \"scale the weights by the "
                     f"dropout probability\" means the keep probability ({1 - cfg.input_dropout:g} input, "
                     f"{1 - cfg.dropout:g} hidden), not the drop probability ({cfg.input_dropout:g} input)"
                     + (f"; scaled by the drop probability, the trained weights give test loss "
                        f"{check['loss_scaled_by_drop_prob']:.3f} instead of {check['loss_keras']:.3f} and accuracy "
                        f"{100 * check['accuracy_scaled_by_drop_prob']:.1f} % instead of "
                        f"{100 * check['accuracy_keras']:.1f} % on {check['images']} test images"
                        if check and check.get("loss_scaled_by_drop_prob") is not None else "") + ".")
    if check:
        notes.append(f"dropout at test time: Keras (inverted) logits vs the classic rule (weights × keep prob) on "
                     f"{check['images']} test images: max |Δ| = {check['max_abs_diff']:.2g} "
                     f"(logits up to {check['max_abs_logit']:.3g}), same prediction for "
                     f"{100 * check['same_predictions']:.0f} %"
                     + (f" (the model computes in {cfg.precision}: Δ is its rounding)" if cfg.precision != "fp32"
                        else ""))
    notes.append(mfu_note())
    diverged = [f"{r.method} (part {r.part})" for r in result.runs if r.status == "diverged"]
    if diverged:
        notes.append("diverged (stopped early): " + ", ".join(diverged))
    table = TableSpec("cifar-adaptive: adaptive learning-rate methods, CIFAR-10 MLP", [
        Column("method", "method", justify="left"), Column("lr", "η", "g"),
        Column("final_loss", "final loss", ".4f"), Column("best_loss", "best loss", ".4f", secondary=True),
        Column("final_loss_dropout", "final loss (dropout)", ".4f"),
        Column("best_loss_dropout", "best loss (dropout)", ".4f", secondary=True),
        Column("status", "status", justify="left"), Column("seconds", "time s", ".1f", secondary=True),
        Column("seconds_dropout", "time s (dropout)", ".1f", secondary=True),
        Column("time_ratio_shown", "time ratio (tracing excl.)", ".2f", secondary=True), MFU_COLUMN,
        Column("mfu_dropout", "MFU (dropout)", ".1%", secondary=True),
        Column("test_accuracy", "test acc", _acc), Column("test_accuracy_dropout", "test acc (dropout)", _acc)],
        rows, notes=notes, csv_columns=[
            Column("method", "method"), Column("lr", "lr"), Column("final_loss", "final_loss"),
            Column("best_loss", "best_loss"), Column("final_loss_dropout", "final_loss_dropout"),
            Column("best_loss_dropout", "best_loss_dropout"), Column("status", "status"),
            Column("seconds", "seconds"), Column("seconds_dropout", "seconds_dropout"),
            Column("time_ratio", "time_ratio"), Column("time_ratio_incl_tracing", "time_ratio_incl_tracing"),
            Column("timed_steps", "timed_steps"), Column("test_accuracy", "test_accuracy"),
            Column("test_accuracy_dropout", "test_accuracy_dropout"), Column("mfu", "mfu"),
            Column("mfu_dropout", "mfu_dropout")])
    return [table], []


def plots(result, run_dir: Path) -> list[Path]:
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator

    from dltool.report.plots import figure, palette, plot_lines, save_figure, tight_layout

    parts = sorted({r.part for r in result.runs})
    if not parts:
        return []
    fig, axes = figure(1, len(parts), figsize=(6.2 * len(parts), 4.4), squeeze=False, sharey=True)
    colours = dict(zip(result.config.methods, palette(len(result.config.methods))))
    for ax, part in zip(axes.flat, parts):
        runs = [r for r in result.runs if r.part == part]  # markers on short curves; a repeated curve shows
        plot_lines(ax, [(f"{r.method} (η {r.lr:g})" + (f" — {r.status}" if r.status != "finished" else ""), None,
                         r.epoch_losses) for r in runs],
                   styles=[{"color": colours.get(r.method)} for r in runs], linewidth=1.6, markersize=3)
        title = "Part 2: without dropout" if part == 2 else (
            f"Part 3: dropout {result.config.input_dropout:g} input, {result.config.dropout:g} hidden")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (cross-entropy + L2), log scale")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("CIFAR-10 MLP 3072-1000-1000-10: training loss per epoch")
    tight_layout(fig)
    paths = [save_figure(fig, run_dir / "training_loss.png")]

    fig, axes = figure(1, len(parts), figsize=(6.2 * len(parts), 4.0), squeeze=False, sharey=True)
    for ax, part in zip(axes.flat, parts):
        runs = [r for r in result.runs if r.part == part]
        plot_lines(ax, [(r.method, None, [100 * a if a is not None else float("nan") for a in r.test_accuracies])
                        for r in runs], styles=[{"color": colours.get(r.method)} for r in runs], linewidth=1.5,
                   markersize=3)
        ax.set_title("Part 2: without dropout" if part == 2 else "Part 3: with dropout")
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (%)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Test accuracy per epoch")
    tight_layout(fig)
    paths.append(save_figure(fig, run_dir / "test_accuracy.png"))
    return paths
