"""Where a dataset comes from: the known sets, the folders searched for their raw files, and tensorflow-datasets.

Search order (first hit wins) — offline sources first, because the tests, CI and many users have no network:

1. ``data_dir`` passed in (the CLI's ``--data-dir``). It is authoritative: when the set is not in it, that is an
   error, not a silent download elsewhere. It may also be a tensorflow-datasets folder (``tfds build`` output,
   e.g. a copied ``~/tensorflow_datasets``): then tfds reads it without downloading.
2. ``$DLTOOL_DATA_DIR`` (several folders may be joined with ``os.pathsep``).
3. ``/usr/share/datasets`` (Debian's ``dataset-fashion-mnist`` installs ``/usr/share/datasets/fashion-mnist/``).
4. tensorflow-datasets: its cache (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``), downloading when online.

Inside a root folder, each set is looked for in its usual sub-folders (``mnist/``; ``fashion-mnist/`` or
``fashion_mnist/``; ``cifar-10-batches-bin/``, ``cifar-10-batches-py/``, ``cifar-10-sample/``, ``cifar10/``,
``cifar-10/``), and then in the root itself. A folder that holds some of a set's files but not all is an error
naming the missing file, rather than a fall-through to another copy.

Offline, ``tfds.load`` retries its download for minutes before failing (seen here: > 2 min of urllib3 retries
on a name-resolution error), so an un-prepared set is first checked with ``download=False`` and a 3-second
connection probe decides whether a download is worth trying. Any failure becomes one :class:`MissingError`
(exit 3) listing every way to provide the data.

TensorFlow and tensorflow-datasets are imported only inside :func:`load_tfds`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dltool.errors import MissingError, UsageError

from . import readers

ENV_DATA_DIR = "DLTOOL_DATA_DIR"
SYSTEM_DATA_DIR = Path("/usr/share/datasets")  # module attribute so tests can point it elsewhere
TFDS_SOURCE = "tensorflow-datasets"
TFDS_PROBE_HOST = ("storage.googleapis.com", 443)  # where tfds downloads MNIST / Fashion-MNIST / CIFAR-10 from

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset dltool knows: its names, file format, folders and defaults."""

    name: str  # canonical: "mnist", "fashion_mnist", "cifar10"
    display: str  # as users write it: "mnist", "fashion-mnist", "cifar10"
    tfds_name: str
    fmt: str  # "idx" or "cifar"
    folders: tuple[str, ...]  # sub-folders of a data dir searched, in order
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    system_hint: str  # how to get it into /usr/share/datasets, "" when no package provides it

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


SPECS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist", "mnist", "mnist", "idx", ("mnist", "MNIST"), (28, 28, 1), MNIST_CLASSES, ""
    ),
    "fashion_mnist": DatasetSpec(
        "fashion_mnist", "fashion-mnist", "fashion_mnist", "idx",
        ("fashion-mnist", "fashion_mnist", "FashionMNIST"), (28, 28, 1), FASHION_CLASSES,
        "apt install dataset-fashion-mnist",
    ),
    "cifar10": DatasetSpec(
        "cifar10", "cifar10", "cifar10", "cifar",
        ("cifar-10-batches-bin", "cifar-10-batches-py", "cifar-10-sample", "cifar10", "cifar-10"),
        (32, 32, 3), CIFAR10_CLASSES, "",
    ),
}  # fmt: skip

_ALIASES = {
    "mnist": "mnist",
    "fashion_mnist": "fashion_mnist",
    "fashionmnist": "fashion_mnist",
    "fashion": "fashion_mnist",
    "cifar10": "cifar10",
    "cifar_10": "cifar10",
}

DATASET_NAMES = tuple(spec.display for spec in SPECS.values())


def get_spec(name: str) -> DatasetSpec:
    """The spec for ``name`` (``mnist``, ``fashion-mnist`` / ``fashion_mnist``, ``cifar10`` / ``cifar-10``)."""
    key = _ALIASES.get(str(name).strip().lower().replace("-", "_"))
    if key is None:
        raise UsageError(f"unknown dataset {name!r}", f"Choose one of: {', '.join(DATASET_NAMES)}.")
    return SPECS[key]


# --------------------------------------------------------------------------------------------------- local files


