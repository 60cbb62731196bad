"""mnist: tables and figures of every MNIST study (softmax, cnn, filters, mlp, devices, workers)."""

from __future__ import annotations

import math
from pathlib import Path

from dltool.report.tables import Column, TableSpec
from dltool.report.views.common import MFU_COLUMN, mfu_note

ACC = ".4f"


def _data_note(result) -> str:
    d = result.data
    return (f"data: {d.get('name')} from {d.get('source')}; {d.get('train'):,} training, "
            + (f"{d.get('validation'):,} validation, " if d.get("validation") else "")
            + f"{d.get('test'):,} test images")


def _ref_note(result) -> str:
    if result.config.dataset != "mnist":
        return "report: the reports measured MNIST only, so there is no reference for this dataset."
    return "report: the reports' own number for the same setting (— where they gave none)."


def _delta(measured, ref):
    if measured is None or ref is None:
        return None
    return measured - ref


# ---- softmax ----------------------------------------------------------------------------------------------

def softmax_tables(result):
    cfg = result.config
    rows = []
    for r in result.runs:
        rows.append({"optimizer": r.optimizer, "lr": r.lr, "momentum": r.momentum, "test_accuracy": r.test_accuracy,
                     "reference": r.reference, "reference_source": r.reference_source,
                     "delta": _delta(r.test_accuracy, r.reference),
                     "outcome": r.outcome, "final_loss": r.final_loss, "steps": r.steps,
                     "time_to_target": r.time_to_target, "train_seconds": r.train_seconds, "seconds": r.seconds,
                     "mfu": r.mfu})
    columns = [Column("optimizer", "optimizer", justify="left"), Column("lr", "lr", "g"),
               Column("momentum", "μ", "g"), Column("test_accuracy", "test acc", ACC),
               Column("reference", "report", ACC), Column("delta", "Δ", "+.4f"),
               Column("outcome", "outcome", justify="left"), Column("final_loss", "final loss", ".4f"),
               Column("steps", "steps", ",")]
    if cfg.target_accuracy is not None:
        columns.append(Column("time_to_target", f"s to {cfg.target_accuracy:g}", ".2f"))
    columns += [Column("train_seconds", "train s", ".2f"), MFU_COLUMN, Column("seconds", "s", ".2f")]
    notes = [
        f"softmax regression {'×'.join(str(v) for v in result.data['input_shape'])} → {result.data['num_classes']}, "
        f"batch {cfg.batch_size}, "
        f"{cfg.steps:,} steps per setting, initial weights {cfg.init}, {cfg.optimizer_defaults} optimizer "
        "constants, loss: "
        + ("cross-entropy on logits (stable)" if cfg.loss == "stable" else "naive −Σ y·log softmax (the report's)"),
        _data_note(result), _ref_note(result),
        "final loss: mean training loss of the last 50 steps; train s: compiled training calls; s: the setting "
        "end to end (engine build or reset, input pipeline, training, test).",
        f"{len(result.runs)} settings in {result.wall_seconds:.1f} s after TensorFlow started, "
        f"{result.engines_built} engines (one trace per optimizer, learning rates reuse it).",
        mfu_note(),
    ]
    if cfg.loss == "stable" and any(r.reference is not None and r.reference < 0.2 for r in result.runs):
        notes.append("report 0.098 = 980/10,000 test zeros: argmax of NaN logits, from the report's naive loss; "
                     "--loss naive reproduces it.")
    table = TableSpec(f"mnist softmax: optimizer × learning rate ({result.data['name']})", columns, rows,
                      notes=notes)
    best = max((r for r in result.runs if r.test_accuracy is not None), key=lambda r: r.test_accuracy, default=None)
    footer = []
    if best is not None:
        footer.append(f"Best: {best.optimizer} lr {best.lr:g}"
                      + (f" μ {best.momentum:g}" if best.momentum is not None else "")
                      + f" → test accuracy {best.test_accuracy:.4f}")
    return [table], footer


