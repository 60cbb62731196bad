"""The training engine: mirrored = one device, seeds repeat, divergence is caught, targets stop a run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from dltool.engine.loop import Engine, FitConfig, set_seed  # noqa: E402
from dltool.engine.optimizers import make_optimizer  # noqa: E402


def _probe(devices: int) -> dict:
    script = Path(__file__).with_name("mirrored_probe.py")
    done = subprocess.run([sys.executable, str(script), str(devices)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # ≈ 21 s on 2 cores
def test_two_logical_devices_match_one_device_on_the_same_global_batch():
    one, two = _probe(1), _probe(2)
    assert two["replicas"] == 2 and two["virtual"] and "virtual" in two["label"]
    assert one["replicas"] == 1
    assert len(one["losses"]) == len(two["losses"]) == 16
    np.testing.assert_allclose(one["losses"], two["losses"], rtol=1e-4, atol=1e-6)
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert one["eval"]["accuracy"] == pytest.approx(two["eval"]["accuracy"])


def _data(n=512, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10)).astype("float32")
    y = (x[:, 0] - x[:, 2] > 0).astype("int64")
    return x, y


def _mlp():
    return keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dropout(0.2), keras.layers.Dense(2)])


def _train(seed, optimizer="adam", lr=0.01, epochs=2, **kwargs):
    x, y = _data()
    set_seed(seed)
    engine = Engine(_mlp, lambda: make_optimizer(optimizer, lr), **kwargs)
    return engine, engine.fit(x, y, FitConfig(epochs=epochs, batch_size=64, seed=seed), eval_data=(x, y))


def test_same_seed_repeats_exactly_on_cpu():
    _, a = _train(7)
    _, b = _train(7)
    _, c = _train(8)
    assert a.losses == b.losses
    assert a.losses != c.losses


def test_training_learns_and_reports_epochs_and_throughput():
    engine, result = _train(0, epochs=3)
    assert result.status == "finished"
    assert len(result.epochs) == 3 and result.steps == 3 * (512 // 64)
    assert result.epochs[-1].train_loss < result.epochs[0].train_loss
    assert result.evals[-1]["accuracy"] > 0.9
    assert result.throughput.n >= 1 and result.throughput.mean > 0
    assert math.isfinite(result.step_time)


def test_reset_reruns_identically_without_retracing():
    x, y = _data()
    set_seed(1)
    engine = Engine(_mlp, lambda: make_optimizer("rmsprop", 0.01))
    cfg = FitConfig(epochs=1, batch_size=64, shuffle=False)
    first = engine.fit(x, y, cfg)
    function = engine._train_fn
    engine.reset()
    second = engine.fit(x, y, cfg)
    assert engine._train_fn is function
    np.testing.assert_allclose(first.losses, second.losses, rtol=1e-6)


def test_divergence_stops_the_run_without_nan_rows():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, size=(100, 1)).astype("float32")
    y = (3 * x + 1).astype("float32")
    set_seed(0)
    engine = Engine(lambda: keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]),
                    lambda: make_optimizer("gd", 0.5), loss="mse")
    result = engine.fit(x, y, FitConfig(epochs=0, steps=200, batch_size=100, shuffle=False,
                                        steps_per_execution=200, evaluate=False))
    assert result.status == "diverged"
    assert result.steps < 200
    assert all(math.isfinite(v) for v in result.losses)


def test_target_accuracy_stops_early_and_times_it():
    x, y = _data()
    set_seed(0)
    engine = Engine(_mlp, lambda: make_optimizer("adam", 0.01))
    result = engine.fit(x, y, FitConfig(epochs=20, batch_size=64, target_accuracy=0.9), eval_data=(x, y))
    assert result.status == "target reached"
    assert len(result.epochs) < 20
    assert result.time_to_target is not None and result.time_to_target <= result.train_seconds
    assert result.evals[-1]["accuracy"] >= 0.9


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains(precision):
    engine, result = _train(0, precision=precision, epochs=3)
    assert engine.model.layers[0].compute_dtype == ("bfloat16" if precision == "bf16" else "float16")
    assert engine.model.layers[0].kernel.dtype == "float32"  # variables stay fp32
    assert result.evals[-1]["accuracy"] > 0.85


def test_regularisation_losses_are_added():
    x, y = _data()
    set_seed(0)

    def model():
        return keras.Sequential([keras.Input((10,)), keras.layers.Dense(
            2, kernel_regularizer=keras.regularizers.L2(10.0), kernel_initializer="ones")])

    plain = Engine(lambda: keras.Sequential([keras.Input((10,)), keras.layers.Dense(2, kernel_initializer="ones")]),
                   lambda: make_optimizer("gd", 1e-9))
    reg = Engine(model, lambda: make_optimizer("gd", 1e-9))
    cfg = FitConfig(epochs=1, batch_size=512, shuffle=False)
    gap = reg.fit(x, y, cfg).losses[0] - plain.fit(x, y, cfg).losses[0]
    assert gap == pytest.approx(10.0 * 20, rel=1e-4)  # L2 · Σw² over a 10×2 kernel of ones


def test_eval_every_evaluates_at_each_point_even_when_it_does_not_divide_the_epoch():
    x, y = _data()  # 512 examples, batch 64: 8 steps per epoch
    set_seed(0)
    engine = Engine(_mlp, lambda: make_optimizer("adam", 0.01))
    result = engine.fit(x, y, FitConfig(epochs=2, batch_size=64, eval_every=3), eval_data=(x, y))
    # steps 3, 6 | end of epoch 1 (8) | 3, 6 of epoch 2 | end (16)
    assert [e["step"] for e in result.evals] == [3, 6, 8, 11, 14, 16]
