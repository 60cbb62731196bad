"""What the MNIST studies share: their configs' base (data check, summary), loading the data as floats, the
reports' numbers, curve thinning, warm fits.

The reports' numbers are printed beside the measured ones in a "report" column; they apply to MNIST only
(``--dataset fashion_mnist`` shows "—" there).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from dltool.errors import UsageError
from dltool.experiments.config import ExperimentConfig

DATASETS = ("mnist", "fashion_mnist")
TRAIN_IMAGES = 60_000  # MNIST and Fashion-MNIST

# The reports' own numbers (test accuracy unless said otherwise), keyed as each study looks them up.
SOFTMAX_REFERENCE: dict[tuple[str, float], float] = {  # report 000, Table 1 (all 19 rows)
    ("adagrad", 0.5): 0.9102, ("adagrad", 0.01): 0.8779, ("adagrad", 0.7): 0.908,
    ("adam", 0.01): 0.9166, ("adam", 0.1): 0.098,
    ("gd", 0.5): 0.9079, ("gd", 0.01): 0.85, ("gd", 0.9): 0.9095,
    ("adadelta", 0.5): 0.8535, ("adadelta", 0.01): 0.6922, ("adadelta", 0.9): 0.8741, ("adadelta", 3.0): 0.9023,
    ("adadelta", 9.0): 0.9117,
    ("rmsprop", 0.5): 0.098, ("rmsprop", 0.01): 0.9123, ("rmsprop", 0.001): 0.9053,
    ("ftrl", 0.5): 0.9102, ("ftrl", 0.01): 0.8779, ("ftrl", 0.7): 0.908,
}
SOFTMAX_SOURCE = "report 000, Table 1"
CNN_BATCH_REFERENCE: dict[int, float] = {100: 0.954, 50: 0.9635, 4: 0.9827}  # Deep-MNIST CNN, one epoch per batch size
CNN_BATCH_SOURCE = "report 000, section 4"
# Report 000, section 4.1: seconds of training on 1 / 2 / 4 GPUs (its Deep-MNIST CNN, one epoch), keyed
# (devices, global batch). GPU times: shown beside ours, never divided into a CPU time.
DEVICES_GPU_SECONDS: dict[tuple[int, int], float] = {
    (1, 4): 59.0, (2, 4): 65.0, (4, 4): 71.0, (1, 48): 8.44, (2, 48): 7.22, (4, 48): 7.02}
DEVICES_SOURCE = "report 000, section 4.1 (GPUs)"
CNN_LONG_REFERENCE = (50, 30, 0.992)  # batch 50, 30 epochs → 0.992
CNN_LONG_SOURCE = "report 001, section 4 (exercise 3)"
FAST_REFERENCE = (107.8, 0.992)  # the reports: 107.8 s on a GPU for 99.2 %
FAST_SOURCE = "report 001, section 4 (exercise 3: batch 50, 30 epochs, 107.8 s on a GPU)"
FILTERS_PARAMS = {8: 52_258, 16: 104_250, 32: 211_690, 64: 440_394, 128: 953_098, 256: 2_199_690}
# Report 002: Table 1 (parameters, runtimes on the author's laptop CPU and on a GPU, 10 epochs, lr 0.1) and the
# run printouts of its Figures 5–8 (F = 8 … 64: validation accuracy and test error after 10 epochs).
FILTERS_SOURCE = "report 002, Table 1 and Figures 5–8"
FILTERS_CPU_SECONDS = {8: 133.91, 16: 160.65, 32: 277.25, 64: 697.42}  # report's CPU (F = 128, 256: not run)
FILTERS_GPU_SECONDS = {8: 48.83, 16: 65.97, 32: 78.77, 64: 144.25, 128: 278.69, 256: 623.43}  # report's GPU
FILTERS_TEST_ERROR = {8: 0.0131, 16: 0.0120, 32: 0.0113, 64: 0.0113}
FILTERS_VAL_ACCURACY = {8: 0.987, 16: 0.990, 32: 0.989, 64: 0.989}


def dataset_name(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}", f"use --dataset {' or --dataset '.join(DATASETS)}")
    return key


def finished(record: Any, runs: list, progress: Any, on_run: Any, summary: str) -> None:
    """One run is done: kept in ``runs``, its line on the progress bar, then ``on_run`` (on disk as it ends).
    ``summary`` may name ``{acc}``: the run's test accuracy, or "—" without one."""
    runs.append(record)
    if progress is not None:
        acc = getattr(record, "test_accuracy", None)
        progress.end_run(summary.format(acc="—" if acc is None else f"{acc:.4f}"))
    if on_run is not None:
        on_run(record)