def softmax_plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import figure, save_figure, tight_layout

    panels: dict[str, list] = {}
    for r in result.runs:
        panel = r.optimizer if r.momentum is None else f"momentum (lr {r.lr:g})"
        label = (f"lr {r.lr:g}" if r.momentum is None else f"μ {r.momentum:g}") + (
            f" ({r.outcome})" if r.outcome != "ok" else "")
        panels.setdefault(panel, []).append((label, r.curve_steps, r.curve_loss))
    paths = [save_figure(_panels(panels, "training step", "training loss (log scale)",
                                 "Softmax regression: training loss per optimizer", logy=True),
                         run_dir / "loss_curves.png")]
    fig, ax = figure(figsize=(max(7, 0.45 * len(result.runs)), 4.5))
    labels = [f"{r.optimizer} {r.lr:g}" + (f" μ{r.momentum:g}" if r.momentum is not None else "")
              for r in result.runs]
    xs = list(range(len(result.runs)))
    ax.bar([x - 0.2 for x in xs], [r.test_accuracy or 0 for r in result.runs], width=0.4, label="measured",
           color="tab:blue")
    ax.bar([x + 0.2 for x in xs], [r.reference if r.reference is not None else 0 for r in result.runs], width=0.4,
           label="report", color="tab:orange")
    ax.set_xticks(xs, labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.axhline(0.1, color="grey", linestyle=":", linewidth=1)
    ax.text(1.005, 0.1, "chance", transform=ax.get_yaxis_transform(), fontsize=8, va="center", ha="left",
            color="grey")
    ax.set_title("Softmax regression: test accuracy, measured vs report", pad=22)
    ax.legend(fontsize=8, ncol=2, loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False)
    ax.grid(True, axis="y", alpha=0.3)
    tight_layout(fig)
    paths.append(save_figure(fig, run_dir / "accuracy.png"))
    return paths


def _panels(panels: dict[str, list], xlabel: str, ylabel: str, title: str, *, logy: bool = False,
            logx: bool = False, ncols: int = 3, ylim: tuple | None = None):
    """One subplot per panel, one line per (label, xs, ys) series."""
    from dltool.report.plots import figure, no_data, plot_lines, tight_layout

    n = max(len(panels), 1)
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    fig, axes = figure(rows, cols, figsize=(4.4 * cols, 3.3 * rows), squeeze=False)
    for ax, (name, series) in zip(axes.flat, panels.items()):
        plot_lines(ax, series)  # colours, then line styles past ten; markers on short curves
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if not any(v == v for _, _, ys in series for v in ys if v is not None):  # nothing drawn: say so
            no_data(ax)
            continue
        if logy and any(len(s[2]) for s in series):
            ax.set_yscale("log")
        if logx:
            ax.set_xscale("log")
        if ylim:
            ax.set_ylim(*ylim)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title)
    tight_layout(fig)
    return fig


# ---- cnn --------------------------------------------------------------------------------------------------

def cnn_tables(result):
    cfg = result.config
    rows = []
    for r in result.runs:
        rows.append({"batch_size": r.batch_size, "params": r.params, "epochs_run": r.epochs_run, "steps": r.steps,
                     "test_accuracy": r.test_accuracy, "reference": r.reference,
                     "delta": _delta(r.test_accuracy, r.reference), "train_seconds": r.train_seconds,
                     "time_to_target": r.time_to_target, "images_per_second": r.images_per_second,
                     "images_per_second_sem": r.images_per_second_sem, "step_ms": r.step_ms, "status": r.status,
                     "wall_seconds": r.wall_seconds, "mfu": r.mfu})
    columns = [Column("batch_size", "batch", ","), Column("epochs_run", "epochs", ".2f"),
               Column("steps", "steps", ","), Column("test_accuracy", "test acc", ACC),
               Column("reference", "report", ACC), Column("delta", "Δ", "+.4f"),
               Column("train_seconds", "train s", ".2f")]
    if cfg.target_accuracy is not None:
        columns.append(Column("time_to_target", f"s to {cfg.target_accuracy:g}", ".2f"))
    columns += [Column("images_per_second", "images/s", ",.0f"),
                Column("images_per_second_sem", "± sem", ",.0f"), Column("step_ms", "ms/step", ".2f"), MFU_COLUMN,
                Column("status", "status", justify="left"), Column("wall_seconds", "wall s", ".1f")]
    model = "Deep-MNIST CNN" if cfg.model == "deep" else "fast99 CNN"
    params = result.runs[0].params if result.runs else 0
    sched = f"one-cycle peak {cfg.lr:g}" if cfg.schedule == "onecycle" else f"{cfg.lr:g}"
    notes = [f"preset {result.preset}: {result.description}",
             f"{model} ({params:,} parameters), {cfg.optimizer} lr {sched}, {cfg.epochs} epoch(s) per batch size, "
             f"precision {cfg.precision}" + (", XLA" if cfg.jit_compile else "")
             + (f", initial values: {cfg.init}" if cfg.model == "deep" else ""),
             _data_note(result), _ref_note(result),
             "train s: compiled training steps (tracing excluded by a warm-up step, test evaluations excluded); "
             "images/s: mean ± standard error over the timed calls; wall s: the fit with its evaluations.",
             mfu_note(next((r.peak_flops for r in result.runs if r.peak_flops), None), cfg.precision)]
    if cfg.preset == "fast99" and cfg.dataset == "mnist":
        notes.append("report: 0.992 after 107.8 s of training (report 001; 2.7 s per epoch: a GPU's time, not "
                     "comparable with this machine's).")
    table = TableSpec(f"mnist cnn: {model} on {result.data['name']}", columns, rows, notes=notes)
    footer = []
    for r in result.runs:
        if r.time_to_target is not None:
            footer.append(f"batch {r.batch_size}: reached {cfg.target_accuracy:g} after {r.time_to_target:.2f} s "
                          f"of training (epoch {r.epoch_of_target:.2f}).")
        elif cfg.target_accuracy is not None:
            footer.append(f"batch {r.batch_size}: did not reach {cfg.target_accuracy:g} "
                          f"(best {max((e['accuracy'] or 0) for e in r.evals) if r.evals else 0:.4f}).")
    return [table], footer


