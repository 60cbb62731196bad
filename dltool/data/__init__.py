"""Datasets for dltool: MNIST, Fashion-MNIST and CIFAR-10 as numpy arrays, plus synthetic sets.

``from dltool.data import load`` gives uint8 NHWC images and int64 labels from raw files (IDX, CIFAR-10 binary
or python) or tensorflow-datasets; see :mod:`dltool.data.sources` for where it looks. Importing this package
does not import TensorFlow (only the tfds fallback does).
"""

from .datasets import (
    Dataset,
    load,
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
    "get_spec",
    "load",
    "normalise",
    "normalize",
    "split_validation",
    "take_subset",
    "validation_count",
]