@dataclass
class LocalFiles:
    """The raw files of one dataset found in one folder."""

    fmt: str  # "idx", "cifar-bin" or "cifar-py"
    folder: Path
    train: list[Path]  # idx: [images, labels]; cifar: the training batches in order
    test: list[Path]  # idx: [images, labels]; cifar: [test_batch]
    meta: Path | None = None  # cifar class names (batches.meta.txt or batches.meta)


# MNIST / Fashion-MNIST names: the distributed gz files, unpacked ones, and the dotted form some unzip tools give.
_IDX_STEMS = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def _find_idx(folder: Path) -> LocalFiles | None:
    found: dict[str, Path] = {}
    for role, stems in _IDX_STEMS.items():
        for stem in stems:
            for suffix in (".gz", ""):
                candidate = folder / (stem + suffix)
                if candidate.is_file():
                    found[role] = candidate
                    break
            if role in found:
                break
    if not found:
        return None
    missing = [_IDX_STEMS[role][0] + ".gz" for role in _IDX_STEMS if role not in found]
    if missing:
        raise MissingError(
            f"{folder}: incomplete IDX dataset, missing {', '.join(missing)}",
            "Copy all four IDX files (train/t10k images and labels, .gz or unpacked) into that folder.",
        )
    return LocalFiles(
        "idx",
        folder,
        [found["train_images"], found["train_labels"]],
        [found["test_images"], found["test_labels"]],
    )


_BIN_TRAIN = re.compile(r"data_batch_(\d+)\.bin$")
_PY_TRAIN = re.compile(r"data_batch_(\d+)$")


def _find_cifar(folder: Path) -> LocalFiles | None:
    try:
        names = {p.name for p in folder.iterdir() if p.is_file()}
    except OSError:
        return None
    for fmt, pattern, test_name, meta_name in (
        ("cifar-bin", _BIN_TRAIN, "test_batch.bin", "batches.meta.txt"),
        ("cifar-py", _PY_TRAIN, "test_batch", "batches.meta"),
    ):
        train = sorted((m for m in map(pattern.match, names) if m), key=lambda m: int(m.group(1)))
        has_test = test_name in names
        if not train and not has_test:
            continue
        if not train or not has_test:
            missing = test_name if not has_test else "data_batch_1" + (".bin" if fmt == "cifar-bin" else "")
            raise MissingError(
                f"{folder}: incomplete CIFAR-10 folder, missing {missing}",
                "A CIFAR-10 folder needs data_batch_*.bin and test_batch.bin (binary version) "
                "or data_batch_* and test_batch (python version).",
            )
        meta = folder / meta_name if meta_name in names else None
        return LocalFiles(fmt, folder, [folder / m.group(0) for m in train], [folder / test_name], meta)
    return None


def find_in_folder(spec: DatasetSpec, folder: Path) -> LocalFiles | None:
    """The set's raw files directly inside ``folder``, or None when it holds none of them."""
    if not folder.is_dir():
        return None
    return _find_idx(folder) if spec.fmt == "idx" else _find_cifar(folder)


def find_in_root(spec: DatasetSpec, root: Path) -> LocalFiles | None:
    """Search ``root``'s usual sub-folders for the set, then ``root`` itself."""
    for sub in spec.folders:
        hit = find_in_folder(spec, root / sub)
        if hit is not None:
            return hit
    return find_in_folder(spec, root)


