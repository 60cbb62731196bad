"""Tests for dltool.data.augment: Cutout (exactly the clipped square is zero, nothing else changes, centres
uniform over all pixels), He et al.'s pad-crop-flip, and batch augmentation (M·B shapes, copy order, masks
independent between copies). The TensorFlow ops are checked against the NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from dltool.data import augment as A  # noqa: E402


def _expected_box(cy: int, cx: int, size: int = 16, n: int = 32) -> tuple[int, int, int, int]:
    """Written out independently of the module: rows cy−8 … cy+7 and columns cx−8 … cx+7, clipped to 0 … 31."""
    return max(cy - size // 2, 0), min(cy + size // 2, n), max(cx - size // 2, 0), min(cx + size // 2, n)


def _zero_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The bounding rows [y1, y2) and columns [x1, x2) of the True pixels of a 2-D mask."""
    rows, cols = np.where(mask)
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def _centre_from_box(y1: int, y2: int, x1: int, x2: int, size: int = 16) -> tuple[int, int]:
    """The centre that produced a clipped box (unique: y1 > 0 gives cy = y1 + 8, else cy = y2 − 8)."""
    return (y1 + size // 2 if y1 > 0 else y2 - size // 2), (x1 + size // 2 if x1 > 0 else x2 - size // 2)


CENTRES = [(0, 0), (31, 31), (0, 31), (31, 0), (16, 16), (8, 8), (7, 24), (3, 29), (24, 9), (15, 0)]


def test_cutout_zeroes_exactly_the_clipped_square():
    rng = np.random.default_rng(0)
    x = (rng.random((len(CENTRES), 32, 32, 3)) + 0.5).astype("float32")  # no pixel is zero before
    out = A.cutout(x, 16, centres=np.array(CENTRES)).numpy()
    areas = []
    for k, (cy, cx) in enumerate(CENTRES):
        y1, y2, x1, x2 = _expected_box(cy, cx)
        assert A.cutout_box(cy, cx, 32, 32, 16) == (y1, y2, x1, x2)
        inside = np.zeros((32, 32), bool)
        inside[y1:y2, x1:x2] = True
        assert np.all(out[k][inside] == 0.0)  # the clipped square: all channels zero
        assert np.array_equal(out[k][~inside], x[k][~inside])  # everything else unchanged, bit for bit
        areas.append(int(inside.sum()))
    # (0, 0): rows 0–7 × cols 0–7; (31, 31): rows 23–31 × cols 23–31 (9 × 9); (0, 31): 8 × 9; centre: 16 × 16
    assert areas[:5] == [64, 81, 72, 72, 256]
    assert areas[5] == 256 and areas[6] == 15 * 16  # (8, 8) just fits; (7, 24) loses one row


def test_cutout_matches_numpy_reference_and_keeps_dtype():
    rng = np.random.default_rng(1)
    x = rng.integers(1, 256, (12, 32, 32, 3)).astype("uint8")
    centres = rng.integers(0, 32, (12, 2))
    out = A.cutout(x, 16, centres=centres).numpy()
    assert out.dtype == np.uint8
    assert np.array_equal(out, A.cutout_np(x, centres, 16))
    # another size: 8 → at most 64 pixels
    out8 = A.cutout(x, 8, centres=centres).numpy()
    assert np.array_equal(out8, A.cutout_np(x, centres, 8))
    assert max(int((o == 0).all(-1).sum()) for o in out8) <= 64


def test_random_cutout_centre_is_uniform_over_all_pixels():
    tf.random.set_seed(0)
    n = 4096
    out = A.cutout(np.ones((n, 32, 32, 1), "float32"), 16).numpy()[..., 0]
    centres = np.array([_centre_from_box(*_zero_box(o == 0)) for o in out])
    assert centres.min() == 0 and centres.max() == 31  # border centres occur: the patch may cross the border
    assert abs(centres.mean() - 15.5) < 0.6  # uniform on 0..31 has mean 15.5 (σ of the mean ≈ 0.14)
    # Every zero region is a rectangle (count == box area), and full 16×16 squares are as frequent as
    # uniform centres predict: cy, cx ∈ [8, 24] → (17/32)² = 0.282 (RandomErasing, clipped inside, would give 1).
    areas = (out == 0).sum(axis=(1, 2))
    boxes = [_zero_box(o == 0) for o in out]
    assert all(a == (b[1] - b[0]) * (b[3] - b[2]) for a, b in zip(areas, boxes))
    assert abs(np.mean(areas == 256) - (17 / 32) ** 2) < 0.03
    extent = np.array([min(c + 8, 32) - max(c - 8, 0) for c in range(32)])
    assert abs(areas.mean() - extent.mean() ** 2) < 3.0  # E[area] = E[rows]·E[cols] = 13.875² ≈ 192.5


def test_pad_crop_flip_matches_numpy_reference():
    rng = np.random.default_rng(2)
    x = rng.random((9, 32, 32, 3)).astype("float32") + 1.0
    offsets = np.array([[4, 4], [0, 0], [8, 8], [0, 8], [8, 0], [2, 7], [4, 4], [1, 3], [6, 5]])
    flips = np.array([0, 0, 0, 0, 0, 1, 1, 0, 1])
    out = A.pad_crop_flip(x, offsets=offsets, flips=flips).numpy()
    assert np.array_equal(out, A.pad_crop_flip_np(x, offsets, flips))
    assert np.array_equal(out[0], x[0])  # offset (4, 4), no flip: the image itself
    assert np.array_equal(out[6], x[6][:, ::-1])  # offset (4, 4), flip: the mirror image
    assert np.all(out[1][:4] == 0) and np.all(out[1][:, :4] == 0)  # (0, 0): 4 rows/cols of zero padding
    assert np.array_equal(out[1][4:, 4:], x[1][:28, :28])
    assert np.all(out[2][-4:] == 0) and np.array_equal(out[2][:28, :28], x[2][4:, 4:])


def test_random_pad_crop_flip_is_one_of_the_162_crops():
    tf.random.set_seed(3)
    rng = np.random.default_rng(3)
    x = rng.random((16, 32, 32, 3)).astype("float32") + 1.0
    out = A.pad_crop_flip(x).numpy()
    seen = set()
    for k in range(len(x)):
        matches = [(oy, ox, f) for oy in range(9) for ox in range(9) for f in (0, 1)
                   if np.array_equal(out[k], A.pad_crop_flip_np(x[k:k + 1], [[oy, ox]], [f])[0])]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 8  # the draws differ between images


def test_batch_copies_shapes_and_order():
    x = np.arange(8 * 4 * 4 * 3, dtype="float32").reshape(8, 4, 4, 3)
    y = np.arange(8)
    for m in (1, 2, 4, 32):
        xx, yy = A.batch_copies(x, y, m)
        assert xx.shape == (8 * m, 4, 4, 3) and yy.shape == (8 * m,)
        assert np.array_equal(xx.numpy(), A.batch_copies_np(x, y, m)[0])
        assert np.array_equal(yy.numpy(), np.tile(y, m))  # copy k of image i at row k·B + i
        assert np.array_equal(xx.numpy()[8 * (m - 1) + 5], x[5])


@pytest.mark.parametrize("m", [2, 4, 8, 16, 32])
def test_batch_augmentation_map_fn_shapes(m):
    x = tf.constant(np.random.default_rng(m).integers(0, 256, (64, 32, 32, 3)), tf.uint8)
    y = tf.constant(np.arange(64) % 10, tf.int64)
    fn = A.make_map_fn([0.5, 0.5, 0.5], [0.25, 0.25, 0.25], copies=m, he=True, cutout_size=16)
    xx, yy = fn(x, y)
    assert xx.shape == (64 * m, 32, 32, 3) and xx.dtype == tf.float32
    assert yy.shape == (64 * m,) and np.array_equal(yy.numpy(), np.tile(np.arange(64) % 10, m))


def test_copies_get_independent_masks():
    """B = 64 images × M = 8 copies, cutout only: each copy has its own mask. A box fixes its centre, so two
    independent copies share a mask with probability 1/1024: ≈ 1.75 of the 1,792 copy pairs."""
    tf.random.set_seed(4)
    b, m = 64, 8
    x = tf.fill([b, 32, 32, 3], tf.constant(255, tf.uint8))
    fn = A.make_map_fn([0.0] * 3, [1.0] * 3, copies=m, he=False, cutout_size=16)  # standardised pixels = 1.0
    xx, _ = fn(x, tf.zeros([b], tf.int64))
    masks = (xx.numpy() == 0).all(-1).reshape(m, b, 32, 32)  # [copy, image]
    assert np.all(xx.numpy()[~(xx.numpy() == 0)] == 1.0)  # nothing but the squares changed
    centres = np.array([[_centre_from_box(*_zero_box(masks[k, i])) for i in range(b)] for k in range(m)])
    same = sum(np.array_equal(masks[k, i], masks[j, i]) for i in range(b) for k in range(m) for j in range(k))
    assert same <= 8
    same_across_images = sum(np.array_equal(masks[0, i], masks[0, j]) for i in range(b) for j in range(i))
    assert same_across_images <= 10  # 2,016 pairs, ≈ 2 expected
    r = np.corrcoef(centres[0, :, 0], centres[1, :, 0])[0, 1]
    assert abs(r) < 0.45  # independent copies: correlation ≈ 0 (σ ≈ 0.125 for 64 pairs)


def test_standardise_and_channel_stats():
    x = np.zeros((2, 2, 2, 3), np.uint8)
    x[0] = [0, 51, 255]
    x[1] = [255, 153, 255]
    mean, std = A.channel_stats(x)
    assert np.allclose(mean, [0.5, 0.4, 1.0]) and np.allclose(std[:2], [0.5, 0.2])
    assert std[2] == pytest.approx(1e-6)  # a constant channel: floored, no division by zero
    fn = A.make_map_fn(mean, std, copies=1, he=False, cutout_size=None)
    out, labels = fn(tf.constant(x), tf.constant([3, 4]))
    assert np.allclose(out.numpy()[0, 0, 0, :2], [-1.0, -1.0]) and np.allclose(out.numpy()[1, 0, 0, :2], [1, 1])
    assert labels.dtype == tf.int64