def cnn_plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import count_axis, figure, fit_limits, save_figure, tight_layout

    paths = []
    runs = result.runs
    if len(runs) > 1:
        fig, (a1, a2) = figure(1, 2, figsize=(11, 4.2))
        bs = [r.batch_size for r in runs]
        a1.plot(bs, [r.test_accuracy for r in runs], "o-", label="measured")
        refs = [(r.batch_size, r.reference) for r in runs if r.reference is not None]
        if refs:
            a1.plot([b for b, _ in refs], [v for _, v in refs], "s", color="tab:orange", label="report")
        count_axis(a1, bs)
        a1.set_xlabel("batch size (log scale)")
        a1.set_ylabel("test accuracy")
        a1.set_title("Test accuracy after the run")
        a1.legend(fontsize=8)
        a1.grid(True, alpha=0.3)
        a2.plot(bs, [r.train_seconds for r in runs], "o-", color="tab:red")
        count_axis(a2, bs)
        a2.set_xlabel("batch size (log scale)")
        a2.set_ylabel("training seconds")
        a2.set_title("Training time (same epochs, compiled steps)")
        a2.grid(True, alpha=0.3)
        fig.suptitle(f"{result.data['name']}: CNN vs batch size")
        tight_layout(fig)
        paths.append(save_figure(fig, run_dir / "batch_sweep.png"))
    fig, ax = figure(figsize=(7, 4.5))
    for i, r in enumerate(runs):
        pts = [(e["train_seconds"], e["accuracy"]) for e in r.evals if e["accuracy"] is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", markersize=3, color=f"C{i % 10}",
                    label=f"batch {r.batch_size}")
    target = result.config.target_accuracy
    if target is not None:
        ax.axhline(target, linestyle="--", color="grey", linewidth=1)
    ax.set_xlabel("training seconds")
    ax.set_ylabel("test accuracy")
    # every evaluated accuracy (and the target line) inside the axis: a zoom on the best 0.1 dropped the others
    fit_limits(ax, [e["accuracy"] for r in runs for e in r.evals] + [target], lower=0.0, upper=1.0)
    ax.set_title("Test accuracy vs training time")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    tight_layout(fig)
    paths.append(save_figure(fig, run_dir / "accuracy_vs_time.png"))
    return paths


# ---- filters ----------------------------------------------------------------------------------------------

def filters_tables(result):
    cfg = result.config
    tables = []
    lr_runs = [r for r in result.runs if "lr" in r.sweeps.split("+")]
    f_runs = [r for r in result.runs if "filters" in r.sweeps.split("+")]
    common_notes = [f"CNN: conv 3×3×F → pool → conv 3×3×F → pool → dense 128 → dense 10; {cfg.optimizer} "
                    f"batch "
                    f"{cfg.batch_size}, {cfg.epochs} epoch(s), precision {cfg.precision}", _data_note(result)]
    if lr_runs:
        rows = [{"lr": r.lr, "val_accuracy": r.val_accuracy, "test_accuracy": r.test_accuracy,
                 "final_train_loss": r.epochs[-1]["train_loss"] if r.epochs else None, "status": r.status,
                 "train_seconds": r.train_seconds} for r in lr_runs]
        tables.append(TableSpec(f"mnist filters: learning rate at F = {cfg.lr_filters}", [
            Column("lr", "lr", "g"), Column("final_train_loss", "train loss", ".4f"),
            Column("val_accuracy", "val acc", ACC), Column("test_accuracy", "test acc", ACC),
            Column("status", "status", justify="left"), Column("train_seconds", "train s", ".1f")], rows,
            notes=common_notes + ["val acc: last epoch on the held-out validation images; curves in "
                                  "validation_curves.png."],
            primary=not f_runs))  # --csv carries one table: the width sweep when there is one
    if f_runs:
        rows = [{"filters": r.filters, "params": r.params, "params_by_hand": r.params_by_hand,
                 "reference_params": r.reference_params,
                 "match": None if r.reference_params is None else ("yes" if r.params == r.reference_params ==
                                                                    r.params_by_hand else "NO"),
                 "val_accuracy": r.val_accuracy, "reference_val_accuracy": r.reference_val_accuracy,
                 "test_error": None if r.test_accuracy is None else 1 - r.test_accuracy,
                 "reference_test_error": r.reference_test_error, "train_seconds": r.train_seconds,
                 "reference_cpu_seconds": r.reference_cpu_seconds, "reference_gpu_seconds": r.reference_gpu_seconds,
                 "reference_source": r.reference_source,
                 "seconds_per_epoch": r.seconds_per_epoch, "images_per_second": r.images_per_second,
                 "mfu": r.mfu} for r in f_runs]
        tables.append(TableSpec(f"mnist filters: width F at lr {cfg.lr:g}", [
            Column("filters", "F", ","), Column("params", "params", ","),
            Column("params_by_hand", "9F²+6283F+1418", ",", secondary=True), Column("reference_params", "report", ","),
            Column("match", "match", justify="left"), Column("val_accuracy", "val acc", ACC),
            Column("reference_val_accuracy", "report val", ".3f"), Column("test_error", "test err", ACC),
            Column("reference_test_error", "report err", ACC), Column("train_seconds", "train s", ".1f"),
            Column("reference_cpu_seconds", "report CPU s", ".2f", secondary=True),
            Column("reference_gpu_seconds", "report GPU s", ".2f", secondary=True),
            Column("seconds_per_epoch", "s/epoch", ".2f", secondary=True),
            Column("images_per_second", "images/s", ",.0f", secondary=True),
            MFU_COLUMN], rows,
            notes=common_notes + [
                "params: Keras' count; report: report 002's count (Table 1). report val / err / CPU s / GPU s: "
                "report 002's validation accuracy, test error and 10-epoch runtimes on its own (unnamed) CPU and "
                "GPU, shown only at its setting (MNIST, GD lr 0.1, batch 50, 10 epochs); its GPU seconds are "
                "a GPU's and are not comparable with train s here. train s excludes tracing and evaluation."]))
    return tables, []


