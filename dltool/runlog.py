"""Finished and unfinished run folders, read back from their ``results.json`` (no TensorFlow, no rerun).

``dltool runs`` lists them, reprints a run's tables, compares runs side by side and overlays their curves. What
is computed here is plain numbers and strings; ``dltool/report/views/runs.py`` formats them.

The headline of a run folder is the first of :data:`HEADLINE_METRICS` that its runs recorded, best over the
folder's runs (highest accuracy or throughput, lowest error or loss): one number that says how it went. A run
record that groups rows (allreduce: one record per implementation and device count, holding its ``bus`` rows and
its ``train`` row) is read row by row, so allreduce's headline is its best training throughput, or its best bus
bandwidth when it did not train.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dltool.errors import UsageError

# (key in a run record, higher is better) — in order of preference for the headline
HEADLINE_METRICS: list[tuple[str, bool]] = [
    ("test_accuracy", True), ("final_val_accuracy", True), ("val_accuracy", True), ("test_rmse", False),
    ("images_per_second", True), ("examples_per_second", True), ("throughput", True), ("busbw", True),
    ("algbw", True), ("final_loss", False),
]
# what a run record may carry as a training curve: (key, x label, y label)
CURVES: list[tuple[str, str]] = [("losses", "step"), ("curve_loss", "step"), ("train_losses", "epoch"),
                                 ("epoch_losses", "epoch")]


@dataclass
class RunFolder:
    path: str
    name: str
    command: str
    started: str | None
    finished: str | None
    status: str
    duration_s: float | None
    runs: int
    headline_metric: str | None = None
    headline_value: float | None = None
    headline_run: str | None = None
    config: dict = field(default_factory=dict)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, dict):  # {"mean": …} (throughput records)
            return _number(value.get("mean"))
        return None
    return float(value) if math.isfinite(value) else None


def run_label(record: dict, index: int) -> str:
    """A short name of one run of a sweep, from the fields that identify it."""
    for key in ("label", "name", "method", "mode", "optimizer"):
        if isinstance(record.get(key), str):
            extra = [f"{k}={record[k]:g}" for k in ("lr", "momentum") if _number(record.get(k)) is not None]
            extra += [f"batch={record[k]}" for k in ("batch_size",) if record.get(k) is not None]
            return " ".join([record[key], *extra])
    for key in ("batch_size", "filters", "m", "workers", "learners", "devices"):
        if record.get(key) is not None:
            return f"{key}={record[key]}"
    return f"run {index + 1}"


def _row_label(row: dict) -> str:
    """An allreduce row: "ring × 2, 256 KiB" (a bus row) or "ring × 2" (its training row)."""
    name = f"{row.get('implementation', '?')} × {row.get('devices', '?')}"
    return f"{name}, {row['message']}" if isinstance(row.get("message"), str) else name


def metric_records(doc: dict) -> list[dict]:
    """The records a folder's metrics are read from: each run record and, where a record groups rows (allreduce's
    ``bus`` list and ``train`` row), each of those rows, labelled. A document without run records (a saved
    ``--json`` of allreduce) gives its own ``bus`` and ``train`` rows."""
    records = [r for r in doc.get("runs", []) if isinstance(r, dict)]
    groups = records or [doc]
    rows = [row for group in groups for key in ("bus", "train")
            for row in (group[key] if isinstance(group.get(key), list) else [group.get(key)]) if isinstance(row, dict)]
    return records + [{**row, "label": _row_label(row)} for row in rows]


def headline(doc: dict) -> tuple[str | None, float | None, str | None]:
    """(metric, best value, the run that has it) over the folder's runs."""
    records = metric_records(doc)
    for key, higher in HEADLINE_METRICS:
        values = [(_number(r.get(key)), i) for i, r in enumerate(records)]
        values = [(v, i) for v, i in values if v is not None]
        if values:
            value, index = (max if higher else min)(values)
            return key, value, run_label(records[index], index)
    return None, None, None


