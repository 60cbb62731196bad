"""Readers for the raw files that MNIST, Fashion-MNIST and CIFAR-10 ship as — numpy only, no TensorFlow.

Formats (as their publishers describe them):

* IDX (LeCun's MNIST page; Fashion-MNIST uses the same files): a big-endian header — magic
  ``0x00 0x00 <dtype> <ndim>`` then ``ndim`` uint32 sizes — then the data, row-major. Images are magic 2051
  (ubyte, 3 dims), labels 2049 (ubyte, 1 dim). Files come gzipped (``*.gz``) or plain; gzip is recognised by its
  own magic bytes, not by the name.
* CIFAR-10 binary version: records of 1 label byte + 3,072 pixel bytes (the 1,024 red values, then green, then
  blue, each plane row-major 32×32). A file may hold any number of records (the full set has 10,000 per batch,
  the shared sample 2,000 and 1,000), so the count comes from the file size, which must be a multiple of 3,073.
* CIFAR-10 python version: pickles of a dict with ``b'data'`` (N×3072 uint8, same plane order) and
  ``b'labels'``; ``batches.meta`` holds ``b'label_names'``. They are unpickled with an allow-list of the numpy
  reconstructors they need, so a crafted pickle cannot run arbitrary code.

Why the checks: a truncated download or a file of the wrong kind must not turn into silently wrong arrays (or a
numpy reshape error three frames down). Every check raises :class:`~dltool.errors.MissingError` (exit 3: the
data the user pointed at is not usable) with the file's path in the message.

Speed: data is read straight into a preallocated numpy buffer (``readinto``), so the full MNIST training set
(47 MB after gunzip) loads in well under a second and the arrays are writable without a copy.
"""

from __future__ import annotations

import gzip
import os
import pickle
import zlib
from pathlib import Path

import numpy as np

from dltool.errors import MissingError

IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned byte, 3 dimensions (N, rows, cols)
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned byte, 1 dimension (N,)

# IDX type codes (third magic byte) → big-endian numpy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

CIFAR_IMAGE_BYTES = 3 * 32 * 32  # R, G, B planes of 32×32
CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES  # 3,073: label byte first

_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
_MAX_IDX_BYTES = 1 << 33  # 8 GiB: far above any IDX dataset; a larger header is corrupt, not data to allocate

_REDOWNLOAD_HINT = "Download the file again or point --data-dir / DLTOOL_DATA_DIR at a complete copy."
_GZIP_MAGIC = b"\x1f\x8b"


def _bad(path: Path | str, what: str) -> MissingError:
    return MissingError(f"{path}: {what}", _REDOWNLOAD_HINT)


