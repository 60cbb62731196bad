"""runs: the list of run folders, a finished run's stored tables, the side-by-side comparison, overlaid curves."""

from __future__ import annotations

from typing import Any

from dltool.report.tables import Column, TableSpec, text_rows, to_csv


def to_stored(spec: TableSpec) -> dict[str, Any]:
    """A table as plain JSON (cells already formatted, its CSV text beside them), kept in results.json so a
    finished run's tables print again (``dltool runs show``) without TensorFlow and without rerunning."""
    return {"title": spec.title, "columns": [{"header": c.header, "justify": c.justify,
                                             **({"secondary": True} if c.secondary else {})} for c in spec.columns],
            "rows": text_rows(spec), "notes": list(spec.notes), "primary": spec.primary, "csv": to_csv(spec)}


def from_stored(doc: dict[str, Any]) -> TableSpec:
    """The inverse of :func:`to_stored`: a TableSpec whose cells are the stored text."""
    columns = [Column(str(i), c.get("header", ""), justify=c.get("justify", "right"),
                      secondary=bool(c.get("secondary"))) for i, c in enumerate(doc.get("columns", []))]
    rows = [{str(i): v for i, v in enumerate(row)} for row in doc.get("rows", [])]
    return TableSpec(doc.get("title", ""), columns, rows, notes=list(doc.get("notes", [])),
                     primary=bool(doc.get("primary", True)))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, s = divmod(int(round(seconds)), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d}:{s:02d}" if hours else f"{m}:{s:02d}"


#: headline metrics recorded in bytes/s (allreduce's bandwidths), shown in GB/s as the allreduce tables show them
GBS = ("busbw", "algbw")


def _metric(metric: str | None, value: float | None) -> str:
    if metric is None or value is None:
        return "—"
    if metric in GBS:
        return f"{metric} {value / 1e9:.3g} GB/s"
    text = f"{value:.4f}" if abs(value) < 10 else f"{value:,.0f}"
    return f"{metric} {text}"


def list_table(folders: list) -> TableSpec:
    rows = [{"run": f.name, "command": f.command, "started": (f.started or "—").replace("T", " "),
             "status": f.status, "runs": f.runs, "headline": _metric(f.headline_metric, f.headline_value),
             "best_run": f.headline_run, "duration": _duration(f.duration_s), "duration_s": f.duration_s,
             "headline_metric": f.headline_metric, "headline_value": f.headline_value, "path": f.path}
            for f in folders]
    notes = ["headline: the best value over the folder's runs of its first recorded metric (test accuracy, "
             "then validation accuracy, RMSE, throughput, final loss); duration: started → finished."]
    if not folders:
        notes = ["no run folders here: every training command writes one (runs/<command>-<time>/)"]
    return TableSpec("run folders", [
        Column("run", "run", justify="left"), Column("command", "command", justify="left"),
        Column("started", "started", justify="left"), Column("status", "status", justify="left"),
        Column("runs", "runs"), Column("headline", "headline", justify="left"),
        Column("best_run", "best run", justify="left"), Column("duration", "duration")], rows, notes=notes,
        csv_columns=[Column(k, k) for k in ("run", "command", "started", "status", "runs", "headline_metric",
                                            "headline_value", "best_run", "duration_s", "path")])


def show_tables(doc: dict) -> tuple[list[TableSpec], list[str]]:
    """The tables the run printed when it finished (stored in its results.json), else a summary of its runs."""
    stored = doc.get("tables")
    footer = [line for line in doc.get("footer", []) if not line.startswith("Results and plots:")]
    if stored:
        return [from_stored(t) for t in stored], footer
    records = [r for r in doc.get("runs", []) if isinstance(r, dict)]
    keys: list[str] = []
    for record in records:
        for key, value in record.items():
            if key not in keys and (value is None or isinstance(value, (str, int, float))):
                keys.append(key)
    spec = TableSpec(f"{doc.get('command', '?')}: {len(records)} runs ({doc.get('status', '?')})",
                     [Column(k, k, ".5g" if any(isinstance(r.get(k), float) for r in records) else "",
                             justify="right") for k in keys], records,
                     notes=["this run folder has no stored tables (written before they were kept, or unfinished): "
                            "its recorded fields are shown"])
    return [spec], footer


