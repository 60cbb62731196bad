"""Tests for dltool.data: raw-file readers on tiny files written here, the search order, the error paths,
the tfds path with tfds.testing.mock_data, validation splits, synthetic sets, and the real sets in
../shared/datasets (skipped with a reason when absent).
"""

from __future__ import annotations

import gzip
import os
import pickle
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from dltool.data import (
    load,
    load_standardised,
    normalise,
    readers,
    sources,
    split_validation,
    synthetic,
    validation_count,
)
from dltool.errors import ExitCode, MissingError, UsageError

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------------ fixtures


def idx_bytes(arr: np.ndarray, magic: int | None = None) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    magic = magic if magic is not None else 0x0800 + arr.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def write_idx(path: Path, arr: np.ndarray, gz: bool, magic: int | None = None) -> Path:
    data = idx_bytes(arr, magic)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def make_idx_set(folder: Path, n_train=12, n_test=5, gz=True, seed=0, rows=28, cols=28):
    """Four IDX files in ``folder``; returns the arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    xtr = rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8)
    ytr = (np.arange(n_train) % 10).astype(np.uint8)
    xte = rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8)
    yte = (np.arange(n_test)[::-1] % 10).astype(np.uint8)
    ext = ".gz" if gz else ""
    write_idx(folder / f"train-images-idx3-ubyte{ext}", xtr, gz)
    write_idx(folder / f"train-labels-idx1-ubyte{ext}", ytr, gz)
    write_idx(folder / f"t10k-images-idx3-ubyte{ext}", xte, gz)
    write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", yte, gz)
    return xtr, ytr, xte, yte


def cifar_records(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n CIFAR records (n, 3073) with known planes; returns (records, expected NHWC images, labels)."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) * 3 % 10).astype(np.uint8)
    planes = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    planes[:, 0, 0, 0] = 11  # R of the top-left pixel
    planes[:, 1, 0, 0] = 22  # G
    planes[:, 2, 0, 0] = 33  # B
    planes[:, 0, 0, 1] = 44  # R of pixel (row 0, col 1): row-major inside a plane
    planes[:, 0, 1, 0] = 55  # R of pixel (row 1, col 0)
    records = np.concatenate([labels[:, None], planes.reshape(n, -1)], axis=1)
    return records, planes.transpose(0, 2, 3, 1), labels.astype(np.int64)


# ------------------------------------------------------------------------------------------------------ IDX


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_idx_reader_round_trip(tmp_path, gz):
    xtr, ytr, _, _ = make_idx_set(tmp_path, gz=gz)
    ext = ".gz" if gz else ""
    images = readers.read_idx_images(tmp_path / f"train-images-idx3-ubyte{ext}")
    labels = readers.read_idx_labels(tmp_path / f"train-labels-idx1-ubyte{ext}")
    assert images.shape == (12, 28, 28, 1) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(images[..., 0], xtr)
    np.testing.assert_array_equal(labels, ytr)
    assert images.flags.writeable  # callers may augment in place


def test_idx_gzip_recognised_by_content_not_name(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"  # gzip data without .gz
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(path, arr, gz=True)
    np.testing.assert_array_equal(readers.read_idx(path), arr)


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_idx_wrong_magic_names_the_file(tmp_path, gz):
    path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((3, 28, 28)), gz, magic=2049 + 0x100)
    with pytest.raises(MissingError) as err:
        readers.read_idx_images(path)
    assert err.value.code == ExitCode.MISSING == 3
    assert str(path) in err.value.message
    assert "2051" in err.value.message


def test_idx_labels_file_given_as_images_is_rejected(tmp_path):
    path = write_idx(tmp_path / "labels", np.zeros(5), gz=False)  # magic 2049
    with pytest.raises(MissingError, match="wrong IDX magic number 2049, expected 2051"):
        readers.read_idx_images(path)


def test_idx_not_idx_at_all(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(MissingError, match="not an IDX file") as err:
        readers.read_idx(path)
    assert str(path) in err.value.message


def test_idx_truncated_plain_names_the_file(tmp_path):
    data = idx_bytes(np.zeros((4, 28, 28)))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(data[:-100])
    with pytest.raises(MissingError, match="truncated") as err:
        readers.read_idx_images(path)
    assert str(path) in err.value.message
    assert "3136" in err.value.message  # 4×28×28 bytes promised


def test_idx_truncated_gzip_names_the_file(tmp_path):
    rng = np.random.default_rng(1)
    full = gzip.compress(idx_bytes(rng.integers(0, 256, (50, 28, 28))))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(full[: len(full) // 2])  # a download cut in the middle
    with pytest.raises(MissingError) as err:
        readers.read_idx_images(path)
    assert str(path) in err.value.message


def test_idx_gzip_with_short_payload(tmp_path):
    # A valid gzip stream whose content is shorter than the IDX header promises.
    data = idx_bytes(np.zeros((4, 28, 28)))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(data[:-1]))
    with pytest.raises(MissingError, match="truncated") as err:
        readers.read_idx_images(path)
    assert str(path) in err.value.message


def test_idx_too_long(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5)) + b"\x00")
    with pytest.raises(MissingError, match="too long"):
        readers.read_idx_labels(path)


def test_load_idx_from_data_dir(tmp_path):
    xtr, ytr, xte, yte = make_idx_set(tmp_path / "mnist")
    ds = load("mnist", data_dir=tmp_path)
    assert ds.source == str(tmp_path / "mnist")
    assert ds.name == "mnist" and ds.num_classes == 10 and ds.class_names == [str(i) for i in range(10)]
    assert ds.x_val is None and ds.y_val is None
    assert ds.input_shape == (28, 28, 1)
    np.testing.assert_array_equal(ds.x_train[..., 0], xtr)
    np.testing.assert_array_equal(ds.y_test, yte)
    assert ds.describe()["train"] == 12 and ds.describe()["test"] == 5


@pytest.mark.parametrize("folder", ["fashion-mnist", "fashion_mnist", "."])
@pytest.mark.parametrize("name", ["fashion-mnist", "fashion_mnist"])
def test_load_fashion_folders_and_names(tmp_path, folder, name):
    make_idx_set(tmp_path / folder, gz=False)
    ds = load(name, data_dir=tmp_path)
    assert ds.name == "fashion_mnist"
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert Path(ds.source) == (tmp_path / folder).resolve() or Path(ds.source) == tmp_path / folder


def test_incomplete_idx_folder_names_the_missing_file(tmp_path):
    make_idx_set(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MissingError, match="t10k-labels-idx1-ubyte"):
        load("mnist", data_dir=tmp_path)


def test_image_label_count_mismatch(tmp_path):
    make_idx_set(tmp_path / "mnist")
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(11), gz=True)
    with pytest.raises(MissingError, match="12 images but train-labels-idx1-ubyte.gz has 11 labels"):
        load("mnist", data_dir=tmp_path)


def test_label_out_of_range(tmp_path):
    make_idx_set(tmp_path / "mnist")
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.full(5, 12), gz=True)
    with pytest.raises(MissingError, match="label 12 outside 0..9"):
        load("mnist", data_dir=tmp_path)


# ------------------------------------------------------------------------------------------------------ CIFAR


def test_cifar_binary_seven_records_channel_order(tmp_path):
    records, expected, labels = cifar_records(7)
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(records.tobytes())
    x, y = readers.read_cifar_bin(path)
    assert x.shape == (7, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(x, expected)
    # The R plane comes first in the record, and each plane is row-major.
    assert tuple(x[0, 0, 0]) == (11, 22, 33)
    assert x[0, 0, 1, 0] == 44 and x[0, 1, 0, 0] == 55
    assert x.flags.c_contiguous


def test_cifar_binary_bad_size_names_the_file(tmp_path):
    records, _, _ = cifar_records(3)
    path = tmp_path / "test_batch.bin"
    path.write_bytes(records.tobytes()[:-10])
    with pytest.raises(MissingError, match="3073") as err:
        readers.read_cifar_bin(path)
    assert err.value.code == 3 and str(path) in err.value.message


def _write_cifar_bin_dir(folder: Path, sizes=(3, 4), n_test=2, meta=True):
    folder.mkdir(parents=True)
    xs, ys = [], []
    for i, n in enumerate(sizes, start=1):
        rec, x, y = cifar_records(n, seed=i)
        (folder / f"data_batch_{i}.bin").write_bytes(rec.tobytes())
        xs.append(x)
        ys.append(y)
    rec, xte, yte = cifar_records(n_test, seed=99)
    (folder / "test_batch.bin").write_bytes(rec.tobytes())
    if meta:
        names = [f"class{i}" for i in range(10)]
        (folder / "batches.meta.txt").write_text("\n".join(names) + "\n\n")
    return np.concatenate(xs), np.concatenate(ys), xte, yte


def test_load_cifar_binary_dir_multiple_batches(tmp_path):
    # 11 batches: data_batch_10 must come after data_batch_2 (numeric, not string, order).
    sizes = tuple(range(1, 12))
    xtr, ytr, xte, yte = _write_cifar_bin_dir(tmp_path / "cifar-10-batches-bin", sizes=sizes)
    ds = load("cifar10", data_dir=tmp_path)
    assert ds.x_train.shape == (sum(sizes), 32, 32, 3)
    np.testing.assert_array_equal(ds.x_train, xtr)
    np.testing.assert_array_equal(ds.y_train, ytr)
    np.testing.assert_array_equal(ds.x_test, xte)
    assert ds.class_names == [f"class{i}" for i in range(10)]
    assert ds.source == str(tmp_path / "cifar-10-batches-bin")


def test_load_standardised_cifar_uses_training_statistics_only(tmp_path):
    xtr, _, xte, _ = _write_cifar_bin_dir(tmp_path / "cifar-10-batches-bin", sizes=(5, 5), n_test=3)
    std = load_standardised("cifar10", tmp_path, validation=2, seed=1)
    data = std.data
    assert len(data.x_train) == 8 and len(data.x_val) == 2
    train = data.x_train.astype(np.float64) / 255  # the 8 kept images: the held-out 2 must not count
    np.testing.assert_allclose(std.mean, train.mean(axis=(0, 1, 2)), rtol=1e-12)
    np.testing.assert_allclose(std.std, train.std(axis=(0, 1, 2)), rtol=1e-12)
    out = std.apply(data.x_train)
    assert out.dtype == np.float32 and out.shape == data.x_train.shape
    np.testing.assert_allclose(out.reshape(-1, 3).mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.reshape(-1, 3).std(axis=0), 1, atol=1e-4)
    test = std.apply(xte)  # other splits use the training statistics
    np.testing.assert_allclose(test, (xte / 255 - np.float32(std.mean)) / np.float32(std.std), atol=1e-5)
    assert std.data.x_train.dtype == np.uint8  # the images stay uint8


def test_load_standardised_needs_one_batch(tmp_path):
    _write_cifar_bin_dir(tmp_path / "cifar-10-batches-bin", sizes=(3,))
    with pytest.raises(UsageError, match="3 training images are fewer than one batch of 4") as err:
        load_standardised("cifar10", tmp_path, batch_size=4)
    assert err.value.code == 2
    assert len(load_standardised("cifar10", tmp_path, batch_size=3).data.x_train) == 3


@pytest.mark.parametrize("folder", ["cifar-10-sample", "cifar10", "cifar-10", "."])
def test_load_cifar_folder_names_and_default_classes(tmp_path, folder):
    target = tmp_path / folder if folder != "." else tmp_path / "root"
    _write_cifar_bin_dir(target, sizes=(2,), meta=False)
    ds = load("cifar-10", data_dir=tmp_path if folder != "." else target)
    assert ds.num_train == 2 and ds.num_test == 2
    assert ds.class_names[0] == "airplane" and ds.class_names[9] == "truck"


def test_incomplete_cifar_folder(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    rec, _, _ = cifar_records(2)
    (folder / "data_batch_1.bin").write_bytes(rec.tobytes())
    with pytest.raises(MissingError, match="missing test_batch.bin"):
        load("cifar10", data_dir=tmp_path)


def _write_cifar_py_dir(folder: Path, str_keys=False, numpy1_names=False):
    folder.mkdir(parents=True)
    out = []
    for name, n, seed in (("data_batch_1", 3, 1), ("data_batch_2", 2, 2), ("test_batch", 4, 3)):
        rec, x, y = cifar_records(n, seed)
        batch = {b"batch_label": b"x", b"labels": [int(v) for v in y], b"data": rec[:, 1:].copy()}
        if str_keys:
            batch = {k.decode(): v for k, v in batch.items()}
        data = pickle.dumps(batch, protocol=2)
        if numpy1_names:  # as numpy 1.x (and the original CIFAR-10 pickles) name the reconstructor
            assert b"numpy._core.multiarray" in data
            data = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
        (folder / name).write_bytes(data)
        out.append((x, y))
    meta = {b"label_names": [f"c{i}".encode() for i in range(10)], b"num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=2)
    return out


@pytest.mark.parametrize("str_keys", [False, True], ids=["bytes-keys", "str-keys"])
@pytest.mark.parametrize("numpy1_names", [False, True], ids=["numpy2", "numpy1"])
def test_load_cifar_python_pickles(tmp_path, str_keys, numpy1_names):
    folder = tmp_path / "cifar-10-batches-py"
    (x1, y1), (x2, y2), (xte, yte) = _write_cifar_py_dir(folder, str_keys, numpy1_names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning from numpy.core under numpy 2
        ds = load("cifar10", data_dir=tmp_path)
    np.testing.assert_array_equal(ds.x_train, np.concatenate([x1, x2]))
    np.testing.assert_array_equal(ds.y_train, np.concatenate([y1, y2]))
    np.testing.assert_array_equal(ds.x_test, xte)
    assert ds.y_test.dtype == np.int64 and ds.x_train.dtype == np.uint8
    assert tuple(ds.x_train[0, 0, 0]) == (11, 22, 33)
    assert ds.class_names == [f"c{i}" for i in range(10)]


def test_cifar_pickle_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    path = tmp_path / "data_batch_1"
    with open(path, "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": []}, f, protocol=2)
    with pytest.raises(MissingError, match="refusing to load") as err:
        readers.read_cifar_pickle(path)
    assert str(path) in err.value.message
    assert not (tmp_path / "pwned").exists()


# ------------------------------------------------------------------------------------------------ search order


@pytest.fixture
def no_sources(tmp_path, monkeypatch):
    """No env dir, an empty system dir, and a tfds fallback that fails the test if reached."""
    monkeypatch.delenv("DLTOOL_DATA_DIR", raising=False)
    monkeypatch.setattr(sources, "SYSTEM_DATA_DIR", tmp_path / "usr-share-datasets")

    def unexpected(*args, **kwargs):
        raise AssertionError("tfds fallback reached")

    monkeypatch.setattr(sources, "load_tfds", unexpected)
    return tmp_path


def test_env_dir_is_used(no_sources, monkeypatch):
    make_idx_set(no_sources / "env" / "mnist", n_train=7)
    monkeypatch.setenv("DLTOOL_DATA_DIR", os.pathsep.join([str(no_sources / "nothing"), str(no_sources / "env")]))
    ds = load("mnist")
    assert ds.num_train == 7 and ds.source == str(no_sources / "env" / "mnist")


def test_explicit_dir_beats_env(no_sources, monkeypatch):
    make_idx_set(no_sources / "env" / "mnist", n_train=7)
    make_idx_set(no_sources / "arg" / "mnist", n_train=9)
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(no_sources / "env"))
    assert load("mnist", data_dir=no_sources / "arg").num_train == 9


def test_system_dir_after_env(no_sources, monkeypatch):
    make_idx_set(no_sources / "usr-share-datasets" / "fashion-mnist", n_train=8)
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(no_sources / "empty-env"))
    ds = load("fashion-mnist")
    assert ds.num_train == 8 and ds.source == str(no_sources / "usr-share-datasets" / "fashion-mnist")


def test_explicit_dir_without_the_set_does_not_fall_through(no_sources, monkeypatch):
    make_idx_set(no_sources / "env" / "mnist")
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(no_sources / "env"))
    (no_sources / "arg").mkdir()
    with pytest.raises(MissingError) as err:
        load("mnist", data_dir=no_sources / "arg")
    assert "not found in" in err.value.message and "--data-dir" in err.value.hint


def test_explicit_dir_that_does_not_exist(no_sources):
    with pytest.raises(MissingError, match="does not exist"):
        load("mnist", data_dir=no_sources / "nope")


def test_missing_message_names_the_system_folder():
    err = sources.missing_error(sources.get_spec("fashion_mnist"), sources.SearchLog())
    assert "/usr/share/datasets/fashion-mnist (apt install dataset-fashion-mnist)" in err.hint


def test_unknown_dataset_is_usage_error():
    with pytest.raises(UsageError, match="unknown dataset 'imagenet'") as err:
        load("imagenet")
    assert err.value.code == 2 and "fashion-mnist" in err.value.hint


# ------------------------------------------------------------------------------------------- tfds and missing


@pytest.fixture
def nothing_local(tmp_path, monkeypatch):
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(sources, "SYSTEM_DATA_DIR", tmp_path / "usr-share-datasets")
    return tmp_path


def test_missing_offline_names_every_way(nothing_local, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    calls = []

    def fake_load(name, **kwargs):
        calls.append(kwargs)
        raise AssertionError("Dataset fashion_mnist: could not find data in ~/tensorflow_datasets")

    monkeypatch.setattr(tfds, "load", fake_load)
    monkeypatch.setattr(sources, "network_available", lambda *a, **k: False)
    with pytest.raises(MissingError) as err:
        load("fashion-mnist")
    e = err.value
    assert e.code == ExitCode.MISSING
    text = e.one_line()
    system = str(sources.SYSTEM_DATA_DIR / "fashion-mnist")  # /usr/share/datasets/fashion-mnist unpatched
    for way in ("--data-dir DIR", "DLTOOL_DATA_DIR", system,
                "apt install dataset-fashion-mnist", "tensorflow-datasets", "tfds build fashion_mnist",
                "~/tensorflow_datasets"):  # fmt: skip
        assert way in text, way
    assert "no network" in text
    assert [c["download"] for c in calls] == [False]  # no multi-minute offline download attempt


def test_missing_when_tfds_download_raises(nothing_local, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    calls = []

    def fake_load(name, **kwargs):
        calls.append(kwargs)
        if kwargs["download"]:
            raise ModuleNotFoundError("No module named 'importlib_resources'")
        raise AssertionError("not prepared")

    monkeypatch.setattr(tfds, "load", fake_load)
    monkeypatch.setattr(sources, "network_available", lambda *a, **k: True)
    with pytest.raises(MissingError, match="importlib_resources") as err:
        load("mnist")
    assert err.value.code == 3 and "--data-dir" in err.value.hint
    assert [c["download"] for c in calls] == [False, True]


def test_explicit_tfds_dir_is_read_without_download(tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    (tmp_path / "mnist" / "3.0.1").mkdir(parents=True)
    (tmp_path / "mnist" / "3.0.1" / "dataset_info.json").write_text("{}")
    calls = []

    def fake_load(name, **kwargs):
        calls.append(kwargs)
        raise AssertionError("broken copy")

    monkeypatch.setattr(tfds, "load", fake_load)
    with pytest.raises(MissingError, match="broken copy"):
        load("mnist", data_dir=tmp_path)
    assert calls == [dict(split=["train", "test"], as_supervised=True, with_info=True,
                          data_dir=str(tmp_path), download=False)]  # fmt: skip


def test_tfds_mock_path(nothing_local, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    # tfds 4.9 makes an empty /tmp/tmp*tfds folder per builder here and leaves it (GCS is off, so it stays empty).
    monkeypatch.setattr(tfds.core.DatasetInfo, "initialize_from_bucket", lambda self: None)
    with tfds.testing.mock_data(num_examples=20):
        ds = load("fashion_mnist", validation=0.25, seed=3)
    assert ds.source == "tensorflow-datasets"
    assert ds.x_train.shape == (15, 28, 28, 1) and ds.x_val.shape == (5, 28, 28, 1)
    assert ds.x_test.shape == (20, 28, 28, 1)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    assert ds.class_names[0] == "T-shirt/top"
    with tfds.testing.mock_data(num_examples=6):
        ds = load("cifar10")
    assert ds.x_train.shape == (6, 32, 32, 3) and ds.class_names[0] == "airplane"


# ------------------------------------------------------------------------------------- validation and subset


def test_validation_count_rules():
    assert validation_count(0, 100) == 0 and validation_count(None, 100) == 0 and validation_count(0.0, 100) == 0
    assert validation_count(0.1, 100) == 10
    assert validation_count(0.001, 100) == 1  # at least one
    assert validation_count(25, 100) == 25 and validation_count(25.0, 100) == 25
    assert validation_count(1, 100) == 1
    for bad in (-0.1, 1.0, 1.5, 100, 250, float("nan"), "0.1", True):
        with pytest.raises(UsageError) as err:
            validation_count(bad, 100)
        assert err.value.code == 2


def test_split_validation_sizes_disjoint_and_deterministic():
    x = np.arange(100)
    y = np.arange(100) % 10
    xt, yt, xv, yv = split_validation(x, y, 0.2, seed=1)
    assert len(xt) == 80 and len(xv) == 20
    assert sorted(np.concatenate([xt, xv]).tolist()) == list(range(100))  # a partition
    np.testing.assert_array_equal(yv, xv % 10)  # labels stay with their images
    assert np.all(np.diff(xt) > 0) and np.all(np.diff(xv) > 0)  # file order kept
    again = split_validation(x, y, 0.2, seed=1)
    np.testing.assert_array_equal(again[2], xv)
    other = split_validation(x, y, 0.2, seed=2)
    assert not np.array_equal(other[2], xv)
    xt0, _, xv0, yv0 = split_validation(x, y, 0, seed=1)
    assert xt0 is x and xv0 is None and yv0 is None


def test_load_with_validation_and_subset(tmp_path):
    make_idx_set(tmp_path / "mnist", n_train=40, n_test=10)
    ds = load("mnist", data_dir=tmp_path, validation=8, seed=5)
    assert (ds.num_train, ds.num_val, ds.num_test) == (32, 8, 10)
    ds2 = load("mnist", data_dir=tmp_path, validation=8, seed=5)
    np.testing.assert_array_equal(ds.x_val, ds2.x_val)
    small = load("mnist", data_dir=tmp_path, validation=0.25, seed=5, subset=20, test_subset=4)
    assert (small.num_train, small.num_val, small.num_test) == (15, 5, 4)
    with pytest.raises(UsageError, match="only 40"):
        load("mnist", data_dir=tmp_path, subset=41)
    with pytest.raises(UsageError, match="leaving none"):
        load("mnist", data_dir=tmp_path, validation=40)


def test_bad_validation_fails_before_reading(tmp_path):
    with pytest.raises(UsageError):
        load("mnist", data_dir=tmp_path / "does-not-exist", validation=-1)


def test_normalise():
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    out = normalise(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 0.2, 1.0]], rtol=1e-6)


def test_data_package_does_not_import_tensorflow(tmp_path):
    make_idx_set(tmp_path / "mnist")
    code = (
        "import sys; from dltool.data import load; import dltool.data.synthetic, dltool.data.readers; "
        f"d = load('mnist', data_dir={str(tmp_path)!r}); assert d.num_train == 12; "
        "bad = [m for m in ('tensorflow', 'tensorflow_datasets', 'keras') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------------------------ real data


def test_real_mnist_counts_and_mean_pixel(data_dir):
    t0 = time.perf_counter()
    ds = load("mnist", data_dir=data_dir)
    seconds = time.perf_counter() - t0
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(ds.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(ds.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert ds.x_train.mean() == pytest.approx(33.318, abs=1e-3)
    assert seconds < 5, f"reading MNIST took {seconds:.2f} s"  # ≈ 0.3 s here; loose bound for slow CI disks


def test_real_fashion_mnist(data_dir):
    ds = load("fashion-mnist", data_dir=data_dir)
    assert ds.num_train == 60000 and ds.num_test == 10000
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10


def test_real_cifar_sample(cifar_dir):
    ds = load("cifar10", data_dir=cifar_dir, validation=0.1, seed=0)
    assert ds.x_train.shape == (1800, 32, 32, 3) and ds.num_val == 200 and ds.num_test == 1000
    assert ds.num_train + ds.num_val == 2000
    assert ds.class_names == ["airplane", "automobile", "bird", "cat", "deer",
                              "dog", "frog", "horse", "ship", "truck"]  # fmt: skip
    # Channel order: CIFAR-10's per-channel means are about R 125, G 123, B 114 — blue lowest, red highest.
    r, g, b = np.concatenate([ds.x_train, ds.x_val]).reshape(-1, 3).mean(axis=0)
    assert r > g > b and abs(r - 125.3) < 3 and abs(b - 113.9) < 3


# ------------------------------------------------------------------------------------- corrupt files, before TF


def _gz_truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _plain_truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _short_payload(path: Path) -> None:  # a complete gzip stream whose IDX data stops short
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))


# case → (dataset, folder, gz, the file named, what the message says, how the file is spoilt)
CORRUPT = {
    "bad-magic": ("mnist", "mnist", True, "train-images-idx3-ubyte.gz", "wrong IDX magic number 2049",
                  lambda p: write_idx(p, np.zeros((12, 28, 28)), gz=True, magic=2049)),
    "truncated-gzip": ("mnist", "mnist", True, "train-images-idx3-ubyte.gz", "corrupt or truncated gzip data",
                       _gz_truncated),
    "short-gzip-payload": ("fashion-mnist", "fashion-mnist", True, "t10k-images-idx3-ubyte.gz",
                           "truncated: the header says 5×28×28 = 3920 bytes of data, the file has 3820",
                           _short_payload),
    "truncated-plain": ("mnist", "mnist", False, "train-images-idx3-ubyte",
                        "truncated: the header says 12×28×28 = 9408 bytes of data, the file has 9308",
                        _plain_truncated),
    "wrong-image-size": ("mnist", "mnist", True, "t10k-images-idx3-ubyte.gz", "images are 32×32, mnist has 28×28",
                         lambda p: write_idx(p, np.zeros((5, 32, 32)), gz=True)),
    "label-count": ("mnist", "mnist", True, "train-images-idx3-ubyte.gz",
                    "12 images but train-labels-idx1-ubyte.gz has 11 labels",
                    lambda p: write_idx(p.with_name("train-labels-idx1-ubyte.gz"), np.zeros(11), gz=True)),
    "label-11-idx": ("mnist", "mnist", True, "t10k-labels-idx1-ubyte.gz", "label 11 outside 0..9",
                     lambda p: write_idx(p, np.full(5, 11), gz=True)),
    "cifar-size": ("cifar10", "cifar-10-batches-bin", None, "test_batch.bin",
                   "is not a whole number of CIFAR-10 records of 3073 bytes", _plain_truncated),
    "cifar-label-11": ("cifar10", "cifar-10-batches-bin", None, "data_batch_2.bin", "label 11, outside 0..9",
                       lambda p: p.write_bytes(p.read_bytes()[:3073 * 2] + b"\x0b" + p.read_bytes()[3073 * 2 + 1:])),
}


def _corrupt_set(root: Path, case: str) -> tuple[str, Path, str]:
    """A small set in ``root`` with one file spoilt as ``case`` says → (dataset, the file to name, message part)."""
    name, folder, gz, file, message, spoil = CORRUPT[case]
    if gz is None:
        _write_cifar_bin_dir(root / folder)
    else:
        make_idx_set(root / folder, gz=gz)
    spoil(root / folder / file)
    return name, root / folder / file, message


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_files_are_found_by_the_check_before_a_run(tmp_path, case):
    """check_available (what commands call before TensorFlow) refuses what load (after it) refuses, with the same
    exit code 3 and a message naming the file; it used to return as soon as the files existed."""
    name, path, message = _corrupt_set(tmp_path, case)
    with pytest.raises(MissingError) as early:
        sources.check_available(name, tmp_path)
    assert early.value.code == ExitCode.MISSING
    assert str(path) in early.value.message and message in early.value.message, early.value.message
    assert "--data-dir" in early.value.one_line()
    with pytest.raises(MissingError) as late:
        load(name, data_dir=tmp_path)
    assert late.value.code == early.value.code


def test_corrupt_files_found_through_the_env_dir_too(tmp_path, monkeypatch):
    _, path, _ = _corrupt_set(tmp_path, "label-11-idx")
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(tmp_path))
    with pytest.raises(MissingError, match="label 11 outside"):
        sources.check_available("mnist")


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "plain"])
def test_good_sets_pass_the_check(tmp_path, gz):
    make_idx_set(tmp_path / "mnist", gz=gz)
    _write_cifar_bin_dir(tmp_path / "cifar-10-batches-bin")
    assert sources.check_available("mnist", tmp_path) is None
    assert sources.check_available("cifar10", tmp_path) is None


def test_gzip_of_several_members_is_not_refused(tmp_path):
    """The ISIZE trailer holds only the last member's size: a mismatch is checked by decompressing, not refused."""
    make_idx_set(tmp_path / "mnist")
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]))
    assert readers.check_idx(path, readers.IDX_IMAGES_MAGIC) == (12, 28, 28)
    assert sources.check_available("mnist", tmp_path) is None


