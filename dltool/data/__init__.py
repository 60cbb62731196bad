"""Datasets for dltool: MNIST, Fashion-MNIST and CIFAR-10 as numpy arrays, plus synthetic sets.

``from dltool.data import load`` gives uint8 NHWC images and int64 labels from raw files (IDX, CIFAR-10 binary
or python) or tensorflow-datasets; see :mod:`dltool.data.sources` for where it looks. ``load_standardised``
adds the training set's per-channel mean and deviation (CIFAR-10 for cifar-adaptive and cutout). Importing
this package does not import TensorFlow (only the tfds fallback does).
"""

from .datasets import (
    Dataset,
    Standardised,
    load,
    load_standardised,
    normalise,
    normalize,
    split_validation,
    take_subset,
    validation_count,
)
from .sources import DATASET_NAMES, ENV_DATA_DIR, get_spec

__all__ = [
    "DATASET_NAMES",
    "ENV_DATA_DIR",
    "Dataset",
    "Standardised",
    "get_spec",
    "load",
    "load_standardised",
    "normalise",
    "normalize",
    "split_validation",
    "take_subset",
    "validation_count",
]