def filters_plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import figure, save_figure, tight_layout

    cfg = result.config
    paths = []
    lr_runs = [r for r in result.runs if "lr" in r.sweeps.split("+")]
    f_runs = [r for r in result.runs if "filters" in r.sweeps.split("+")]
    if lr_runs:
        fig, (a1, a2) = figure(1, 2, figsize=(11, 4.2))
        for i, r in enumerate(lr_runs):
            ep = [e["epoch"] for e in r.epochs]
            a1.plot(ep, [e["val_accuracy"] for e in r.epochs], "o-", markersize=3, color=f"C{i}", label=f"lr {r.lr:g}")
            a2.plot(ep, [e["train_loss"] for e in r.epochs], "o-", markersize=3, color=f"C{i}", label=f"lr {r.lr:g}")
        a1.set_xlabel("epoch")
        a1.set_ylabel("validation accuracy")
        a1.set_title("Validation accuracy")
        a2.set_xlabel("epoch")
        a2.set_ylabel("training loss (log scale)")
        a2.set_yscale("log")
        a2.set_title("Training loss")
        for ax in (a1, a2):
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(f"Filters CNN, F = {cfg.lr_filters}: learning rate")
        tight_layout(fig)
        paths.append(save_figure(fig, run_dir / "validation_curves.png"))
    if f_runs:
        fig, (a1, a2, a3) = figure(1, 3, figsize=(15, 4.2))
        fs = [r.filters for r in f_runs]
        a1.plot(fs, [r.test_accuracy for r in f_runs], "o-", label="test")
        a1.plot(fs, [r.val_accuracy for r in f_runs], "s--", label="validation")
        ref_acc = [(r.filters, 1 - r.reference_test_error) for r in f_runs if r.reference_test_error is not None]
        if ref_acc:
            a1.plot(*zip(*ref_acc), "x:", color="tab:orange", label="report 002 test")
        a1.set_xscale("log", base=2)
        a1.set_xlabel("filters F (log scale)")
        a1.set_ylabel("accuracy")
        a1.set_title("Accuracy vs F")
        a1.legend(fontsize=8)
        a2.plot(fs, [r.train_seconds for r in f_runs], "o-", color="tab:red", label="measured (this machine)")
        for key, style, label in (("reference_cpu_seconds", "x:", "report 002, its CPU"),
                                  ("reference_gpu_seconds", "+:", "report 002, its GPU")):
            pts = [(r.filters, getattr(r, key)) for r in f_runs if getattr(r, key) is not None]
            if pts:
                a2.plot(*zip(*pts), style, label=label)
        if len(a2.get_lines()) > 1:
            a2.legend(fontsize=7)
        a2.set_xscale("log", base=2)
        a2.set_yscale("log")
        a2.set_xlabel("filters F (log scale)")
        a2.set_ylabel("training seconds (log scale)")
        a2.set_title("Runtime vs F")
        from matplotlib.ticker import NullLocator

        for ax in (a1, a2):
            ax.set_xticks(fs, [str(f) for f in fs])
            # keep the log y axis' minor labels (a narrow range has no major tick)
            ax.xaxis.set_minor_locator(NullLocator())
        a3.plot([r.params for r in f_runs], [r.test_accuracy for r in f_runs], "o-", color="tab:green")
        for r in f_runs:
            a3.annotate(f"F={r.filters}", (r.params, r.test_accuracy), fontsize=7, textcoords="offset points",
                        xytext=(3, 3))
        a3.set_xscale("log")
        a3.set_xlabel("parameters (log scale)")
        a3.set_ylabel("test accuracy")
        a3.set_title("Accuracy vs parameters")
        for ax in (a1, a2, a3):
            ax.grid(True, alpha=0.3, which="both")
        fig.suptitle(f"Filters CNN at lr {cfg.lr:g}")
        tight_layout(fig)
        paths.append(save_figure(fig, run_dir / "filters.png"))
    return paths


# ---- mlp --------------------------------------------------------------------------------------------------

def _mlp_ref(run, quantity: str):
    """The report's value of ``quantity`` for a run (the first one it gives), or None."""
    values = [ref["value"] for ref in run.reference if ref["quantity"] == quantity]
    return values[0] if values else None