def compare_tables(comparison) -> list[TableSpec]:
    names = [f.name for f in comparison.runs]
    cols = [Column("key", "", justify="left")] + [Column(str(i), n) for i, n in enumerate(names)]

    def value(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.5g}"
        if isinstance(v, list):
            return ",".join(str(x) for x in v)
        return "—" if v is None else str(v)

    summary = [{"key": label, **{str(i): value(getattr(f, attr)) for i, f in enumerate(comparison.runs)}}
               for label, attr in (("command", "command"), ("status", "status"), ("runs", "runs"),
                                   ("started", "started"))]
    summary.append({"key": "duration", **{str(i): _duration(f.duration_s) for i, f in enumerate(comparison.runs)}})
    results = [{"key": f"best {k} (GB/s)" if k in GBS else f"best {k}",
                **{str(i): value(v / 1e9 if k in GBS and v is not None else v) for i, v in enumerate(vals)}}
               for k, vals in comparison.metrics.items()]
    config = [{"key": k, **{str(i): value(v) for i, v in enumerate(vals)}} for k, vals in comparison.differing.items()]
    return [TableSpec("results", cols, summary + results),
            TableSpec("config: the keys that differ", cols, config or [{"key": "(none)"}],
                      notes=[f"{comparison.same} other config keys are equal in all runs"], primary=False)]


def compare_doc(comparison) -> dict:
    return {"runs": [{"path": f.path, "command": f.command, "status": f.status, "started": f.started,
                      "duration_s": f.duration_s, "runs": f.runs} for f in comparison.runs],
            "config_differs": comparison.differing, "config_same_keys": comparison.same,
            "results": comparison.metrics}


# command (as results.json names it) → (views module, its plots function)
REDRAW = {"fit-line": ("fit_line", "plots"), "scale": ("scale", "plots"), "allreduce": ("allreduce", "plots"),
          "cutout train": ("cutout", "plots"), "cifar-adaptive": ("cifar_adaptive", "plots"),
          "eggholder": ("eggholder", "plots"), "mnist softmax": ("mnist", "softmax_plots"),
          "mnist cnn": ("mnist", "cnn_plots"), "mnist filters": ("mnist", "filters_plots"),
          "mnist mlp": ("mnist", "mlp_plots"), "mnist devices": ("mnist", "devices_plots"),
          "mnist workers": ("mnist", "workers_plots")}


def redraw(doc: dict, out_dir, source=None) -> list:
    """The command's own figures, drawn again from results.json into ``out_dir`` (see ``runlog.StoredResult``).

    ``source`` is the run folder: the arrays some figures are drawn from (MLP gallery digits, eggholder surfaces)
    are kept there beside their PNG (``*.npz``, results.json holds no arrays) and are copied along. A run that was
    stopped (interrupted, terminated, failed) has its finished runs in results.json but not the summary written
    at the end: its figures are drawn from those runs, without what only the summary holds (fit-line's points,
    allreduce's fitted model, the speedups of a scale sweep)."""
    import importlib
    import shutil
    from pathlib import Path

    from dltool.errors import UsageError
    from dltool.runlog import StoredResult

    command = str(doc.get("command"))
    if command not in REDRAW:
        raise UsageError(f"no figures to redraw for command {command!r}",
                         f"--redraw knows {', '.join(sorted(REDRAW))}; leave it out to overlay the training curves")
    if not doc.get("runs"):
        raise UsageError(f"this {command} run has no finished run to draw (status {doc.get('status', '?')})",
                         "redraw a run folder in which at least one run finished")
    module, function = REDRAW[command]
    plots = getattr(importlib.import_module(f"dltool.report.views.{module}"), function)
    out_dir = Path(out_dir)
    for data in sorted(Path(source).glob("*.npz")) if source is not None else []:
        if data.resolve() != (out_dir / data.name).resolve():
            shutil.copyfile(data, out_dir / data.name)
    try:
        paths = list(plots(StoredResult(doc), out_dir))
    except (TypeError, AttributeError, KeyError, ValueError) as err:
        pngs = source is not None and any(Path(source).glob("*.png"))  # a stopped run may have none
        raise UsageError(f"{command}'s figures cannot be redrawn from results.json alone ({type(err).__name__}: "
                         f"{err})", ("its PNGs are in the run folder; " if pngs else "")
                         + "leave --redraw out to overlay the curves")
    if not paths:  # e.g. a stopped allreduce whose one finished run was the 1-device baseline
        raise UsageError(f"the {len(doc['runs'])} finished runs of this {command} run make no figure",
                         "leave --redraw out to overlay the training curves")
    return paths


