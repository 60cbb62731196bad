"""MNIST, Fashion-MNIST and CIFAR-10 as numpy arrays: :func:`load` → :class:`Dataset`.

Arrays stay uint8 NHWC (MNIST 28×28×1, CIFAR 32×32×3) with int64 labels, as the files store them: 4× smaller
than float32 (CIFAR-10 train: 150 MB vs 600 MB), and the float conversion belongs to the input pipeline
(a map in the tf.data pipeline or the model) or to :func:`normalise` when a caller wants floats up front.

Where the data comes from, and in which order the places are tried, is in :mod:`dltool.data.sources`;
``Dataset.source`` records it (a folder, or ``"tensorflow-datasets"``) so results.json can say what was used.

Validation split: taken from the training set with a seeded permutation, so the same ``seed`` gives the same
split on every machine; the test set is never touched. ``subset`` (a seeded sample of N training examples, in
file order) is for quick runs; it is applied before the validation split.

This module imports numpy only; TensorFlow is imported on the tfds path alone.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from dltool.errors import UsageError

from . import sources


@dataclass
class Dataset:
    """One image-classification set in memory (uint8 NHWC images, int64 labels)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None  # None when no validation split was asked for
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: list[str]
    source: str  # the folder the raw files came from, or "tensorflow-datasets"
    name: str = ""  # canonical name: "mnist", "fashion_mnist", "cifar10"

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one image, e.g. (28, 28, 1)."""
        return tuple(self.x_train.shape[1:])

    @property
    def num_train(self) -> int:
        return len(self.x_train)

    @property
    def num_val(self) -> int:
        return 0 if self.x_val is None else len(self.x_val)

    @property
    def num_test(self) -> int:
        return len(self.x_test)

    def describe(self) -> dict[str, Any]:
        """Plain-JSON summary for results.json and tables."""
        return {
            "name": self.name,
            "source": self.source,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "train": self.num_train,
            "validation": self.num_val,
            "test": self.num_test,
        }


def normalise(x: np.ndarray, dtype: str | np.dtype = "float32") -> np.ndarray:
    """uint8 pixels 0..255 → floats in [0, 1] (float32 by default). Float input is returned as ``dtype`` unchanged."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(dtype) / np.asarray(255, dtype=dtype)
    return x.astype(dtype, copy=False)


normalize = normalise  # US spelling, for Keras users


def validation_count(validation: float | int | None, n: int) -> int:
    """Number of validation examples for ``validation`` out of ``n`` training examples.

    ``0``/``None`` → 0; a fraction ``0 < v < 1`` → ``round(v·n)`` (at least 1); an integer (or integral float)
    ``v ≥ 1`` → that count. Anything else, or a split that leaves no training example, is a UsageError.
    """
    if validation is None:
        return 0
    if isinstance(validation, bool) or not isinstance(validation, numbers.Real):
        raise UsageError(
            f"validation must be a fraction in (0, 1) or a count, got {validation!r}",
            "Use e.g. --validation 0.1 or --validation 5000.",
        )
    v = float(validation)
    if v == 0:
        return 0
    if v == 1 and not isinstance(validation, numbers.Integral):
        raise UsageError(
            "validation 1.0 would hold out the whole training set",
            "Use a fraction below 1 (e.g. 0.1), or the integer 1 for a single example.",
        )
    if 0 < v < 1:
        k = max(1, int(round(v * n)))
    elif v >= 1 and v == int(v):
        k = int(v)
    else:
        raise UsageError(
            f"validation must be a fraction in (0, 1) or a whole count ≥ 1, got {validation!r}",
            "Use e.g. --validation 0.1 or --validation 5000.",
        )
    if k >= n:
        raise UsageError(
            f"validation of {validation!r} takes {k} of {n} training examples, leaving none to train on",
            f"Use a fraction below 1 or a count below {n}.",
        )
    return k


