"""Training images for throughput runs (scale, allreduce): uint8 arrays of a real set, or a synthetic epoch.

Real sets come from :func:`dltool.data.load` as they are stored, uint8 NHWC (the model rescales them, see
:func:`dltool.models.build_uint8`), so the input pipeline moves 1 byte per pixel. ``synthetic``: random uint8
images in the model's own input shape, ``SYNTHETIC_POOL`` distinct ones repeated to an "epoch" of
``SYNTHETIC_EPOCH`` examples (Fashion-MNIST's training set size), so steps per epoch match the real set's.
"""

from __future__ import annotations

from typing import Sequence

SYNTHETIC_EPOCH = 60_000  # examples per "epoch" of synthetic data
SYNTHETIC_POOL = 4096  # distinct synthetic images, repeated


def load_images(dataset: str, seed: int = 0, data_dir: str | None = None,
                synthetic_shape: Sequence[int] = (28, 28, 1)):
    """(x, y, n_train, dataset description): uint8 arrays and int64 labels, or for ``synthetic`` a
    ``tf.data.Dataset`` of (image, label) pairs with ``y`` None."""
    import numpy as np

    if dataset == "synthetic":
        import tensorflow as tf

        from dltool.data.synthetic import synthetic_images

        shape = tuple(synthetic_shape)
        pool = SYNTHETIC_POOL
        x, y = synthetic_images(pool, shape, 10, seed=seed)
        ds = tf.data.Dataset.from_tensor_slices((x, y)).repeat().take(SYNTHETIC_EPOCH)
        return ds, None, SYNTHETIC_EPOCH, {"name": "synthetic", "input_shape": list(shape), "train": SYNTHETIC_EPOCH,
                                           "distinct_images": pool, "num_classes": 10}
    from dltool.data import load

    data = load(dataset, data_dir)
    return data.x_train, np.asarray(data.y_train, "int64"), data.num_train, data.describe()
