"""Image augmentation for CIFAR: Cutout, the standard crop-and-flip of He et al., and batch augmentation.

Every augmentation here works on a whole batch (NHWC) with TensorFlow ops, so it runs inside ``tf.data``
(the engine's ``FitConfig.map_fn``) without a per-image Python call; a NumPy reference of each sits beside it
for the tests.

- **Cutout** (DeVries & Taylor, 2017, arXiv:1708.04552): one square of side ``size`` (16 for CIFAR-10) is set to
  zero at a centre drawn uniformly over *all* pixels, so near the border the square is clipped and only part of
  it lies in the image — their code: ``y1 = clip(cy − size//2, 0, H)``, ``y2 = clip(cy + size//2, 0, H)``, the
  same for x, ``mask[y1:y2, x1:x2] = 0``. Keras' ``RandomErasing`` differs: it keeps the patch inside the image
  and fills noise. Applied after normalisation, zero is the mean colour, as in the paper's code.
- **He et al. (2016), §4.2**: pad 4 pixels of zeros on each side, take a random 32×32 crop, flip horizontally
  with probability ½.
- **Batch augmentation** (Hoffer et al., 2019, arXiv:1901.09335): a batch of B images becomes M·B — M copies of
  each image, each copy with its own random crop, flip and Cutout. Copy k of image i sits at row k·B + i.

Random draws use TensorFlow's stateful random ops, so a seeded run draws the same masks in the same order
(``tf.data`` is run deterministic by the engine).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

CUTOUT_SIZE = 16  # DeVries & Taylor's best size for CIFAR-10
PAD = 4  # He et al.: pixels of zero padding before the random 32×32 crop


# ---------------------------------------------------------------------------------------------- NumPy reference

def cutout_box(cy: int, cx: int, height: int, width: int, size: int = CUTOUT_SIZE) -> tuple[int, int, int, int]:
    """The zeroed rows [y1, y2) and columns [x1, x2) of a Cutout centred at (cy, cx), clipped at the border."""
    half = size // 2
    y1, y2 = int(np.clip(cy - half, 0, height)), int(np.clip(cy + size - half, 0, height))
    x1, x2 = int(np.clip(cx - half, 0, width)), int(np.clip(cx + size - half, 0, width))
    return y1, y2, x1, x2


def cutout_mask_np(height: int, width: int, cy: int, cx: int, size: int = CUTOUT_SIZE) -> np.ndarray:
    """A float32 H×W mask: 0 on the clipped square, 1 elsewhere (DeVries & Taylor's ``Cutout.__call__``)."""
    mask = np.ones((height, width), np.float32)
    y1, y2, x1, x2 = cutout_box(cy, cx, height, width, size)
    mask[y1:y2, x1:x2] = 0.0
    return mask


def cutout_np(images: np.ndarray, centres: np.ndarray, size: int = CUTOUT_SIZE) -> np.ndarray:
    """Cutout of a batch (N, H, W, C) with the given (N, 2) centres (row, column)."""
    images = np.asarray(images)
    out = images.copy()
    n, h, w = images.shape[:3]
    for i in range(n):
        out[i] = images[i] * cutout_mask_np(h, w, int(centres[i][0]), int(centres[i][1]), size)[..., None].astype(
            images.dtype)
    return out


def pad_crop_flip_np(images: np.ndarray, offsets: np.ndarray, flips: np.ndarray, pad: int = PAD) -> np.ndarray:
    """He et al.'s augmentation with given crop offsets (N, 2) in [0, 2·pad] and flips (N,) of 0/1."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out = np.empty_like(images)
    for i in range(n):
        oy, ox = int(offsets[i][0]), int(offsets[i][1])
        crop = padded[i, oy:oy + h, ox:ox + w]
        out[i] = crop[:, ::-1] if flips[i] else crop
    return out


def batch_copies_np(x: np.ndarray, y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """M copies of a batch, copy k of image i at row k·B + i (before each copy's own random augmentation)."""
    return np.concatenate([x] * m, axis=0), np.concatenate([y] * m, axis=0)


# -------------------------------------------------------------------------------------------- TensorFlow ops

def _tf():
    import tensorflow as tf

    return tf


def cutout(images: Any, size: int = CUTOUT_SIZE, centres: Any = None, seed: int | None = None):
    """Cutout of a batch (N, H, W, C): zero one clipped square per image, centre uniform over all pixels.

    ``centres`` (N, 2) int (row, column) fixes the centres (tests); otherwise they are drawn at random.
    """
    tf = _tf()
    images = tf.convert_to_tensor(images)
    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    if centres is None:
        cy = tf.random.uniform([n], 0, h, dtype=tf.int32, seed=seed)
        cx = tf.random.uniform([n], 0, w, dtype=tf.int32, seed=None if seed is None else seed + 1)
    else:
        centres = tf.cast(tf.convert_to_tensor(centres), tf.int32)
        cy, cx = centres[:, 0], centres[:, 1]
    half = size // 2
    rows = tf.range(h)[None, :]  # (1, H)
    cols = tf.range(w)[None, :]
    in_rows = (rows >= (cy - half)[:, None]) & (rows < (cy + size - half)[:, None])  # (N, H); clipping is free
    in_cols = (cols >= (cx - half)[:, None]) & (cols < (cx + size - half)[:, None])  # (N, W)
    inside = in_rows[:, :, None] & in_cols[:, None, :]  # (N, H, W)
    mask = tf.cast(tf.logical_not(inside), images.dtype)[..., None]
    return images * mask


def pad_crop_flip(images: Any, pad: int = PAD, offsets: Any = None, flips: Any = None, seed: int | None = None):
    """He et al.: zero-pad ``pad`` pixels, random H×W crop, random horizontal flip — per image, batched.

    ``offsets`` (N, 2) in [0, 2·pad] and ``flips`` (N,) of 0/1 fix the draws (tests).
    """
    tf = _tf()
    images = tf.convert_to_tensor(images)
    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    if offsets is None:
        offsets = tf.random.uniform([n, 2], 0, 2 * pad + 1, dtype=tf.int32, seed=seed)
    offsets = tf.cast(tf.convert_to_tensor(offsets), tf.int32)
    if flips is None:
        flips = tf.random.uniform([n], 0, 2, dtype=tf.int32, seed=None if seed is None else seed + 1)
    flips = tf.cast(tf.convert_to_tensor(flips), tf.bool)
    row_idx = offsets[:, :1] + tf.range(h)[None, :]  # (N, H) rows of the padded image
    col_idx = offsets[:, 1:] + tf.range(w)[None, :]  # (N, W)
    col_idx = tf.where(flips[:, None], tf.reverse(col_idx, axis=[1]), col_idx)  # flip = read columns backwards
    out = tf.gather(padded, row_idx, axis=1, batch_dims=1)  # (N, H, W + 2·pad, C)
    return tf.gather(out, col_idx, axis=2, batch_dims=1)  # (N, H, W, C)


def batch_copies(x: Any, y: Any, m: int):
    """(B, …), (B,) → (M·B, …), (M·B,): copy k of image i at row k·B + i."""
    tf = _tf()
    x = tf.convert_to_tensor(x)
    y = tf.convert_to_tensor(y)
    if m == 1:
        return x, y
    reps = tf.concat([[m], tf.ones([tf.rank(x) - 1], tf.int32)], axis=0)
    return tf.tile(x, reps), tf.tile(y, [m])


def standardise(x: Any, mean: Sequence[float], std: Sequence[float]):
    """uint8 (or float 0..255) pixels → (x/255 − mean)/std per channel, float32."""
    tf = _tf()
    x = tf.cast(x, tf.float32) / 255.0
    return (x - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)


def channel_stats(x: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of uint8 images, on the 0..1 scale."""
    x = np.asarray(x, np.float64) / 255.0
    axes = tuple(range(x.ndim - 1))
    return x.mean(axis=axes).tolist(), np.maximum(x.std(axis=axes), 1e-6).tolist()


def make_map_fn(mean: Sequence[float], std: Sequence[float], *, copies: int = 1, he: bool = True,
                cutout_size: int | None = None) -> Callable:
    """The per-batch pipeline function: standardise, make ``copies`` copies, then on each copy independently
    the He crop-and-flip (``he``) and Cutout (``cutout_size``, None for none)."""
    tf = _tf()

    def fn(x, y):
        x = standardise(x, mean, std)
        x, y = batch_copies(x, y, copies)
        if he:
            x = pad_crop_flip(x)
        if cutout_size:
            x = cutout(x, cutout_size)
        return x, tf.cast(y, tf.int64)

    return fn
