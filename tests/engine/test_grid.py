"""Sweeps through the engine: one engine per key, seeded builds, learning rates reuse an engine, quiet retracing."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from dltool.engine.grid import EngineSweep, optimizer_grid, quiet_retracing, setting_label  # noqa: E402
from dltool.engine.loop import Engine, FitConfig, set_seed  # noqa: E402
from dltool.engine.optimizers import make_optimizer  # noqa: E402


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def _mlp():
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])


FIT = FitConfig(epochs=1, batch_size=32, seed=0, evaluate=False)


class Progress:
    def __init__(self):
        self.labels = []

    def start_run(self, label):
        self.labels.append(label)


def test_optimizer_grid_builds_one_engine_per_optimizer_and_momentum():
    x, y = _data()
    grid = [("gd", 0.1, None), ("gd", 0.01, None), ("momentum", 0.1, 0.5), ("momentum", 0.1, 0.9), ("gd", 0.5, None)]
    sweep = optimizer_grid(_mlp, seed=3)
    progress = Progress()
    seen = []
    for setting, engine in sweep.run(grid, label=lambda s: setting_label(*s), progress=progress):
        assert engine.current_learning_rate() == pytest.approx(setting[1])
        seen.append((setting, engine, engine.fit(x, y, FIT).losses))
    assert sweep.built == 3
    assert seen[0][1] is seen[1][1] is seen[4][1] and seen[2][1] is not seen[3][1]
    assert progress.labels == ["gd lr=0.1", "gd lr=0.01", "momentum lr=0.1 μ=0.5", "momentum lr=0.1 μ=0.9",
                               "gd lr=0.5"]
    # a reused engine starts from the initial weights: gd 0.5 on the reused engine = gd 0.5 on a fresh one
    set_seed(3)
    fresh = Engine(_mlp, lambda: make_optimizer("gd", 0.5))
    assert fresh.fit(x, y, FIT).losses == seen[4][2]


def test_every_key_starts_from_the_same_weights():
    sweep = EngineSweep(lambda _: Engine(_mlp, lambda: make_optimizer("adam", 0.01)), seed=5)
    first, second = (engine for _, engine in sweep.run(["a", "b"]))
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    set_seed(6)  # another seed, other weights
    other = Engine(_mlp, lambda: make_optimizer("adam", 0.01))
    assert not np.array_equal(other.model.get_weights()[0], first.model.get_weights()[0])


def test_without_lr_an_engine_is_used_as_built():
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([10], [0.1, 0.01])
    sweep = EngineSweep(lambda _: Engine(_mlp, lambda: make_optimizer("momentum", schedule)), seed=0)
    (_, engine), = sweep.run([1])
    assert engine.current_learning_rate() == pytest.approx(0.1)
    assert isinstance(engine.optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule)


def test_engine_seed_repeats_set_seed():
    set_seed(4)
    a = Engine(_mlp, lambda: make_optimizer("adam", 0.01))
    b = Engine(_mlp, lambda: make_optimizer("adam", 0.01), seed=4)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_quiet_retracing_restores_the_level():
    import tensorflow as tf

    logger = tf.get_logger()
    before = logger.level
    with quiet_retracing():
        assert logger.level == 40  # ERROR
    assert logger.level == before