def mlp_tables(result):
    cfg = result.config
    rows = []
    for r in result.runs:
        reg = ", ".join(p for p in (f"L2 {r.l2:g}" if r.l2 else "",
                                    f"L1 {r.l1:g} ({r.l1_definition})" if r.l1 else "",
                                    f"dropout {r.dropout:g}" if r.dropout else "",
                                    "layer norm" if r.layer_norm else "") if p) or "none"
        lr = f"{r.lr:g}" + (f"/(1+{cfg.decay:g}k)" if r.schedule == "inverse-time" else "")
        ref_test = _mlp_ref(r, "test_accuracy")
        ref_w = _mlp_ref(r, "mean_abs_weight")
        rows.append({"name": r.name, "studies": "all" if "base" in r.studies else ", ".join(r.studies),
                     "hidden": r.hidden, "optimizer": r.optimizer,
                     "lr": lr, "regularisation": reg, "params": r.params, "train_accuracy": r.train_accuracy,
                     "test_accuracy": r.test_accuracy, "reference_test_accuracy": ref_test,
                     "delta": _delta(r.test_accuracy, ref_test), "mean_abs_weight": r.mean_abs_weight,
                     "reference_mean_abs_weight": ref_w, "share_small": r.share_small,
                     "time_to_target": r.time_to_target, "train_seconds": r.train_seconds,
                     "reference_train_seconds": _mlp_ref(r, "train_seconds"), "mfu": r.mfu})
    columns = [Column("name", "run", justify="left"), Column("studies", "studies", justify="left", secondary=True),
               Column("hidden", "hidden", secondary=True), Column("optimizer", "opt", justify="left"),
               Column("lr", "lr"), Column("regularisation", "regularisation", justify="left"),
               Column("params", "params", ",", secondary=True),
               Column("train_accuracy", "train acc", ACC), Column("test_accuracy", "test acc", ACC),
               Column("reference_test_accuracy", "report", ".3f"), Column("delta", "Δ", "+.4f"),
               Column("mean_abs_weight", "mean |w|", ".4f", secondary=True),
               Column("reference_mean_abs_weight", "report", "g", secondary=True),
               Column("share_small", "|w|<1e-3", ".1%", secondary=True)]
    if cfg.target_accuracy is not None:
        columns.append(Column("time_to_target", f"s to {cfg.target_accuracy:g}", ".2f"))
    columns += [Column("train_seconds", "train s", ".1f", secondary=True),
                Column("reference_train_seconds", "report s (its machine)", ".0f", secondary=True), MFU_COLUMN]
    notes = [f"MLP on {result.data['name']}, batch {cfg.batch_size}, {cfg.epochs} epoch(s), ReLU; base: 784-100-10, "
             f"SGD lr {cfg.lr:g}, L2 {cfg.l2:g}·Σw² on the hidden weights; diminishing lr: k counts "
             f"{cfg.decay_unit}s; L1: {mlp_l1_text(cfg)}", _data_note(result),
             "train acc: whole training set after training (no dropout); mean |w| and |w|<1e-3: first hidden "
             "layer's weights; train s: compiled training calls (the first call traces)."]
    if result.references:
        notes.append("report: report 003's number for the run (test accuracy, mean |w|, training time; all of "
                     "them with their sections in the next table). Its runs trained 50 epochs on 60,000 images; "
                     "its times are its own machine's (GPU or CPU not stated), never divided by ours.")
        notes.append("report 003 gives two test accuracies for the same vanilla network: 0.956 (Q1) and 0.965 "
                     "(Q6); the base row shows Q1's.")
    elif cfg.dataset != "mnist":
        notes.append(_ref_note(result))
    else:
        notes.append("report: none, because a setting differs from report 003's (lr 0.1, L2 0.01, batch 100, "
                     "δ 0.1, Adagrad 0.01, L1 0.05, dropout 0.2).")
    tables = [TableSpec(f"mnist mlp: runs ({result.data['name']})", columns, rows, notes=notes)]
    if result.references:
        names = {"train_accuracy": "train accuracy", "test_accuracy": "test accuracy",
                 "train_seconds": "training seconds", "mean_abs_weight": "mean |w|"}
        ref_rows = [dict(row, quantity=names.get(row["quantity"], row["quantity"])) for row in result.references]
        tables.append(TableSpec("mnist mlp: report 003's numbers beside ours", [
            Column("source", "source", justify="left"), Column("run", "run", justify="left"),
            Column("quantity", "quantity", justify="left"), Column("reference", "report", "g"),
            Column("measured", "ours", ".4g"), Column("delta", "Δ", "+.4f")], ref_rows,
            notes=["training seconds: the report's machine vs this one, shown side by side, no Δ and no ratio."],
            primary=False))
    base = result.runs[0] if result.runs else None
    if base is not None and base.epochs:
        rows = [{"epoch": e["epoch"], "train_loss": e["train_loss"], "train_accuracy": e["train_accuracy"],
                 "test_accuracy": e["test_accuracy"]} for e in base.epochs]
        tables.append(TableSpec(f"mnist mlp: {base.name}, per epoch", [
            Column("epoch", "epoch"), Column("train_loss", "train loss", ".4f"),
            Column("train_accuracy", "train acc (running)", ACC), Column("test_accuracy", "test acc", ACC)], rows,
            notes=["train acc (running): accuracy on the training batches during the epoch, dropout on."],
            primary=False))
    footer = []
    if base is not None and base.test_accuracy is not None:
        ref = _mlp_ref(base, "test_accuracy")
        footer.append(f"Base 784-100-10: test accuracy {base.test_accuracy:.4f}, train {base.train_accuracy:.4f}"
                      + (f" (report 003: test {ref:.3f}, train {_mlp_ref(base, 'train_accuracy'):.3f})."
                         if ref is not None else "."))
    return tables, footer


