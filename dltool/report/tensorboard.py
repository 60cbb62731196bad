"""TensorBoard event files for every training run: ``tensorboard --logdir runs/`` shows all runs of all commands.

Each run of a sweep gets its own folder, ``<run folder>/tensorboard/<NN>-<label>/``, with

- ``train/loss`` after every call of the engine's compiled step (the loss of its last step, at that step count),
- per epoch: ``train/epoch_loss``, ``train/accuracy``, ``eval/loss``, ``eval/accuracy``, ``train/learning_rate``,
  ``perf/steps_per_second`` and ``perf/images_per_second`` (training seconds only: evaluation excluded),
- the command's config as text (``config``) and, when the ``tensorboard`` package is installed (the
  ``.[tensorboard]`` extra), as hparams, so the HParams tab can sort runs by their settings.

Writing needs no ``tensorboard`` package: ``tf.summary.scalar`` and ``tf.summary.text`` do need it in TF 2.21
(``TBNotInstalledError`` without it), so the events are written with the low-level ``tf.summary.write``
(buffered, written in one compiled loop per tag) and the plugin name
TensorBoard's scalars and text dashboards read (``scalars``, ``text``), the same records
``tf.summary.scalar`` writes. The ``tensorboard`` package (the ``.[tensorboard]`` extra) is the viewer and the
hparams plugin.

It wraps the sweep's progress object and forwards every call, so it hooks into the engine through the same
``Hooks`` protocol (``on_fit_start``, ``on_steps``, ``on_epoch_end``). Images/s and the learning rate come from the
engine's ``EpochLog`` (``examples``, ``learning_rate``); where a caller's log lacks them they are left out, never
guessed.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from dltool.report.output import jsonable

SUBDIR = "tensorboard"
WRITE_EVERY_S = 10.0  # buffered values reach the event file at least this often while a run trains


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", label).strip("_")[:60] or "run"


def _flat(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Nested config → ``{"a.b": scalar}`` with only bool/int/float/str values (what hparams accepts)."""
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.update(_flat(value, f"{prefix}{key}."))
    elif isinstance(doc, (bool, int, float, str)):
        out[prefix[:-1]] = doc
    elif isinstance(doc, list) and doc:
        out[prefix[:-1]] = ",".join(str(v) for v in doc)
    return out


def _metadata(tf: Any, plugin: str) -> bytes:
    meta = tf.compat.v1.SummaryMetadata
    return meta(plugin_data=meta.PluginData(plugin_name=plugin)).SerializeToString()


def _write_scalars(tf: Any, writer: Any, pending: dict[str, list[tuple[int, float]]]) -> None:
    """Write buffered ``{tag: [(step, value)]}`` as what ``tf.summary.scalar`` writes (float32 scalars for the
    scalars plugin), one compiled loop per tag: an eager ``tf.summary.write`` per value costs ≈ 0.2 ms, which
    doubled the time of fit-line's 1,000 one-step epochs."""
    import numpy as np

    metadata = _metadata(tf, "scalars")

    @tf.function(reduce_retracing=True)
    def write(tag, steps, values):
        for i in tf.range(tf.size(steps)):
            tf.summary.write(tag, values[i], step=steps[i], metadata=metadata)

    with writer.as_default():
        for tag, points in pending.items():
            if points:
                steps, values = zip(*points)
                write(tf.constant(tag), tf.constant(np.asarray(steps, dtype="int64")),
                      tf.constant(np.asarray(values, dtype="float32")))
    writer.flush()