def draw_stopped(run_dir) -> list:
    """The figures of a stopped run (Ctrl-C, SIGTERM) drawn from its finished runs, into its folder: the
    ``--redraw`` path on the results.json just written. [] when no run finished or the figures cannot be drawn:
    the stopped run must still exit at once with its results, so no error (nor a second Ctrl-C) escapes here.

    The figures are drawn in a hidden folder and moved in when all are done: an interrupted drawing leaves no
    half-written PNG."""
    import shutil
    import tempfile
    from pathlib import Path

    from dltool import runlog

    run_dir = Path(run_dir)
    scratch = None
    try:
        doc = runlog.load(run_dir)
        if not doc.get("runs") or str(doc.get("command")) not in REDRAW:
            return []
        scratch = Path(tempfile.mkdtemp(prefix=".figures-", dir=run_dir))
        paths = redraw(doc, scratch, run_dir)
        return [Path(shutil.move(str(p), str(run_dir / p.name))) for p in paths]
    except (Exception, KeyboardInterrupt):  # noqa: BLE001 - the results are kept whatever the figures do
        return []
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def curves_figure(curves: list):
    """Training loss of every run (log scale), and the evaluated accuracy per epoch where runs recorded it.

    One colour per run label and one line style per run folder, so the same setting in two folders is the same
    colour, solid against dashed; past ten labels the colours repeat with another marker shape. A curve of few
    points carries a marker on each (one point drew nothing); the legend lists the labels and the folders once
    each, beside the plot."""
    from matplotlib.lines import Line2D

    from dltool.report.plots import FEW_POINTS, LINE_STYLES, MARKERS, figure, no_data, palette

    labels = list(dict.fromkeys(c.run for c in curves))
    folders = list(dict.fromkeys(c.folder for c in curves))
    colour_of = dict(zip(labels, palette(len(labels))))
    marker_of = {label: MARKERS[(i // 10) % len(MARKERS)] if len(labels) > 10 else None
                 for i, label in enumerate(labels)}
    style_of = {folder: LINE_STYLES[i % len(LINE_STYLES)] for i, folder in enumerate(folders)}

    def marks(label: str, points: int) -> dict:
        if points <= FEW_POINTS:
            return {"marker": marker_of[label] or "o", "ms": 4}
        every = max(1, points // 8)  # eight markers a curve, shifted per label so that they do not stack
        return ({"marker": marker_of[label], "ms": 4, "markevery": (labels.index(label) % every, every)}
                if marker_of[label] else {})

    with_acc = [c for c in curves if c.accuracy]
    fig, axes = figure(1, 2 if with_acc else 1, figsize=(13 if with_acc else 7, 4.5), squeeze=False)
    ax = axes[0][0]
    finite = [v for c in curves for v in c.values if v == v and abs(v) != float("inf")]
    for curve in curves:
        ax.plot(range(1, len(curve.values) + 1), curve.values, color=colour_of[curve.run],
                ls=style_of[curve.folder], lw=1.2, **marks(curve.run, len(curve.values)))
    if any(v > 0 for v in finite):
        ax.set_yscale("log")
    else:
        no_data(ax, "no finite training loss")
    ax.set_xlabel(" / ".join(sorted({c.x_label for c in curves})))
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    if with_acc:
        ax = axes[0][1]
        for curve in with_acc:
            xs, ys = zip(*curve.accuracy)
            ax.plot(xs, ys, color=colour_of[curve.run], ls=style_of[curve.folder],
                    **(marks(curve.run, len(xs)) or {"marker": "o", "ms": 3}))
        ax.set_xlabel("epoch")
        ax.set_ylabel("evaluated accuracy")
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=colour_of[label], lw=1.5, marker=marker_of[label], label=label)
               for label in labels]
    if len(folders) > 1:
        handles += [Line2D([], [], color="0.3", ls=style_of[folder], lw=1.5, label=f"folder {folder}")
                    for folder in folders]
    axes[0][-1].legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       ncol=max(1, -(-len(handles) // 28)), frameon=False)
    fig.suptitle("runs overlaid")
    return fig