def mlp_l1_text(cfg) -> str:
    from dltool.models.penalties import L1_DEFINITIONS

    return f"λ {cfg.l1:g} as {L1_DEFINITIONS.get(cfg.l1_definition, cfg.l1_definition)} ({cfg.l1_definition})"


GALLERY = "gallery.npz"  # the test digits of gallery.png, beside it in the run folder


def _gallery_images(result, run_dir: Path):
    """The gallery's digits: the Result's (kept in gallery.npz beside gallery.png, as results.json holds no
    pixels), or those kept there when the figure is drawn again (``dltool runs plot --redraw``)."""
    from dltool.report.plots import load_arrays, save_arrays

    images = getattr(result, "gallery_images", None)
    if images is not None:
        save_arrays(run_dir / GALLERY, images)
        return images
    return load_arrays(run_dir / GALLERY)


def mlp_plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import figure, save_figure, tight_layout

    paths = []
    panels: dict[str, list] = {}
    for r in result.runs:
        for study in r.studies:
            if study == "base":
                continue
            epochs = [e["epoch"] for e in r.epochs]
            panels.setdefault(study, []).append((r, epochs, [e["test_accuracy"] for e in r.epochs]))
    if panels:
        n = len(panels)
        cols = min(2, n)
        nrows = math.ceil(n / cols)
        fig, axes = figure(nrows, cols, figsize=(5.2 * cols, 3.6 * nrows), squeeze=False)
        for ax, (study, series) in zip(axes.flat, panels.items()):
            for i, (r, xs, ys) in enumerate(series):
                colour = f"C{i % 10}"
                ax.plot(xs, ys, label=r.name, color=colour, linewidth=1.3, marker="o", markersize=2)
                ref = _mlp_ref(r, "test_accuracy")
                if ref is not None and xs:
                    # The report's final test accuracy, at the report's last epoch (or ours, if we ran fewer).
                    ax.plot([min(xs[-1], 50)], [ref], marker="*", markersize=10, color=colour, linestyle="none")
            ax.set_title(study)
            ax.set_xlabel("epoch")
            ax.set_ylabel("test accuracy")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7, title="★ report 003" if any(_mlp_ref(r, "test_accuracy") is not None
                                                               for r, _, _ in series) else None, title_fontsize=7)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        fig.suptitle("MLP studies: test accuracy per epoch")
        tight_layout(fig)
        paths.append(save_figure(fig, run_dir / "studies.png"))
    base = result.runs[0] if result.runs else None
    if base is not None and base.epochs:
        fig, ax = figure(figsize=(7, 4.2))
        ep = [e["epoch"] for e in base.epochs]
        ax.plot(ep, [e["train_accuracy"] for e in base.epochs], "o-", markersize=3, label="train (running)")
        ax.plot(ep, [e["test_accuracy"] for e in base.epochs], "s-", markersize=3, label="test")
        for ref in base.reference:
            if ref["quantity"] in ("train_accuracy", "test_accuracy"):
                ax.axhline(ref["value"], linestyle="--" if ref["quantity"] == "test_accuracy" else ":",
                           linewidth=1, color="tab:orange" if "Q1" in ref["source"] else "tab:purple",
                           label=f"{ref['source']}: {ref['quantity'].split('_')[0]} {ref['value']:.3f}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{base.name}: train and test accuracy")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        tight_layout(fig)
        paths.append(save_figure(fig, run_dir / "base_accuracy.png"))
    compared = [row for row in result.references or [] if row["quantity"] == "test_accuracy"]  # none: stopped
    if compared:
        fig, ax = figure(figsize=(max(6, 0.9 * len(compared)), 4.2))
        xs = list(range(len(compared)))
        ax.bar([x - 0.2 for x in xs], [row["measured"] or 0 for row in compared], width=0.4, label="measured",
               color="tab:blue")
        ax.bar([x + 0.2 for x in xs], [row["reference"] for row in compared], width=0.4, label="report 003",
               color="tab:orange")
        ax.set_xticks(xs, [f"{row['run']}\n({row['source'].split(', ')[-1]})" for row in compared], rotation=30,
                      ha="right", fontsize=7)
        lows = [v for row in compared for v in (row["measured"], row["reference"]) if v is not None]
        ax.set_ylim(max(0.0, min(lows) - 0.05), 1.0)
        ax.set_ylabel("test accuracy")
        ax.set_title("MLP: test accuracy, measured vs report 003", pad=22)
        ax.legend(fontsize=8, ncol=2, loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False)
        ax.grid(True, axis="y", alpha=0.3)
        tight_layout(fig)
        paths.append(save_figure(fig, run_dir / "report.png"))
    images = _gallery_images(result, run_dir)
    if images is not None and result.gallery:
        names = result.gallery.get("class_names") or [str(i) for i in range(10)]
        n = max(len(result.gallery["correct"]), len(result.gallery["wrong"]), 1)
        fig, axes = figure(2, n, figsize=(1.3 * n, 3.4), squeeze=False)
        for row, kind in enumerate(("correct", "wrong")):
            for col in range(n):
                ax = axes[row][col]
                ax.axis("off")
                if col < len(result.gallery[kind]):
                    item = result.gallery[kind][col]
                    ax.imshow(images[kind][col], cmap="gray_r")
                    colour = "tab:green" if kind == "correct" else "tab:red"
                    ax.set_title(f"{names[item['label']]}→{names[item['prediction']]}\n{item['confidence']:.0%}",
                                 fontsize=7, color=colour)
        fig.suptitle("Base MLP on test digits: correct (top) and wrong (bottom); label→prediction, confidence")
        tight_layout(fig)
        paths.append(save_figure(fig, run_dir / "gallery.png"))
    return paths


