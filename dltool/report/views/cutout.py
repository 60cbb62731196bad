"""cutout: the show figure and table; the batch-augmentation table and the validation-error curves."""

from __future__ import annotations

from pathlib import Path

from dltool.report.tables import Column, TableSpec

ASSIGNMENT_TARGET = 0.94  # report 004, problem 4: validation accuracy to reach within 100 epochs


def _pct(value) -> str:
    return f"{100 * value:.2f} %"


# ------------------------------------------------------------------------------------------------------ show

def show_tables(result):
    rows = [{"index": i.index, "class": i.class_name, "centre": f"({i.centre[0]}, {i.centre[1]})",
             "rows": f"{i.box[0]}–{i.box[1] - 1}", "cols": f"{i.box[2]}–{i.box[3] - 1}",
             "area": (i.box[1] - i.box[0]) * (i.box[3] - i.box[2]), "zeroed": i.zeroed_pixels} for i in result.images]
    cfg = result.config
    table = TableSpec(f"cutout show: {len(rows)} CIFAR-10 {cfg.split} images, {cfg.size}×{cfg.size} zero mask", [
        Column("index", "image #", ","), Column("class", "class", justify="left"),
        Column("centre", "centre (row, col)"), Column("rows", "zeroed rows"), Column("cols", "zeroed cols"),
        Column("area", "mask area px", ","), Column("zeroed", "pixels set to 0", ",")], rows,
        notes=[f"centre uniform over all 32×32 pixels; the square is clipped at the border, so its area is "
               f"{cfg.size * cfg.size} px inside the image and less near the edge (DeVries & Taylor, 2017)",
               f"source: {result.source}"])
    return [table], []


def show_plot(result, path: Path) -> Path:
    from matplotlib.patches import Rectangle

    from dltool.report.plots import figure, save_figure, tight_layout

    n = len(result.images)
    fig, axes = figure(n, 2, figsize=(5.6, 2.9 * n), squeeze=False)
    for k, info in enumerate(result.images):
        y1, y2, x1, x2 = info.box
        for col, (img, title) in enumerate(((result.original[k], f"#{info.index}: {info.class_name}"),
                                            (result.cut[k], f"cutout centre ({info.centre[0]}, {info.centre[1]})"))):
            ax = axes[k, col]
            ax.imshow(img, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.set_xticks([0, 8, 16, 24, 31])
            ax.set_yticks([0, 8, 16, 24, 31])
            ax.tick_params(labelsize=7)
            if col == 1:  # outline the clipped square and mark the drawn centre
                ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor="red",
                                       linewidth=1.0, linestyle="--"))
                ax.plot([info.centre[1]], [info.centre[0]], "+", color="red", markersize=8)
    fig.suptitle(f"Cutout (DeVries & Taylor): {result.config.size}×{result.config.size} zero square, "
                 "clipped at the border", fontsize=10)
    tight_layout(fig)
    return save_figure(fig, path, dpi=140)


# ----------------------------------------------------------------------------------------------------- train