def _open(path: Path):
    """Open ``path`` for binary reading, transparently gunzipping it when it starts with the gzip magic."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed there
    except FileNotFoundError:
        raise MissingError(f"{path}: file not found", _REDOWNLOAD_HINT) from None
    except OSError as exc:
        raise MissingError(f"{path}: cannot read ({exc.strerror or exc})", _REDOWNLOAD_HINT) from None
    head = raw.read(2)
    raw.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw
    return raw, raw


def _read_exact(stream, path: Path, n: int, what: str) -> bytes:
    try:
        data = stream.read(n)
    except (EOFError, OSError, zlib.error) as exc:
        raise _bad(path, f"corrupt or truncated gzip data while reading the {what} ({exc})") from None
    if len(data) != n:
        raise _bad(path, f"truncated: the {what} needs {n} bytes, the file has {len(data)}")
    return data


def _readinto_full(stream, path: Path, out: np.ndarray, what: str) -> None:
    """Fill ``out`` (a contiguous array) from ``stream``; error naming ``path`` when the file is short or long."""
    view = memoryview(out).cast("B")
    total = view.nbytes
    got = 0
    try:
        while got < total:
            n = stream.readinto(view[got:])
            if not n:
                break
            got += n
        extra = stream.read(1) if got == total else b""
    except (EOFError, OSError, zlib.error) as exc:
        raise _bad(path, f"corrupt or truncated gzip data after {got} of {total} {what} bytes ({exc})") from None
    if got < total:
        raise _bad(path, f"truncated: the header promises {total} bytes of {what}, the file has {got}")
    if extra:
        raise _bad(path, f"longer than its header says ({total} bytes of {what} expected): not a valid IDX file")


def _idx_header(stream, path: Path, expect_magic: int | None) -> tuple[tuple[int, ...], np.dtype, int, int]:
    """Parse an IDX header from ``stream`` → (dims, file dtype, data bytes, header bytes); errors name ``path``."""
    head = _read_exact(stream, path, 4, "IDX magic number")
    magic = int.from_bytes(head, "big")
    dtype_code, ndim = head[2], head[3]
    if head[:2] != b"\x00\x00" or dtype_code not in _IDX_DTYPES or ndim == 0:
        expected = f", expected {expect_magic}" if expect_magic is not None else ""
        raise _bad(path, f"not an IDX file (magic number {magic}{expected})")
    if expect_magic is not None and magic != expect_magic:
        raise _bad(path, f"wrong IDX magic number {magic}, expected {expect_magic} ({_magic_name(expect_magic)})")
    dims_raw = _read_exact(stream, path, 4 * ndim, "IDX dimensions")
    dims = tuple(int.from_bytes(dims_raw[4 * i : 4 * i + 4], "big") for i in range(ndim))
    file_dtype = _IDX_DTYPES[dtype_code]
    nbytes = int(np.prod(dims, dtype=np.uint64)) * file_dtype.itemsize
    if nbytes > _MAX_IDX_BYTES:
        raise _bad(path, f"IDX header claims dimensions {dims} ({nbytes} bytes): corrupt header")
    return dims, file_dtype, nbytes, 4 + 4 * ndim


def _size_mismatch(path: Path, dims: tuple[int, ...], nbytes: int, have: int) -> MissingError:
    shape = "×".join(map(str, dims))
    kind = "truncated" if have < nbytes else "too long"
    return _bad(path, f"{kind}: the header says {shape} = {nbytes} bytes of data, the file has {have}")


def read_idx(path: str | os.PathLike, expect_magic: int | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or plain) into an array of the header's shape and dtype (native byte order).

    ``expect_magic`` (2051 images, 2049 labels) makes a file of the wrong kind an error naming the file.
    """
    path = Path(path)
    stream, raw = _open(path)
    try:
        dims, file_dtype, nbytes, header = _idx_header(stream, path, expect_magic)
        if stream is raw:  # plain file: the size is known up front, so say exactly what is wrong
            have = path.stat().st_size - header
            if have != nbytes:
                raise _size_mismatch(path, dims, nbytes, have)
        out = np.empty(dims, dtype=file_dtype)
        _readinto_full(stream, path, out, "data")
    finally:
        if stream is not raw:
            stream.close()
        raw.close()
    if file_dtype.byteorder == ">":
        out = out.astype(file_dtype.newbyteorder("="))
    return out


def check_idx(path: str | os.PathLike, expect_magic: int | None = None) -> tuple[int, ...]:
    """The dimensions of an IDX file, checked without reading its data: magic number, dimension count, and
    the data size the header promises against the file's size.

    A plain file's size is its ``stat``; a gzip file's uncompressed size is its ISIZE trailer (the last 4 bytes,
    the size mod 2³²; read in well under a millisecond, where gunzipping the 26 MB Fashion-MNIST training images
    takes ≈ 0.3–0.4 s). Only when the trailer disagrees is the file decompressed to count its bytes, so a
    truncated download is told from a file of several gzip members (whose trailer holds the last member's size).
    """
    path = Path(path)
    stream, raw = _open(path)
    try:
        dims, _, nbytes, header = _idx_header(stream, path, expect_magic)
        if stream is raw:
            have = path.stat().st_size - header
        else:
            raw.seek(-4, os.SEEK_END)  # the header was read, so the file is longer than 4 bytes
            isize = int.from_bytes(raw.read(4), "little")
            if isize == (header + nbytes) % (1 << 32):
                return dims
            raw.seek(0)
            have = _gunzipped_size(raw, path) - header
        if have != nbytes:
            raise _size_mismatch(path, dims, nbytes, have)
    finally:
        if stream is not raw:
            stream.close()
        raw.close()
    return dims


def _gunzipped_size(raw, path: Path, chunk: int = 1 << 20) -> int:
    """Bytes of data in a gzip file (every member), decompressed in chunks and thrown away."""
    total = 0
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            while True:
                n = len(stream.read(chunk))
                if not n:
                    return total
                total += n
    except (EOFError, OSError, zlib.error) as exc:
        raise _bad(path, f"corrupt or truncated gzip data after {total} bytes ({exc})") from None


def _magic_name(magic: int) -> str:
    return {IDX_IMAGES_MAGIC: "IDX images", IDX_LABELS_MAGIC: "IDX labels"}.get(magic, "IDX")


def read_idx_images(path: str | os.PathLike) -> np.ndarray:
    """IDX image file → uint8 array (N, rows, cols, 1) — NHWC with one channel."""
    images = read_idx(path, expect_magic=IDX_IMAGES_MAGIC)
    return images[..., np.newaxis]