# ---- devices ----------------------------------------------------------------------------------------------

def devices_tables(result):
    cfg = result.config
    rows = [{"devices": r.devices, "label": r.label, "batch_size": r.batch_size, "per_device_batch": r.per_device_batch,
             "step_ms": r.step_ms, "step_ms_sem": r.step_ms_sem, "images_per_second": r.images_per_second,
             "images_per_second_sem": r.images_per_second_sem, "seconds_per_epoch": r.seconds_per_epoch,
             "speedup": r.speedup, "virtual": r.virtual, "reference_gpu_seconds": r.reference_gpu_seconds,
             "reference_source": r.reference_source, "mfu": r.mfu} for r in result.runs]
    model = {"deep": "Deep-MNIST CNN", "fast": "fast99 CNN", "mlp": "MLP 784-100-10", "softmax": "softmax"}[cfg.model]
    notes = [f"{model}, {cfg.optimizer} lr {cfg.lr:g}, MirroredStrategy, {cfg.steps} timed steps per setting after "
             f"a warm-up step, precision {cfg.precision}; batch = global batch, split evenly over the devices.",
             "ms/step and images/s: mean ± standard error over the timed calls; s/epoch: one pass over "
             f"{result.data.get('train', 60000):,} training images at that rate; speedup: 1-device step time / this "
             "step time at the same batch.",
             "report GPU s: report 000 §4.1's training time for one epoch on 1 / 2 / 4 GPUs (Deep-MNIST CNN, batch "
             "4 and 48): a GPU's seconds, beside our s/epoch but never divided into it. The report saw batch 4 "
             "slow down with more GPUs (59 → 65 → 71 s) and batch 48 speed up (8.44 → 7.22 → 7.02 s)."]
    if any(r.virtual for r in result.runs):
        notes.append("virtual: logical devices carved out of one CPU (or GPU) share its cores and add no hardware. "
                     "A speedup above 1 here means one device left cores idle (small steps run their ops one "
                     "after another) and N replicas filled them; it is not what N real devices would give.")
    table = TableSpec("mnist devices: training time vs batch size", [
        Column("label", "devices", justify="left"), Column("batch_size", "batch", ","),
        Column("per_device_batch", "per device", ","), Column("step_ms", "ms/step", ".2f"),
        Column("step_ms_sem", "± sem", ".2f"), Column("images_per_second", "images/s", ",.0f"),
        Column("images_per_second_sem", "± sem", ",.0f"), Column("seconds_per_epoch", "s/epoch", ".1f"),
        Column("reference_gpu_seconds", "report GPU s", ".2f"), Column("speedup", "speedup", ".2f"), MFU_COLUMN],
        rows, notes=notes)
    return [table], []


def devices_plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import count_axis, figure, save_figure, tight_layout

    fig, (a1, a2) = figure(1, 2, figsize=(11, 4.2))
    for i, n in enumerate(sorted({r.devices for r in result.runs})):
        runs = sorted((r for r in result.runs if r.devices == n), key=lambda r: r.batch_size)
        label = runs[0].label if runs else str(n)
        a1.plot([r.batch_size for r in runs], [r.seconds_per_epoch for r in runs], "o-", color=f"C{i}", label=label)
        a2.plot([r.batch_size for r in runs], [r.speedup for r in runs], "o-", color=f"C{i}", label=label)
    batches = [r.batch_size for r in result.runs]
    count_axis(a1, batches, base=2)
    a1.set_yscale("log")
    a1.set_xlabel("global batch size (log scale)")
    a1.set_ylabel("seconds per epoch (log scale)")
    a1.set_title("Training time per epoch")
    a2.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    if all(r.speedup is None for r in result.runs):  # e.g. --devices 2: no 1-device run at the same batch
        a2.set_xlim(min(batches) / 1.5, max(batches) * 1.5)  # only the line at 1 is drawn: no limits from data
        a2.text(0.5, 0.3, "no 1-device run at these batch sizes", transform=a2.transAxes, ha="center",
                va="center", fontsize=9, color="grey")
    count_axis(a2, batches, base=2)
    a2.set_xlabel("global batch size (log scale)")
    a2.set_ylabel("speedup vs 1 device")
    a2.set_title("Speedup at the same batch")
    for ax in (a1, a2):
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("MirroredStrategy: time vs batch size and device count"
                 + (" (virtual devices)" if any(r.virtual for r in result.runs) else ""))
    tight_layout(fig)
    return [save_figure(fig, run_dir / "devices.png")]