def test_check_of_the_real_sets_is_quick(data_dir):
    """The check runs before every mnist and scale run: header and trailer reads, not a gunzip of the images
    (which takes ≈ 0.3–0.4 s for Fashion-MNIST's training images). Measured here ≈ 1–2 ms per set."""
    for name in ("mnist", "fashion-mnist", "cifar10"):
        if sources.find_in_root(sources.get_spec(name), data_dir) is None:
            continue
        start = time.perf_counter()
        sources.check_available(name, data_dir)
        assert time.perf_counter() - start < 0.1, name


@pytest.mark.parametrize("case, command", [
    ("bad-magic", "scale --quick --dataset mnist --data-dir data --out run"),
    ("short-gzip-payload", "scale --quick --dataset fashion-mnist --data-dir data --out run"),
    ("label-count", "scale --quick --dataset mnist --data-dir data --out run"),
    ("cifar-label-11", "scale --quick --dataset cifar10 --data-dir data --out run"),
    ("cifar-size", "scale --quick --dataset cifar10 --data-dir data --out run"),
])
def test_cli_refuses_corrupt_data_before_tensorflow(tmp_path, case, command):
    """A corrupt file costs well under a second: exit 3, one line naming the file and the fix, TensorFlow not
    imported and no run folder (scale found it only after TensorFlow's ≈ 3.5 s import; the mnist commands read
    the set before TensorFlow already, but after making the run folder)."""
    _, path, message = _corrupt_set(tmp_path / "data", case)
    code = ("import shlex, sys, time\nfrom dltool.cli.app import main\nstart = time.perf_counter()\n"
            "code = main(shlex.split(sys.argv[1]))\n"
            "print(code, round(time.perf_counter() - start, 3), 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, command], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    exit_code, seconds, tf_imported = done.stdout.split()
    assert (exit_code, tf_imported) == ("3", "False"), (done.stdout, done.stderr)
    assert float(seconds) < 1.0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dltool: error: "), done.stderr
    assert str(Path("data") / path.relative_to(tmp_path / "data")) in lines[0] and message in lines[0]
    assert "download" in lines[0].lower() and "--data-dir" in lines[0]
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------------------------ synthetic


def test_eggholder_minimum():
    assert synthetic.eggholder(512, 404.2319) == pytest.approx(-959.6407, abs=1e-3)
    grid = synthetic.eggholder(np.array([0.0, 512.0]), np.array([0.0, 404.2319]))
    assert grid.shape == (2,) and grid[1] < grid[0]


def test_eggholder_samples():
    x, f = synthetic.eggholder_samples(1000, noise_std=0.0, seed=4)
    assert x.shape == (1000, 2) and f.shape == (1000,) and x.dtype == np.float32
    assert x.min() >= -512 and x.max() <= 512
    np.testing.assert_allclose(f, synthetic.eggholder(x[:, 0], x[:, 1]), rtol=1e-4, atol=1e-2)
    _, noisy = synthetic.eggholder_samples(1000, noise_std=10.0, seed=4)
    assert 8 < np.std(noisy - f) < 12
    np.testing.assert_array_equal(synthetic.eggholder_samples(5, seed=1)[0], synthetic.eggholder_samples(5, seed=1)[0])


def test_line_points_recover_line():
    x, y = synthetic.line_points(2000, w=2.5, b=-1.0, noise=0.1, seed=0, x_range=(-2, 3))
    assert x.dtype == np.float32 and x.shape == (2000,) and x.min() >= -2 and x.max() <= 3
    w, b = np.polyfit(x, y, 1)
    assert w == pytest.approx(2.5, abs=0.02) and b == pytest.approx(-1.0, abs=0.02)
    assert np.std(y - (2.5 * x - 1.0)) == pytest.approx(0.1, rel=0.1)
    with pytest.raises(UsageError):
        synthetic.line_points(0, 1, 0, 0.1)


def test_read_xy_csv(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("id, Y ,x\n1,2.5,1\n\n2,-1e1,0.5\n")
    x, y = synthetic.read_xy_csv(path)
    assert x.tolist() == [1.0, 0.5] and y.tolist() == [2.5, -10.0]


def test_read_xy_csv_errors(tmp_path):
    missing_col = tmp_path / "a.csv"
    missing_col.write_text("x,z\n1,2\n")
    with pytest.raises(UsageError, match="no 'y' column") as err:
        synthetic.read_xy_csv(missing_col)
    assert str(missing_col) in err.value.message and err.value.code == 2
    bad_value = tmp_path / "b.csv"
    bad_value.write_text("x,y\n1,2\n3,abc\n")
    with pytest.raises(UsageError) as err:
        synthetic.read_xy_csv(bad_value)
    assert f"{bad_value}:3" in err.value.message and "'abc'" in err.value.message
    empty = tmp_path / "c.csv"
    empty.write_text("x,y\n")
    with pytest.raises(UsageError, match="no data rows"):
        synthetic.read_xy_csv(empty)
    with pytest.raises(MissingError):
        synthetic.read_xy_csv(tmp_path / "absent.csv")


def test_synthetic_images():
    x, y = synthetic.synthetic_images(16, (8, 8, 3), num_classes=5, seed=1)
    assert x.shape == (16, 8, 8, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    assert y.min() >= 0 and y.max() < 5
    xf, _ = synthetic.synthetic_images(4, (2, 2, 1), dtype="float32")
    assert xf.dtype == np.float32 and 0 <= xf.min() and xf.max() < 1
    np.testing.assert_array_equal(synthetic.synthetic_images(3, seed=2)[0], synthetic.synthetic_images(3, seed=2)[0])
