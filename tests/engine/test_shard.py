"""The engine's sharded input (FitConfig.shard): each input pipeline reads only its own indices of the arrays."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from dltool.engine.loop import Engine, FitConfig, set_seed  # noqa: E402
from dltool.engine.optimizers import make_optimizer  # noqa: E402


def _engine():
    return Engine(lambda: keras.Sequential([keras.Input((1,)), keras.layers.Dense(2)]),
                  lambda: make_optimizer("gd", 0.1))


def _values(dist_ds) -> list[float]:
    out = []
    for x, _ in dist_ds:
        out.extend(float(v) for v in np.asarray(x).ravel())
    return out


def test_a_pipeline_reads_its_shard_in_order_without_shuffle():
    x = np.arange(10, dtype="float32").reshape(-1, 1)
    y = np.zeros(10, dtype="int64")
    calls = []

    def shard(i, k):
        calls.append((i, k))
        return np.array([1, 3, 5, 7])

    values = _values(_engine().dataset(x, y, 2, shard=shard, drop_remainder=True))
    assert calls == [(0, 1)]  # one input pipeline on one device
    assert values == [1.0, 3.0, 5.0, 7.0]


def test_a_shuffled_shard_keeps_its_examples():
    x = np.arange(20, dtype="float32").reshape(-1, 1)
    y = np.zeros(20, dtype="int64")
    index = np.arange(0, 20, 2)
    values = _values(_engine().dataset(x, y, 5, shard=lambda i, k: index, shuffle=True, seed=3))
    assert sorted(values) == [float(v) for v in index] and values != sorted(values)


def test_fit_trains_on_the_shard_through_tf_data():
    x = np.ones((16, 1), dtype="float32")
    y = np.array([0] * 8 + [1] * 8, dtype="int64")  # the same input, half labelled 0, half 1
    seen = []

    def shard(i, k):
        seen.append((i, k))
        return np.arange(8)  # the examples labelled 0

    def margin(**fit_kwargs):
        set_seed(0)
        engine = _engine()
        fit = engine.fit(x, y, FitConfig(epochs=1, batch_size=4, input="tfdata", evaluate=False, **fit_kwargs))
        logits = np.asarray(engine.model(x[:1]))
        return fit, float(logits[0, 0] - logits[0, 1])

    fit, sharded = margin(shard=shard)
    _, whole = margin()
    assert seen == [(0, 1)] and fit.steps == 4  # an epoch still counts the whole set: 16 / 4 steps
    assert sharded > whole + 0.5  # only label 0 seen: class 0 pulled well ahead


def test_in_graph_input_refuses_a_partial_shard():
    x = np.zeros((8, 1), dtype="float32")
    y = np.zeros(8, dtype="int64")
    engine = _engine()
    with pytest.raises(ValueError, match="whole set"):
        engine.fit(x, y, FitConfig(epochs=1, batch_size=4, input="graph", shard=lambda i, k: np.arange(4)))
    fit = engine.fit(x, y, FitConfig(epochs=1, batch_size=4, input="graph", shard=lambda i, k: np.arange(8)))
    assert fit.steps == 2