def read_idx_labels(path: str | os.PathLike) -> np.ndarray:
    """IDX label file → int64 array (N,)."""
    return read_idx(path, expect_magic=IDX_LABELS_MAGIC).astype(np.int64)


def _planes_to_nhwc(flat: np.ndarray) -> np.ndarray:
    """(N, 3072) rows of R, G, B planes → contiguous uint8 (N, 32, 32, 3)."""
    return np.ascontiguousarray(flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def _cifar_bin_records(path: Path) -> int:
    """Records in a CIFAR-10 binary batch, from its size; an error naming the file when it is not a whole number."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MissingError(f"{path}: file not found", _REDOWNLOAD_HINT) from None
    if size == 0 or size % CIFAR_RECORD_BYTES:
        raise _bad(
            path,
            f"size {size} bytes is not a whole number of CIFAR-10 records of {CIFAR_RECORD_BYTES} bytes "
            "(1 label byte + 3,072 pixel bytes): truncated or not a CIFAR-10 binary batch",
        )
    return size // CIFAR_RECORD_BYTES


def read_cifar_bin(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 binary batch file → (uint8 images (N, 32, 32, 3), int64 labels (N,)).

    N is the file size / 3,073; a size that is not a multiple of 3,073 is an error naming the file.
    """
    path = Path(path)
    _cifar_bin_records(path)
    records = np.fromfile(path, dtype=np.uint8).reshape(-1, CIFAR_RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    return _planes_to_nhwc(records[:, 1:]), labels


def check_cifar_bin(path: str | os.PathLike, num_classes: int = 10) -> int:
    """The record count of a CIFAR-10 binary batch, checked without reading its pixels: the size is a whole
    number of 3,073-byte records and every label byte is below ``num_classes``. The label bytes are read
    through a memory map, one byte per record (a 30 MB batch of 10,000 records: a few milliseconds)."""
    path = Path(path)
    n = _cifar_bin_records(path)
    try:
        labels = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, CIFAR_RECORD_BYTES))[:, 0]
        bad = np.flatnonzero(labels >= num_classes)
    except OSError as exc:
        raise MissingError(f"{path}: cannot read ({exc.strerror or exc})", _REDOWNLOAD_HINT) from None
    if len(bad):
        raise _bad(path, f"record {int(bad[0])} has label {int(labels[bad[0]])}, outside 0..{num_classes - 1}: "
                         "corrupt or not a CIFAR-10 batch")
    return n


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds numpy arrays and dtypes — what the CIFAR pickles contain, and nothing else."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3 writes bytes (the array buffers) into protocol-2 pickles
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only numpy arrays are expected)")
        # Pickles written by numpy 1.x name numpy.core, which numpy 2 keeps only as a deprecated alias.
        if module.startswith("numpy.core") and _NUMPY2:
            module = "numpy._core" + module[len("numpy.core") :]
        return super().find_class(module, name)


def _load_pickle(path: Path) -> dict:
    stream, raw = _open(path)
    try:
        obj = _NumpyOnlyUnpickler(stream, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, zlib.error, OSError) as exc:
        raise _bad(path, f"not a readable CIFAR-10 python pickle ({exc})") from None
    finally:
        if stream is not raw:
            stream.close()
        raw.close()
    if not isinstance(obj, dict):
        raise _bad(path, f"not a CIFAR-10 python pickle (holds a {type(obj).__name__}, expected a dict)")
    # Normalise keys: python-2 pickles have bytes keys; a re-saved copy may have str keys.
    return {(k.decode("latin-1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def read_cifar_pickle(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch (``data_batch_N`` / ``test_batch``) → (uint8 (N, 32, 32, 3), int64 (N,))."""
    path = Path(path)
    batch = _load_pickle(path)
    if "data" not in batch or "labels" not in batch:
        raise _bad(path, f"CIFAR-10 python batch without 'data' and 'labels' (keys: {sorted(map(str, batch))})")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64).reshape(-1)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != CIFAR_IMAGE_BYTES:
        raise _bad(path, f"'data' is {data.dtype} {data.shape}, expected uint8 (N, {CIFAR_IMAGE_BYTES})")
    if len(labels) != len(data):
        raise _bad(path, f"{len(data)} images but {len(labels)} labels")
    return _planes_to_nhwc(data), labels


def read_cifar_meta_txt(path: str | os.PathLike) -> list[str]:
    """``batches.meta.txt`` (binary version): one class name per line; blank lines ignored."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_cifar_meta_pickle(path: str | os.PathLike) -> list[str]:
    """``batches.meta`` (python version) → its ``label_names``."""
    path = Path(path)
    meta = _load_pickle(path)
    names = meta.get("label_names")
    if names is None:
        raise _bad(path, "CIFAR-10 meta pickle without 'label_names'")
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]