def tables(result):
    cfg = result.config
    rows = []
    for r in result.runs:
        reached = r.time_to_target is not None
        rows.append({
            "m": r.m, "images_per_step": r.images_per_step, "augmentation": r.augmentation, "status": r.status,
            "reached": "yes" if reached else "not reached",
            "epochs": r.epoch_of_target if reached else r.epochs_run,
            "seconds": r.time_to_target if reached else r.train_seconds,
            "final_val_accuracy": r.final_val_accuracy, "best_val_accuracy": r.best_val_accuracy,
            "test_accuracy": r.test_accuracy, "seconds_per_epoch": r.seconds_per_epoch,
            "images_per_second": r.images_per_second, "resumed": r.m in result.resumed, "mfu": r.mfu})
    data = result.dataset
    schedule = (f"η {cfg.lr:g} ÷10 at 50 % and 75 % of {cfg.max_epochs} epochs"
                if getattr(cfg, "lr_schedule", "step") == "step" else f"constant η {cfg.lr:g}")
    gaps = list(getattr(result, "setup_gaps", []) or [])
    notes = [
        f"ResNet-{cfg.depth} (He et al. 2016, option-A shortcuts): {result.parameters:,} parameters, "
        f"{result.trainable_parameters:,} trainable (the rest: BatchNorm moving mean/variance)",
        f"B = {cfg.batch_size} distinct images per step; M copies each with its own crop, flip and "
        f"{cfg.cutout_size}×{cfg.cutout_size} cutout; SGD momentum {cfg.momentum:g}, {schedule}, "
        "BatchNorm momentum 0.9",
        f"target: validation accuracy ≥ {100 * cfg.target:g} % within {cfg.max_epochs} epochs; epochs / seconds "
        "are to the target where reached, else the whole run (then the final accuracy is what it got to)",
        "seconds: training time, evaluation excluded (first compiled call included)",
        f"CIFAR-10: {data['train']:,} training, {data['validation']:,} validation, {data['test']:,} test images "
        f"({data['source']}); precision {cfg.precision}{', XLA' if cfg.xla else ''}",
    ]
    if result.resumed:
        notes.append(f"resumed: M = {', '.join(map(str, result.resumed))} come from the interrupted run")
    if gaps:
        n_val = data["validation"]
        accs = [r.final_val_accuracy for r in result.runs if r.final_val_accuracy is not None]
        p = sum(accs) / len(accs) if accs else 0.5
        spread = 100 * (p * (1 - p) / max(n_val, 1)) ** 0.5  # one standard error of an accuracy on n_val images
        notes += [f"A short run, not the assignment's set-up: {'; '.join(gaps)}.",
                  "What it shows: that each M trains and learns (chance is 10 %) and what its steps cost. What it "
                  f"cannot show: the epochs and time to {100 * ASSIGNMENT_TARGET:g} % (that needs ResNet-44, all "
                  f"45,000 training images and up to 100 epochs), nor whether batch augmentation helps (a "
                  f"validation accuracy near {100 * p:.0f} % on {n_val:,} images is ± {spread:.1f} points by chance "
                  "alone, one standard error)."]
    title = (f"cutout: batch augmentation on ResNet-{cfg.depth}, target {100 * cfg.target:g} %" if not gaps else
             f"cutout: batch augmentation on ResNet-{cfg.depth}, a short run (not the assignment's set-up)")
    table = TableSpec(title, [
        Column("m", "M", ","), Column("images_per_step", "images/step", ","),
        Column("reached", "target", justify="left"), Column("epochs", "epochs", ".2f"),
        Column("seconds", "seconds", ".1f"), Column("final_val_accuracy", "final val acc", _pct),
        Column("best_val_accuracy", "best val acc", _pct), Column("test_accuracy", "test acc", _pct),
        Column("seconds_per_epoch", "s/epoch", ".1f"), Column("images_per_second", "images/s", ",.0f"),
        Column("mfu", "MFU", ".1%")], rows,
        notes=notes, csv_columns=[Column(k, k) for k in (
            "m", "images_per_step", "reached", "epochs", "seconds", "final_val_accuracy", "best_val_accuracy",
            "test_accuracy", "seconds_per_epoch", "images_per_second", "mfu")])
    footer = [f"ResNet-{cfg.depth}: {result.parameters:,} parameters ({result.trainable_parameters:,} trainable)"]
    if gaps:
        footer.append("A short run: it shows learning and the cost of each M, not the 94 % target of the assignment "
                      "(see the notes above).")
    return [table], footer


def plots(result, run_dir: Path) -> list[Path]:
    from matplotlib.ticker import MaxNLocator

    from dltool.report.plots import figure, palette, save_figure, tight_layout

    runs = result.runs
    if not runs:
        return []
    colours = palette(len(runs))
    cfg = result.config
    fig, axes = figure(1, 2, figsize=(12.5, 4.6), squeeze=False)
    ax_e, ax_t = axes[0]
    for r, colour in zip(runs, colours):
        errs = [100 * e if e is not None else float("nan") for e in r.val_errors]
        label = "M=1 (pad+crop+flip)" if r.m == 1 else f"M={r.m} (+cutout)"
        ax_e.plot(range(1, len(errs) + 1), errs, label=label, color=colour, linewidth=1.6,
                  marker="o" if len(errs) <= 30 else None, markersize=3)
        per_epoch = r.seconds_per_epoch or 0
        times = r.elapsed if len(r.elapsed) == len(errs) else [per_epoch * (i + 1) for i in range(len(errs))]
        ax_t.plot(times, errs, label=label, color=colour, linewidth=1.6, marker="o" if len(errs) <= 30 else None,
                  markersize=3)
    gaps = list(getattr(result, "setup_gaps", []) or [])
    for ax, xlabel in ((ax_e, "epoch"), (ax_t, "training seconds (evaluation excluded)")):
        ax.axhline(100 * (1 - cfg.target), linestyle="--", color="grey", linewidth=1)
        ax.annotate(f"target {100 * cfg.target:g} % accuracy" + (" (beyond a short run)" if gaps else ""),
                    (0.01, 100 * (1 - cfg.target)),
                    xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("validation error (%)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    ax_e.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_e.set_title("Validation error vs epochs")
    ax_t.set_title("Validation error vs training time")
    fig.suptitle(f"ResNet-{cfg.depth}, batch augmentation with cutout (B = {cfg.batch_size})"
                 + (f"\nshort run: {'; '.join(gaps)}" if gaps else ""), fontsize=10 if gaps else None)
    tight_layout(fig)
    return [save_figure(fig, run_dir / "validation_error.png")]