def env_roots() -> list[Path]:
    """Folders named by ``$DLTOOL_DATA_DIR`` (``os.pathsep``-separated), in order."""
    value = os.environ.get(ENV_DATA_DIR, "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def is_tfds_dir(spec: DatasetSpec, root: Path) -> bool:
    """True when ``root`` looks like a tensorflow-datasets data dir holding a prepared copy of the set."""
    return any((root / spec.tfds_name).glob("*/dataset_info.json"))


def read_local(spec: DatasetSpec, files: LocalFiles):
    """Read found files → (x_train, y_train, x_test, y_test, class_names)."""
    if files.fmt == "idx":
        x_train, y_train = readers.read_idx_images(files.train[0]), readers.read_idx_labels(files.train[1])
        x_test, y_test = readers.read_idx_images(files.test[0]), readers.read_idx_labels(files.test[1])
        checks = [(files.train, x_train, y_train), (files.test, x_test, y_test)]
        class_names = list(spec.class_names)
    else:
        read = readers.read_cifar_bin if files.fmt == "cifar-bin" else readers.read_cifar_pickle
        parts = [read(p) for p in files.train]
        x_train = np.concatenate([x for x, _ in parts]) if len(parts) > 1 else parts[0][0]
        y_train = np.concatenate([y for _, y in parts]) if len(parts) > 1 else parts[0][1]
        x_test, y_test = read(files.test[0])
        checks = [(files.train, None, y_train), (files.test, None, y_test)]
        class_names = _cifar_class_names(spec, files.meta)
    for paths, x, y in checks:
        if x is not None:
            if x.shape[1:] != spec.image_shape:
                raise MissingError(
                    f"{paths[0]}: images are {x.shape[1]}×{x.shape[2]}, {spec.display} has "
                    f"{spec.image_shape[0]}×{spec.image_shape[1]}",
                    "Point --data-dir at the right dataset's files.",
                )
            if len(x) != len(y):
                raise MissingError(
                    f"{paths[0]} has {len(x)} images but {paths[1].name} has {len(y)} labels",
                    "The image and label files come from different copies: download both again, or point "
                    "--data-dir at a complete copy.",
                )
        _check_label_range(spec, paths[-1], y)
    return x_train, y_train, x_test, y_test, class_names


def check_local(spec: DatasetSpec, files: LocalFiles) -> None:
    """What :func:`read_local` would refuse, found from headers and sizes without reading the images, so a
    corrupt or truncated file fails before TensorFlow is imported (a MissingError naming the file, exit 3 as when
    it is read): IDX magic numbers, dimensions against file sizes, image size, label counts against image
    counts and label ranges (label files are small: read whole); CIFAR-10 binary record sizes and label bytes.
    CIFAR-10 python pickles are left to the reader (a pickle's contents show only when it is unpickled).
    Measured on the real sets (files in the page cache): 6–10 ms each for MNIST, Fashion-MNIST and the CIFAR-10
    sample as a command's first check, ≈ 1–2 ms when repeated in one process."""
    if files.fmt == "cifar-bin":
        for path in [*files.train, *files.test]:
            readers.check_cifar_bin(path, spec.num_classes)
        return
    if files.fmt != "idx":
        return
    for images_path, labels_path in (files.train, files.test):
        dims = readers.check_idx(images_path, readers.IDX_IMAGES_MAGIC)
        if len(dims) != 3 or tuple(dims[1:]) != spec.image_shape[:2]:
            raise MissingError(
                f"{images_path}: images are {'×'.join(map(str, dims[1:]))}, {spec.display} has "
                f"{spec.image_shape[0]}×{spec.image_shape[1]}",
                "Point --data-dir at the right dataset's files.",
            )
        readers.check_idx(labels_path, readers.IDX_LABELS_MAGIC)
        labels = readers.read_idx_labels(labels_path)
        if len(labels) != dims[0]:
            raise MissingError(
                f"{images_path} has {dims[0]} images but {labels_path.name} has {len(labels)} labels",
                "The image and label files come from different copies: download both again, or point "
                "--data-dir at a complete copy.",
            )
        _check_label_range(spec, labels_path, labels)


def _check_label_range(spec: DatasetSpec, path: Path, y: np.ndarray) -> None:
    if len(y) and (y.min() < 0 or y.max() >= spec.num_classes):
        raise MissingError(
            f"{path}: label {int(y.max())} outside 0..{spec.num_classes - 1} for {spec.display}",
            "The file is corrupt or belongs to another dataset: download it again or point --data-dir "
            "at a good copy.",
        )


def _cifar_class_names(spec: DatasetSpec, meta: Path | None) -> list[str]:
    if meta is not None:
        names = readers.read_cifar_meta_txt(meta) if meta.suffix == ".txt" else readers.read_cifar_meta_pickle(meta)
        if len(names) >= spec.num_classes:
            return names[: spec.num_classes]
    return list(spec.class_names)


# ------------------------------------------------------------------------------------------------ missing message


@dataclass
class SearchLog:
    """What was tried, for the one-line error when nothing is found."""

    looked: list[str] = field(default_factory=list)
    tfds_error: str | None = None


def missing_error(spec: DatasetSpec, log: SearchLog, reason: str | None = None) -> MissingError:
    """One MissingError naming every way to provide the set."""
    sys_dir = SYSTEM_DATA_DIR / spec.display
    system = f"{sys_dir}" + (f" ({spec.system_hint})" if spec.system_hint else "")
    sub = " or ".join(f"{f}/" for f in spec.folders[:2])
    what = reason or f"{spec.display} dataset not found"
    if log.looked:
        what += f" (looked in {', '.join(log.looked)})"
    if log.tfds_error:
        what += f"; tensorflow-datasets: {log.tfds_error}"
    hint = (
        f"Provide it one of these ways: --data-dir DIR (DIR holding {sub} with the raw files), "
        f"{ENV_DATA_DIR}=DIR, {system}, or go online once so tensorflow-datasets downloads it "
        f"(or run `tfds build {spec.tfds_name}` on a machine with network and copy ~/tensorflow_datasets here)."
    )
    return MissingError(what, hint)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"


# --------------------------------------------------------------------------------------------------------- tfds


def network_available(host: tuple[str, int] = TFDS_PROBE_HOST, timeout: float = 3.0) -> bool:
    """Can we open a TCP connection to the tfds download host? (A quick probe; tfds itself retries for minutes.)"""
    try:
        with socket.create_connection(host, timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _quiet_absl():
    """tfds warns through absl's Python logger; a missing set is reported once, by :func:`missing_error`."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def load_tfds(spec: DatasetSpec, log: SearchLog, data_dir: str | os.PathLike | None = None, download: bool = True):
    """Load the set through tensorflow-datasets → (x_train, y_train, x_test, y_test, class_names, where).

    First without downloading (a prepared copy in the cache or ``data_dir``); then, if ``download`` and the
    download host answers, with downloading. Every failure becomes a MissingError from :func:`missing_error`.
    """
    try:
        import tensorflow_datasets as tfds
    except Exception as exc:  # ImportError, or TensorFlow failing to initialise
        log.tfds_error = f"not usable ({_short(exc)})"
        raise missing_error(spec, log) from exc

    tfds_dir = None if data_dir is None else os.fspath(data_dir)
    kwargs = dict(split=["train", "test"], as_supervised=True, with_info=True, data_dir=tfds_dir)
    try:
        with _quiet_absl():  # "Variant folder … has no dataset_info.json": our one-line error says it better
            (train, test), info = tfds.load(spec.tfds_name, download=False, **kwargs)
    except Exception as first:  # not prepared (AssertionError in tfds 4.9), or a broken cache
        if not download:
            log.tfds_error = f"no prepared copy and downloading is off ({_short(first)})"
            raise missing_error(spec, log) from first
        if not network_available():
            log.tfds_error = "no prepared copy in its cache and no network to download one"
            raise missing_error(spec, log) from first
        try:
            (train, test), info = tfds.load(spec.tfds_name, download=True, **kwargs)
        except Exception as exc:  # network errors, missing importlib_resources (tfds 4.9.x), checksum errors
            log.tfds_error = f"download failed ({_short(exc)})"
            raise missing_error(spec, log) from exc

    try:
        x_train, y_train = _tfds_to_numpy(tfds, train)
        x_test, y_test = _tfds_to_numpy(tfds, test)
    except Exception as exc:
        log.tfds_error = f"reading the prepared copy failed ({_short(exc)})"
        raise missing_error(spec, log) from exc

    class_names = list(spec.class_names)
    try:
        names = list(info.features["label"].names)
        # tfds's own names, unless they are only the digits "0".."9" (its CIFAR-10 test metadata has those).
        if len(names) == spec.num_classes and names != [str(i) for i in range(spec.num_classes)]:
            class_names = names
    except Exception:  # no label feature info: keep the defaults
        pass
    where = TFDS_SOURCE if tfds_dir is None else f"{TFDS_SOURCE} ({tfds_dir})"
    return x_train, y_train, x_test, y_test, class_names, where


def _tfds_to_numpy(tfds, ds, chunk: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    # Batches of 10,000 rather than batch_size=-1: tfds.testing.mock_data's generator datasets abort the
    # process ("vector::reserve") with batch_size=-1 in tfds 4.9.10; chunks work for real and mocked sets.
    xs, ys = [], []
    for x, y in tfds.as_numpy(ds.batch(chunk)):
        xs.append(np.asarray(x, dtype=np.uint8))
        ys.append(np.asarray(y).astype(np.int64))
    if not xs:
        raise ValueError("empty split")
    return np.concatenate(xs), np.concatenate(ys)


# ------------------------------------------------------------------------------------------------------ resolve


def explicit_root(spec: DatasetSpec, data_dir: str | os.PathLike, log: SearchLog) -> Path:
    """The folder ``--data-dir`` names: a usage error when it is a file, a missing-data error when it is absent."""
    root = Path(data_dir).expanduser()
    if root.exists() and not root.is_dir():
        raise UsageError(f"--data-dir {root} is a file, not a folder",
                         "give the folder that holds the dataset files (or their mnist/, cifar10/ … folder)")
    if not root.is_dir():
        raise missing_error(spec, log, reason=f"data dir {root} does not exist")
    return root


def check_available(name: str, data_dir: str | os.PathLike | None = None, download: bool = True) -> None:
    """Raise the MissingError that :func:`resolve_and_read` would, without reading the images or importing
    TensorFlow — where that is sure: no raw files on the search path, no prepared tensorflow-datasets copy in its
    cache and no network to download one; or raw files found (the ones :func:`resolve_and_read` would read) that
    are corrupt by their headers and sizes (:func:`check_local`). Commands call it before they make a run
    folder."""
    spec = get_spec(name)
    log = SearchLog()
    if data_dir is not None:
        root = explicit_root(spec, data_dir, log)
        hit = find_in_root(spec, root)
        if hit is not None:
            return check_local(spec, hit)
        if not is_tfds_dir(spec, root):
            raise missing_error(spec, log, reason=f"{spec.display} dataset not found in {root}")
        return
    for root in env_roots():
        hit = find_in_root(spec, root) if root.is_dir() else None
        if hit is not None:
            return check_local(spec, hit)
        if root.is_dir() and is_tfds_dir(spec, root):
            return
        log.looked.append(f"{ENV_DATA_DIR}={root}" + ("" if root.is_dir() else " (no such folder)"))
    hit = find_in_root(spec, SYSTEM_DATA_DIR)
    if hit is not None:
        return check_local(spec, hit)
    log.looked.append(str(SYSTEM_DATA_DIR))
    tfds_root = Path(os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets").expanduser()
    if is_tfds_dir(spec, tfds_root) or (download and network_available()):
        return
    log.tfds_error = "no prepared copy in its cache and no network to download one"
    raise missing_error(spec, log)


def resolve_and_read(spec: DatasetSpec, data_dir: str | os.PathLike | None = None, download: bool = True):
    """Find the set (search order in the module docstring) and read it.

    Returns (x_train, y_train, x_test, y_test, class_names, source) where ``source`` is the folder the raw files
    were read from, or ``"tensorflow-datasets"``.
    """
    log = SearchLog()
    if data_dir is not None:
        root = explicit_root(spec, data_dir, log)
        hit = find_in_root(spec, root)
        if hit is not None:
            return (*read_local(spec, hit), str(hit.folder))
        if is_tfds_dir(spec, root):
            return load_tfds(spec, log, data_dir=root, download=False)
        raise missing_error(spec, log, reason=f"{spec.display} dataset not found in {root}")

    for root in env_roots():
        hit = find_in_root(spec, root) if root.is_dir() else None
        if hit is not None:
            return (*read_local(spec, hit), str(hit.folder))
        if root.is_dir() and is_tfds_dir(spec, root):
            return load_tfds(spec, log, data_dir=root, download=False)
        log.looked.append(f"{ENV_DATA_DIR}={root}" + ("" if root.is_dir() else " (no such folder)"))

    hit = find_in_root(spec, SYSTEM_DATA_DIR)
    if hit is not None:
        return (*read_local(spec, hit), str(hit.folder))
    log.looked.append(str(SYSTEM_DATA_DIR))

    return load_tfds(spec, log, data_dir=None, download=download)
