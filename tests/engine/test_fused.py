"""Fused optimizer kernels match the Keras optimizers they replace: 100 steps, fp32 tolerance."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from dltool.engine.fused import apply_gradients, fusable, prepare  # noqa: E402
from dltool.engine.optimizers import make_optimizer  # noqa: E402

CASES = [
    ("gd", {}, "keras"),
    ("momentum", {}, "keras"),
    ("nesterov", {}, "keras"),
    ("adam", {}, "keras"),
    ("adam", {}, "tf1"),
    ("adagrad", {}, "tf1"),
    ("adadelta", {"lr": 1.0}, "keras"),  # Zeiler's η: weights move far enough to tell formulas apart
    ("adadelta", {"lr": 1.0}, "tf1"),
    ("rmsprop", {}, "keras"),
    ("rmsprop", {}, "tf1"),
]


def _run(name, defaults, fused, steps=100, lr=0.01):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(7, 5)).astype("float32")
    b0 = rng.normal(size=(5,)).astype("float32")
    targets = [tf.constant(rng.normal(size=(7, 5)).astype("float32") * (1 + i % 3)) for i in range(steps)]
    w, b = keras.Variable(w0), keras.Variable(b0)
    opt = make_optimizer(name, lr, defaults=defaults)
    opt.build([w, b])
    assert fusable(opt)
    prepare(opt, [w, b])

    @tf.function
    def step(t):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(w - t)) + tf.reduce_sum(tf.sin(b) * tf.reduce_sum(t, axis=0))
        grads = tape.gradient(loss, [w, b])
        apply_gradients(opt, grads, [w, b], fused=fused)

    for t in targets:
        step(t)
    return w.numpy(), b.numpy(), int(opt.iterations.numpy()), [v.numpy() for v in opt.variables]


@pytest.mark.parametrize("name,kwargs,defaults", CASES)
def test_fused_matches_keras_over_100_steps(name, kwargs, defaults):
    w_ref, b_ref, it_ref, slots_ref = _run(name, defaults, fused=False, **kwargs)
    w, b, it, slots = _run(name, defaults, fused=True, **kwargs)
    assert it == it_ref == 100
    w_first = _run(name, defaults, fused=False, steps=1, **kwargs)[0]
    assert np.abs(w_ref - w_first).max() > 1e-3  # the updates moved the weights far beyond the tolerance
    # fp32 tolerance after 100 steps: the kernel and Keras round in a different order (≈ 1 ulp a step, which
    # Adam's m/√v can amplify where v is small); a wrong formula misses by orders of magnitude more.
    np.testing.assert_allclose(w, w_ref, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(b, b_ref, rtol=1e-4, atol=2e-5)
    for s, s_ref in zip(slots, slots_ref):
        np.testing.assert_allclose(s, s_ref, rtol=1e-4, atol=2e-5)


def test_not_fusable_falls_back():
    assert not fusable(make_optimizer("adagrad", 0.1))  # Keras' ε sits inside the square root
    assert not fusable(keras.optimizers.RMSprop(0.1, centered=True))
    assert not fusable(make_optimizer("rmsprop-nesterov", 0.1))
    assert not fusable(keras.optimizers.Adam(0.1, amsgrad=True))
    assert not fusable(keras.optimizers.Adam(0.1, clipnorm=1.0))
    assert not fusable(make_optimizer("adam", 0.1), num_replicas=2)


def test_engine_fused_and_keras_updates_train_the_same_model():
    from dltool.engine.loop import Engine, FitConfig, set_seed

    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 10)).astype("float32")
    y = (x[:, 0] - x[:, 2] > 0).astype("int64")

    def model():
        return keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(2)])

    runs = {}
    for fused in (True, False):
        set_seed(3)
        engine = Engine(model, lambda: make_optimizer("adam", 0.01), fused=fused)
        assert engine.fused is fused
        runs[fused] = engine.fit(x, y, FitConfig(epochs=2, batch_size=64, seed=3, evaluate=False))
    np.testing.assert_allclose(runs[True].losses, runs[False].losses, rtol=1e-4, atol=1e-6)
    assert runs[True].losses[-1] < runs[True].losses[0]


def test_engine_reports_mfu_from_counted_flops_and_measured_peak():
    from dltool.engine.loop import Engine, FitConfig, set_seed

    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 10)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    set_seed(0)
    engine = Engine(lambda: keras.Sequential([keras.Input((10,)), keras.layers.Dense(32), keras.layers.Dense(2)]),
                    lambda: make_optimizer("gd", 0.1))
    assert engine.train_flops() == 3 * 2 * (10 * 32 + 32 * 2)  # 3 × forward FLOPs, forward = 2 × MACs
    result = engine.fit(x, y, FitConfig(epochs=2, batch_size=32, evaluate=False))
    assert result.peak_flops and result.peak_flops > 1e9  # a measured matmul, not a data sheet
    expected = result.flops_per_example * 32 / result.step_time / result.peak_flops
    assert result.mfu == pytest.approx(expected)
    assert result.mfu > 0
    assert result.to_dict()["mfu"] == result.mfu


def test_rmsprop_scratch_momentum_is_cleared_by_reset():
    from dltool.engine.loop import Engine

    engine = Engine(lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]),
                    lambda: make_optimizer("rmsprop", 0.1))
    assert engine.fused and len(engine._fused_scratch) == 2  # kernel and bias
    for var in engine._fused_scratch:
        var.assign(tf.fill(var.shape, float("nan")))  # what a diverged run can leave
    engine.reset()
    assert all(np.all(var.numpy() == 0) for var in engine._fused_scratch)