class MnistResult:
    """Base of the MNIST studies' results: every field as JSON-ready builtins."""

    def to_dict(self) -> dict:
        return asdict(self)


class MnistConfig(ExperimentConfig):
    """Base of the MNIST studies' configs: the ``--quick`` preset, the checks before a run folder is made, and
    the summary for results.json (every field of the result but its runs, config and environment)."""

    def prepare(self) -> None:
        """A batch larger than the training set, or missing data, fails here: before TensorFlow and before
        the run folder (missing data exits 3)."""
        from dltool.data.sources import check_available

        self.check_batches()
        check_available(self.dataset, self.data_dir)

    def check_batches(self) -> None:
        """A batch larger than the training set trains nothing: refused before TensorFlow starts."""
        subset = getattr(self, "subset", None)
        images = subset or TRAIN_IMAGES
        batches = list(getattr(self, "batch_sizes", None) or [getattr(self, "batch_size", None)])
        too_big = [b for b in batches if isinstance(b, int) and b > images]
        if too_big:
            source = f"--subset {images:,}" if subset else f"the {images:,} training images"
            raise UsageError(f"batch size {too_big[0]:,} is larger than {source}",
                             "lower the batch size or raise --subset")

    def summary(self, result: Any) -> dict[str, Any]:
        return {k: v for k, v in result.to_dict().items() if k not in ("runs", "config", "environment")}


def reference(table: dict, key: Any, dataset: str) -> float | None:
    """The reports' value for ``key``, or None (no value, or not MNIST)."""
    if dataset != "mnist":
        return None
    return table.get(key)


@dataclass
class Arrays:
    """Float32 images in [0, 1] (N×28×28×1) and int64 labels, ready for the engine."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray
    describe: dict
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: list[str]


def load_arrays(dataset: str = "mnist", data_dir: str | Path | None = None, *, subset: int | None = None,
                test_subset: int | None = None, validation: float | int = 0, seed: int = 0) -> Arrays:
    """Load MNIST or Fashion-MNIST (raw IDX files, or tensorflow-datasets) and scale to [0, 1] once."""
    from dltool.data import load, normalise

    data = load(dataset_name(dataset), data_dir, validation=validation, seed=seed, subset=subset,
                test_subset=test_subset)
    return Arrays(normalise(data.x_train), data.y_train,
                  None if data.x_val is None else normalise(data.x_val), data.y_val,
                  normalise(data.x_test), data.y_test, data.describe(), data.input_shape, data.num_classes,
                  list(data.class_names))


def thin(values: Sequence[float], points: int = 200) -> tuple[list[int], list[float]]:
    """A long per-step curve → at most ``points`` (step, mean over the window) pairs, for plots and JSON."""
    n = len(values)
    if n == 0:
        return [], []
    window = max(1, math.ceil(n / points))
    steps, means = [], []
    for start in range(0, n, window):
        chunk = [v for v in values[start:start + window] if math.isfinite(v)]
        if chunk:
            steps.append(min(start + window, n))
            means.append(float(sum(chunk) / len(chunk)))
    return steps, means


def check_positive(value: float | int | None, option: str, example: str) -> None:
    if value is not None and (not math.isfinite(float(value)) or value <= 0):
        raise UsageError(f"{option} must be positive, got {value}", f"use e.g. {option} {example}")


def check_target(target: float | None) -> None:
    if target is not None and not 0 < target <= 1:
        raise UsageError(f"--target-accuracy is a fraction in (0, 1], got {target}", "use e.g. --target-accuracy 0.99")


def warm_up(engine: Any, x: Any, y: Any, batch_size: int, input: str = "auto") -> None:
    """Trace the compiled step once (one step), then restore the initial state: timings exclude tracing.
    ``input`` must be the same input path as the timed fit's (FitConfig.input)."""
    from dltool.engine.loop import FitConfig

    engine.fit(x, y, FitConfig(epochs=0, steps=1, batch_size=batch_size, steps_per_execution=1, evaluate=False,
                               shuffle=False, input=input))
    engine.reset()


def naive_cross_entropy(num_classes: int = 10):
    """The 2016 tutorial's loss, −Σ y·log(softmax(z)): log(0) = −inf once a probability underflows, then NaN.

    The reports' Adam 0.1 and RMSProp 0.5 rows (0.098 = 980/10,000, every test image called "0") are this
    failure; ``--loss naive`` reproduces it. The default loss works on logits and stays finite.
    """
    import tensorflow as tf

    def loss(y, logits):
        p = tf.nn.softmax(logits)
        onehot = tf.one_hot(tf.cast(tf.reshape(y, [-1]), tf.int32), num_classes)
        return -tf.reduce_sum(onehot * tf.math.log(p), axis=-1)

    return loss