class TensorBoardHooks:
    """Forwards everything to ``inner`` (the progress bar) and writes each run's events under ``log_dir``."""

    def __init__(self, inner: Any, log_dir: Path, config: Any = None):
        self.inner = inner
        self.log_dir = Path(log_dir)
        self.config = _flat(jsonable(config)) if config is not None else {}
        self._writer: Any = None
        self._count = 0
        self._label = "run"
        self._pending: dict[str, list[tuple[int, float]]] = {}
        self._last_write = 0.0
        self._started_writer_for_run = False

    def __getattr__(self, name: str) -> Any:  # start_run's friends: log, end_run, __enter__ …
        return getattr(self.inner, name)

    # the sweep's calls
    def start_run(self, label: str) -> "TensorBoardHooks":
        self._close()
        self._label = label
        self._started_writer_for_run = False
        if self.inner is not None and hasattr(self.inner, "start_run"):
            self.inner.start_run(label)
        return self

    def end_run(self, summary: str = "") -> None:
        self._close()
        if self.inner is not None and hasattr(self.inner, "end_run"):
            self.inner.end_run(summary)

    def close(self) -> None:
        self._close()

    # engine hooks
    def on_fit_start(self, total_steps: int) -> None:
        if self._writer is None:
            self._open()
        if self.inner is not None:
            self.inner.on_fit_start(total_steps)

    def on_steps(self, steps_done: int, loss: float) -> None:
        if self._writer is not None:
            self._pending.setdefault("train/loss", []).append((int(steps_done), float(loss)))
        if self.inner is not None:
            self.inner.on_steps(steps_done, loss)

    def on_epoch_end(self, log: Any) -> None:
        if self._writer is not None:
            get = lambda key: getattr(log, key, None)  # noqa: E731 - an EpochLog, or a replayed stand-in
            values = {"train/epoch_loss": get("train_loss"), "train/accuracy": get("train_accuracy"),
                      "eval/loss": get("eval_loss"), "eval/accuracy": get("eval_accuracy")}
            seconds, steps = get("seconds"), get("steps")
            if seconds and seconds > 0 and steps:
                values["perf/steps_per_second"] = steps / seconds
                if get("examples"):
                    values["perf/images_per_second"] = get("examples") / seconds
            lr = get("learning_rate")
            if lr is not None:
                values["train/learning_rate"] = lr
            for name, value in values.items():
                if value is not None:
                    self._pending.setdefault(name, []).append((int(get("epoch") or 0), float(value)))
            if time.monotonic() - self._last_write > WRITE_EVERY_S:  # long runs show up while they train
                self._write()
        if self.inner is not None:
            self.inner.on_epoch_end(log)

    # internals
    def _open(self) -> None:
        import tensorflow as tf

        self._count += 1
        path = self.log_dir / f"{self._count:02d}-{_slug(self._label)}"
        self._writer = tf.summary.create_file_writer(str(path), flush_millis=10_000)
        hparams = dict(self.config, run=self._label)
        with self._writer.as_default(step=0):
            tf.summary.write("config", tf.constant("```\n" + json.dumps(hparams, indent=1) + "\n```"),
                             metadata=_metadata(tf, "text"))
            try:  # the hparams plugin comes with the tensorboard package (the .[tensorboard] extra)
                from tensorboard.plugins.hparams import api as hp

                hp.hparams(hparams)
            except ImportError:
                pass
        self._writer.flush()
        self._last_write = time.monotonic()

    def _write(self) -> None:
        import tensorflow as tf

        _write_scalars(tf, self._writer, self._pending)
        self._pending = {}
        self._last_write = time.monotonic()

    def _close(self) -> None:
        if self._writer is not None:
            self._write()
            self._writer.close()
            self._writer = None


def read_scalars(run_dir: Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """``{run subfolder: {tag: [(step, value), …]}}`` read back from the event files (for tests and ``runs``)."""
    import tensorflow as tf

    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for events in sorted(Path(run_dir).rglob("events.out.tfevents.*")):
        tags = out.setdefault(events.parent.name, {})
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                if value.HasField("tensor") and value.metadata.plugin_data.plugin_name == "scalars":
                    number = float(tf.make_ndarray(value.tensor))
                    tags.setdefault(value.tag, []).append((int(event.step), number))
    return out