def split_validation(
    x: np.ndarray, y: np.ndarray, validation: float | int | None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Split (x, y) → (x_train, y_train, x_val, y_val) with a seeded permutation; both parts keep file order.

    With ``validation`` 0 the inputs come back unchanged and the validation parts are None.
    """
    n = len(x)
    k = validation_count(validation, n)
    if k == 0:
        return x, y, None, None
    perm = np.random.default_rng(seed).permutation(n)
    val_idx = np.sort(perm[:k])
    train_idx = np.sort(perm[k:])
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx]


def take_subset(x: np.ndarray, y: np.ndarray, n: int | None, seed: int = 0, what: str = "training"):
    """A seeded sample of ``n`` examples (kept in file order); ``None`` → everything."""
    if n is None:
        return x, y
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise UsageError(f"subset must be a whole number ≥ 1, got {n!r}", "Use e.g. --subset 1000.")
    if n > len(x):
        raise UsageError(
            f"subset of {n} asked for, but the {what} set has only {len(x)} examples",
            f"Use a subset of at most {len(x)}, or leave it out.",
        )
    if n == len(x):
        return x, y
    idx = np.sort(np.random.default_rng(seed).permutation(len(x))[:n])
    return x[idx], y[idx]


def load(
    name: str,
    data_dir: str | os.PathLike | None = None,
    validation: float | int | None = 0.0,
    seed: int = 0,
    *,
    subset: int | None = None,
    test_subset: int | None = None,
    download: bool = True,
) -> Dataset:
    """Load ``mnist``, ``fashion_mnist`` (``fashion-mnist``) or ``cifar10`` as uint8 NHWC arrays.

    ``data_dir``: a folder with the raw files (see :mod:`dltool.data.sources` for the search order without it).
    ``validation``: fraction (0 < v < 1) or count of training examples held out, split with ``seed``.
    ``subset`` / ``test_subset``: seeded samples of N training / test examples for quick runs.
    ``download``: allow tensorflow-datasets to download when nothing local is found.
    Raises UsageError (exit 2) for bad arguments and MissingError (exit 3) when the data cannot be found or read.
    """
    spec = sources.get_spec(name)
    validation_count(validation, 1 << 62)  # bad values fail now, before a possibly slow read; the size check later
    x_train, y_train, x_test, y_test, class_names, source = sources.resolve_and_read(spec, data_dir, download)
    x_train, y_train = take_subset(x_train, y_train, subset, seed, "training")
    x_test, y_test = take_subset(x_test, y_test, test_subset, seed, "test")
    x_train, y_train, x_val, y_val = split_validation(x_train, y_train, validation, seed)
    return Dataset(
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        num_classes=spec.num_classes,
        class_names=list(class_names),
        source=source,
        name=spec.name,
    )


@dataclass
class Standardised:
    """A dataset and its training set's per-channel mean and standard deviation (0..1 scale).

    The images in ``data`` stay uint8: :meth:`apply` standardises the arrays a caller wants up front, and
    ``mean`` / ``std`` go to a pipeline that standardises batches itself (``augment.make_map_fn``).
    """

    data: Dataset
    mean: list[float]
    std: list[float]

    def apply(self, x: np.ndarray) -> np.ndarray:
        """(x / 255 − mean) / std per channel, float32."""
        return ((x.astype("float32") / 255.0 - np.float32(self.mean)) / np.float32(self.std)).astype("float32")


def load_standardised(name: str, *args: Any, batch_size: int | None = None, **kwargs: Any) -> Standardised:
    """:func:`load` (same arguments), then the per-channel statistics of the training images, after subset and
    validation split: held-out images do not leak into them. ``batch_size``: a UsageError when fewer training
    images than one batch are left. E.g. ``load_standardised("cifar10", subset=512)`` for cifar-adaptive and
    cutout."""
    from .augment import channel_stats

    data = load(name, *args, **kwargs)
    if batch_size is not None and len(data.x_train) < batch_size:
        raise UsageError(f"{len(data.x_train)} training images are fewer than one batch of {batch_size}",
                         "use a larger --subset or a smaller --batch-size")
    mean, std = channel_stats(data.x_train)
    return Standardised(data, mean, std)
