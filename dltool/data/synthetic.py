"""Synthetic data, numpy only: noisy line points, (x, y) CSV files, the Eggholder function, random images.

* :func:`line_points` — y = w·x + b + N(0, noise²) for linear-regression demos (the fitted w, b are checkable).
* :func:`read_xy_csv` — the user's own (x, y) points; a bad file is a UsageError (exit 2) naming file and line.
* :func:`eggholder` — Eggholder test function, f(x1, x2) = −(x2 + 47)·sin√|x1/2 + (x2 + 47)| − x1·sin√|x1 − (x2 + 47)|,
  global minimum f(512, 404.2319) ≈ −959.6407 on [−512, 512]² (Jamil & Yang 2013, "A literature survey of
  benchmark functions for global optimisation problems", function 54); :func:`eggholder_samples` draws a
  regression set from it.
* :func:`synthetic_images` — random images and labels of any shape, for throughput benchmarks where the
  content does not matter but the bytes moved do.

Everything is seeded with ``numpy.random.default_rng(seed)``: the same seed gives the same arrays everywhere.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from dltool.errors import MissingError, UsageError

EGGHOLDER_BOUND = 512.0  # the usual search domain is [−512, 512]²


def line_points(
    n: int,
    w: float,
    b: float,
    noise: float,
    seed: int = 0,
    x_range: tuple[float, float] = (-1.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points x ~ U(x_range), y = w·x + b + ε with ε ~ N(0, noise²) → (x, y), float32 arrays of shape (n,)."""
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise UsageError(f"number of points must be a whole number ≥ 1, got {n!r}", "Use e.g. --points 100.")
    if noise < 0:
        raise UsageError(f"noise must be ≥ 0, got {noise!r}", "Use e.g. --noise 0.1.")
    lo, hi = x_range
    if not lo < hi:
        raise UsageError(f"x range must have low < high, got {x_range!r}", "Use e.g. (-1, 1).")
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, size=int(n))
    y = w * x + b + (rng.normal(0.0, noise, size=int(n)) if noise > 0 else 0.0)
    return x.astype(np.float32), np.asarray(y, dtype=np.float32)


def read_xy_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """A CSV with a header naming ``x`` and ``y`` columns (any order, other columns ignored) → float32 (x, y).

    Blank lines are skipped. A missing column, a non-numeric or non-finite value, or no data rows is a
    UsageError naming the file (and line); a file that does not exist is a MissingError.
    """
    path = Path(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise MissingError(f"{path}: file not found", "Check the path of the CSV file.") from None
    except OSError as exc:
        raise MissingError(f"{path}: cannot read ({exc.strerror or exc})", "Check the path of the CSV file.") from None
    hint = "The CSV needs a header line with columns x and y, then one numeric row per point."
    xs: list[float] = []
    ys: list[float] = []
    with handle:
        reader = csv.reader(handle)
        header = None
        for row in reader:
            if any(cell.strip() for cell in row):
                header = [cell.strip().lower() for cell in row]
                break
        if header is None:
            raise UsageError(f"{path}: empty file, no header line", hint)
        missing = [c for c in ("x", "y") if c not in header]
        if missing:
            raise UsageError(
                f"{path}:{reader.line_num}: header has no {' and no '.join(repr(c) for c in missing)} column "
                f"(columns: {', '.join(header)})",
                hint,
            )
        ix, iy = header.index("x"), header.index("y")
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            values = []
            for col, idx in (("x", ix), ("y", iy)):
                if idx >= len(row):
                    raise UsageError(f"{path}:{reader.line_num}: row has no value for column {col!r}", hint)
                cell = row[idx].strip()
                try:
                    value = float(cell)
                except ValueError:
                    raise UsageError(
                        f"{path}:{reader.line_num}: column {col!r} value {cell!r} is not a number", hint
                    ) from None
                if not math.isfinite(value):
                    raise UsageError(f"{path}:{reader.line_num}: column {col!r} value {cell!r} is not finite", hint)
                values.append(value)
            xs.append(values[0])
            ys.append(values[1])
    if not xs:
        raise UsageError(f"{path}: no data rows after the header", hint)
    return np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)


def eggholder(x1, x2):
    """Eggholder function, elementwise on scalars or arrays (float64)."""
    x1 = np.asarray(x1, dtype=np.float64)
    x2 = np.asarray(x2, dtype=np.float64)
    a = x2 + 47.0
    return -a * np.sin(np.sqrt(np.abs(x1 / 2.0 + a))) - x1 * np.sin(np.sqrt(np.abs(x1 - a)))


def eggholder_samples(n: int, noise_std: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform on [−512, 512]² with f = eggholder + N(0, noise_std²) → (X (n, 2), f (n,)), float32."""
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise UsageError(f"number of samples must be a whole number ≥ 1, got {n!r}", "Use e.g. --samples 10000.")
    if noise_std < 0:
        raise UsageError(f"noise must be ≥ 0, got {noise_std!r}", "Use e.g. --noise 0.")
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-EGGHOLDER_BOUND, EGGHOLDER_BOUND, size=(int(n), 2))
    f = eggholder(xy[:, 0], xy[:, 1])
    if noise_std > 0:
        f = f + rng.normal(0.0, noise_std, size=int(n))
    return xy.astype(np.float32), f.astype(np.float32)


def synthetic_images(
    n: int,
    shape: tuple[int, ...] = (32, 32, 3),
    num_classes: int = 10,
    seed: int = 0,
    dtype: str | np.dtype = "uint8",
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random images of ``shape`` (uint8 0..255, or floats in [0, 1)) and int64 labels in [0, num_classes)."""
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise UsageError(f"number of images must be a whole number ≥ 1, got {n!r}", "Use e.g. 1024.")
    if num_classes < 1:
        raise UsageError(f"num_classes must be ≥ 1, got {num_classes!r}", "Use e.g. 10.")
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    size = (int(n), *map(int, shape))
    if np.issubdtype(dtype, np.integer):
        x = rng.integers(0, 256, size=size, dtype=np.uint8).astype(dtype, copy=False)
    else:
        x = rng.random(size=size, dtype=np.float32).astype(dtype, copy=False)
    y = rng.integers(0, num_classes, size=int(n), dtype=np.int64)
    return x, y