def _seconds(start: str | None, end: str | None) -> float | None:
    try:
        return (_dt.datetime.fromisoformat(end) - _dt.datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return None


def load(path: Path) -> dict:
    """The results.json of a run folder (or the file itself); UsageError (exit 2) when it is not one."""
    path = Path(path)
    file = path / "results.json" if path.is_dir() else path
    if not file.exists():
        raise UsageError(f"{path} is not a run folder (no results.json in it)",
                         "give a folder that `dltool runs` lists, e.g. runs/mnist-cnn-20250101-120000")
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UsageError(f"{file} is not readable JSON ({err})", "the run may still be writing it; try again")
    if not isinstance(doc, dict):
        raise UsageError(f"{file} is not a dltool results.json", "give a run folder written by dltool")
    return doc


def summarize(path: Path, doc: dict | None = None) -> RunFolder:
    doc = load(path) if doc is None else doc
    metric, value, run = headline(doc)
    return RunFolder(path=str(path), name=Path(path).name, command=str(doc.get("command", "?")),
                     started=doc.get("started"), finished=doc.get("finished"),
                     status=str(doc.get("status", "?")), duration_s=_seconds(doc.get("started"), doc.get("finished")),
                     runs=len(doc.get("runs", [])), headline_metric=metric, headline_value=value, headline_run=run,
                     config=doc.get("config") or {})


def find(root: Path) -> list[RunFolder]:
    """Every run folder in ``root`` (itself, its children and grandchildren), oldest first."""
    root = Path(root)
    if not root.exists():
        raise UsageError(f"{root} does not exist", "give the folder that holds your run folders (default runs/)")
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder", "give the folder that holds your run folders (default runs/)")
    files = sorted({*root.glob("results.json"), *root.glob("*/results.json"), *root.glob("*/*/results.json")})
    folders = []
    for file in files:
        try:
            folders.append(summarize(file.parent))
        except UsageError:
            continue  # a folder being written right now, or not ours
    return sorted(folders, key=lambda f: (f.started or "", f.path))


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dict → ``{"a.b": value}`` (lists kept as values)."""
    if isinstance(doc, dict) and doc:
        out: dict[str, Any] = {}
        for key, value in doc.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: doc} if prefix else {}


@dataclass
class Comparison:
    runs: list[RunFolder]
    differing: dict[str, list[Any]]  # config key → value per run (only keys whose values differ)
    same: int  # how many config keys are equal in all runs
    metrics: dict[str, list[float | None]]  # result key → best value per run


def compare(paths: list[Path]) -> Comparison:
    if len(paths) < 2:
        raise UsageError("compare needs at least two run folders", "give two or more: dltool runs compare A B")
    docs = [load(p) for p in paths]
    folders = [summarize(p, d) for p, d in zip(paths, docs)]
    configs = [flatten({"command": d.get("command"), **(d.get("config") or {})}) for d in docs]
    keys = sorted({k for c in configs for k in c})
    differing, same = {}, 0
    for key in keys:
        values = [c.get(key) for c in configs]
        if all(json.dumps(v, sort_keys=True) == json.dumps(values[0], sort_keys=True) for v in values):
            same += 1
        else:
            differing[key] = values
    metrics: dict[str, list[float | None]] = {}
    for key, higher in HEADLINE_METRICS:
        per_run = []
        for doc in docs:
            values = [_number(r.get(key)) for r in metric_records(doc)]
            values = [v for v in values if v is not None]
            per_run.append((max if higher else min)(values) if values else None)
        if any(v is not None for v in per_run):
            metrics[key] = per_run
    return Comparison(folders, differing, same, metrics)


@dataclass
class Curve:
    folder: str
    run: str
    x_label: str
    values: list[float]
    accuracy: list[tuple[float, float]] = field(default_factory=list)  # (epoch, test/val accuracy)


def curves(paths: list[Path]) -> list[Curve]:
    """The training-loss curve (and evaluated accuracy per epoch) of every run in the given folders."""
    out = []
    for path in paths:
        doc = load(path)
        for i, record in enumerate(r for r in doc.get("runs", []) if isinstance(r, dict)):
            values, x_label = None, "step"
            for key, x in CURVES:
                if isinstance(record.get(key), list) and record[key]:
                    values, x_label = record[key], x
                    break
            epochs = record.get("epochs") if isinstance(record.get("epochs"), list) else []
            if values is None and epochs and all(isinstance(e, dict) for e in epochs):
                values, x_label = [e.get("train_loss") for e in epochs], "epoch"
            accuracy = []
            for e in epochs if isinstance(epochs, list) else []:
                if isinstance(e, dict):
                    acc = _number(e.get("eval_accuracy", e.get("test_accuracy")))
                    if acc is not None:
                        accuracy.append((float(e.get("epoch", len(accuracy) + 1)), acc))
            if values:
                out.append(Curve(Path(path).name, run_label(record, i), x_label,
                                 [v if _number(v) is not None else float("nan") for v in values], accuracy))
    if not out:
        raise UsageError("none of these runs recorded a training curve",
                         "plot runs of commands that train (mnist, fit-line, cutout, cifar-adaptive …)")
    return out


class StoredResult:
    """A run's results.json read like the experiment's Result: ``r.runs[0].test_accuracy``, ``e["epoch"]``.

    The views draw a command's figures from a Result's fields; results.json holds those fields (the config, every
    run, the summary), so this duck-typed stand-in lets ``dltool runs plot --redraw`` call the command's own
    ``plots`` without TensorFlow or the experiment. A field that was not stored reads as None; a view that calls
    one of the Result's methods cannot be redrawn this way (``TypeError``), which the command reports.
    """

    def __init__(self, doc: dict):
        self.__dict__.update({k: _stored(v) for k, v in doc.items()})

    def __getattr__(self, key: str) -> Any:  # only called for fields that were not stored
        if key.startswith("__"):
            raise AttributeError(key)
        return None

    def __getitem__(self, key: str) -> Any:
        return self.__dict__.get(key)

    def get(self, key: str, default: Any = None) -> Any:
        value = self.__dict__.get(key)
        return default if value is None else value

    def keys(self):
        return self.__dict__.keys()

    def items(self):
        return self.__dict__.items()

    def __iter__(self):
        return iter(self.__dict__)


def _stored(value: Any) -> Any:
    if isinstance(value, dict):
        return StoredResult(value)
    if isinstance(value, list):
        return [_stored(v) for v in value]
    return value