# ---- workers ----------------------------------------------------------------------------------------------

def workers_tables(result):
    cfg = result.config
    rows = []
    for r in result.runs:
        agree = [a for a in r.worker_test_accuracy if a is not None]
        rows.append({"workers": r.workers, "label": r.label, "shard_size": r.shard_size,
                     "global_batch": r.global_batch, "steps": r.steps, "test_accuracy": r.test_accuracy,
                     "reference": r.reference, "reference_source": r.reference_source,
                     "delta": _delta(r.test_accuracy, r.reference), "train_seconds": r.train_seconds,
                     "step_ms": r.step_ms,
                     "images_per_second": r.images_per_second, "speedup": r.speedup, "mfu": r.mfu,
                     "workers_agree": (max(agree) - min(agree) < 1e-6) if agree else None, "status": r.status})
    model = "MLP 784-100-10" if cfg.model == "mlp" else cfg.model
    shard_text = ("a seeded random permutation dealt into K parts" if cfg.shards == "random"
                  else "worker i takes images i, i+K, i+2K …")
    l2 = f", L2 {cfg.l2:g}·Σw² on the hidden weights" if cfg.l2 else ""
    notes = [f"{model}, {cfg.optimizer} lr {cfg.lr:g}{l2}, batch {cfg.batch_size} per worker, {cfg.epochs} epoch(s), "
             f"MultiWorkerMirroredStrategy ({cfg.communication} collectives), one process per worker on 127.0.0.1",
             _data_note(result),
             f"shard: training images per worker (fixed, disjoint, covering the training set: {shard_text}); "
             "train s: the chief's "
             "compiled training calls, all-reduce included; speedup: 1-worker train s / this train s.",
             "agree: every worker computed the same test accuracy (they hold the same weights).",
             "All workers share this machine's cores, so K > 1 measures the collectives' cost, not a speedup."]
    if any(r.reference is not None for r in result.runs):
        notes.append("report: report 003's test accuracy after 50 epochs (K = 6: Q4, 6 random shards; K = 1: Q1, "
                     "the same network on one machine).")
    elif cfg.dataset != "mnist":
        notes.append(_ref_note(result))
    table = TableSpec("mnist workers: K workers on disjoint shards", [
        Column("label", "workers", justify="left"), Column("shard_size", "shard", ",", secondary=True),
        Column("global_batch", "global batch", ","), Column("steps", "steps", ",", secondary=True),
        Column("test_accuracy", "test acc", ACC), Column("reference", "report", ".3f"),
        Column("reference_source", "source", justify="left"), Column("delta", "Δ", "+.4f"),
        Column("train_seconds", "train s", ".2f"),
        Column("step_ms", "ms/step", ".2f", secondary=True),
        Column("images_per_second", "images/s", ",.0f", secondary=True),
        Column("speedup", "speedup", ".2f"), MFU_COLUMN,
        Column("workers_agree", "agree", lambda v: "yes" if v else "NO"),
        Column("status", "status", justify="left")], rows, notes=notes)
    return [table], []


def workers_plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import figure, save_figure, tight_layout

    fig, (a1, a2) = figure(1, 2, figsize=(11, 4.2))
    for i, r in enumerate(result.runs):
        ep = [e["epoch"] for e in r.epochs]
        a1.plot(ep, [e["test_accuracy"] for e in r.epochs], "o-", markersize=3, color=f"C{i}",
                label=f"K = {r.workers}")
        if r.reference is not None and ep:
            a1.axhline(r.reference, color=f"C{i}", linestyle="--", linewidth=1,
                       label=f"{r.reference_source}: {r.reference:.3f}")
    a1.set_xlabel("epoch")
    a1.set_ylabel("test accuracy")
    a1.set_title("Test accuracy per epoch")
    a1.legend(fontsize=8)
    ks = [str(r.workers) for r in result.runs]
    a2.bar(ks, [r.train_seconds for r in result.runs], color=[f"C{i}" for i in range(len(ks))])
    for x, r in zip(ks, result.runs):
        a2.annotate(f"{r.test_accuracy:.4f}" if r.test_accuracy is not None else "—", (x, r.train_seconds),
                    ha="center", va="bottom", fontsize=8)
    a2.set_xlabel("workers K")
    a2.set_ylabel("training seconds")
    a2.set_title("Training time (labels: test accuracy)")
    for ax in (a1, a2):
        ax.grid(True, alpha=0.3)
    fig.suptitle("MultiWorkerMirroredStrategy on disjoint shards (local processes)")
    tight_layout(fig)
    return [save_figure(fig, run_dir / "workers.png")]
