"""cifar-adaptive: the dropout test-time scaling equivalence (classic vs inverted dropout), the config checks,
and a tiny real run on the CIFAR-10 sample."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from dltool import models  # noqa: E402
from dltool.errors import UsageError  # noqa: E402
from dltool.experiments import cifar_adaptive as exp  # noqa: E402

# ------------------------------------------------------------------------------------------ dropout scaling

SIZES = (20, 16, 16, 3)  # a small MLP of the same shape as the study's: input → 2 hidden (ReLU) → logits
KEEPS = [0.8, 0.5, 0.5]  # keep probabilities before each dense layer: input dropout 0.2, hidden dropout 0.5


def _train_classic(x: np.ndarray, y: np.ndarray, steps: int = 60, lr: float = 0.05, seed: int = 0):
    """Train an MLP with *classic* dropout: units kept with probability p, never rescaled during training."""
    rng = np.random.default_rng(seed)
    weights = [tf.Variable(rng.normal(0, np.sqrt(2 / a), (a, b)).astype("float32")) for a, b in
               zip(SIZES[:-1], SIZES[1:])]
    biases = [tf.Variable(np.zeros(b, "float32")) for b in SIZES[1:]]
    first_loss = last_loss = None
    for _ in range(steps):
        masks = [(rng.random((len(x), a)) < p).astype("float32") for a, p in zip(SIZES[:-1], KEEPS)]
        with tf.GradientTape() as tape:
            h = tf.constant(x)
            for i, (w, b, m) in enumerate(zip(weights, biases, masks)):
                h = tf.matmul(h * m, w) + b  # classic: the mask only, no 1/p
                if i < len(weights) - 1:
                    h = tf.nn.relu(h)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h))
        grads = tape.gradient(loss, weights + biases)
        for v, g in zip(weights + biases, grads):
            v.assign_sub(lr * g)
        first_loss = float(loss) if first_loss is None else first_loss
        last_loss = float(loss)
    assert last_loss < first_loss  # it trained
    return [(w.numpy().astype("float64"), b.numpy().astype("float64")) for w, b in zip(weights, biases)]


def _keras_dropout_mlp():
    return models.mlp((SIZES[0],), SIZES[1:-1], SIZES[-1], input_dropout=1 - KEEPS[0], dropout=1 - KEEPS[1])


def test_classic_test_time_scaling_equals_keras_inverted_dropout():
    """The assignment's rule (multiply the weights by p at test time) and Keras' inverted dropout give the same
    test-time outputs: the Keras network with weights p·W *is* the classic network W at test time."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, SIZES[0])).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0).astype("int32")
    classic = _train_classic(x, y)

    model = _keras_dropout_mlp()
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == 3 and sum(isinstance(layer, keras.layers.Dropout) for layer in model.layers) == 3
    for layer, (w, b), p in zip(dense, classic, KEEPS):
        layer.set_weights([(p * w).astype("float32"), b.astype("float32")])  # inverted-dropout weights p·W

    keras_test = np.asarray(model(x, training=False), np.float64)
    classic_test = exp.classic_test_forward(x, classic, KEEPS)  # weights × keep prob at test time
    assert np.allclose(keras_test, classic_test, rtol=1e-5, atol=1e-5)
    # Without the test-time scaling the classic network gives other outputs: the scaling is not a no-op.
    unscaled = exp.classic_test_forward(x, classic, [1.0, 1.0, 1.0])
    assert np.abs(unscaled - classic_test).max() > 0.1
    # And the conversion helper goes back: Keras weights / p are the classic weights.
    back = exp.inverted_to_classic(exp.dense_weights(model), KEEPS)
    assert all(np.allclose(w1, w2, rtol=1e-6, atol=1e-6) for (w1, _), (w2, _) in zip(back, classic))
    check = exp.check_dropout_scaling(model, x, KEEPS)
    assert check["max_abs_diff"] < 1e-5 and check["same_predictions"] == 1.0
    # with labels: accuracies of Keras' model, of the classic rule (equal), and of the assignment's wording read
    # literally (weights × the drop probability: 0.2 instead of 0.8 on the input layer), which is another model
    check = exp.check_dropout_scaling(model, x, KEEPS, y)
    assert check["accuracy_keras"] == check["accuracy_scaled_by_keep_prob"]
    wrong = exp.classic_test_forward(x, classic, [0.2, 0.5, 0.5])
    assert check["accuracy_scaled_by_drop_prob"] == pytest.approx(float(np.mean(wrong.argmax(1) == y)))
    assert check["loss_scaled_by_drop_prob"] != pytest.approx(check["loss_keras"], rel=1e-3)


def test_same_function_under_every_mask_during_training():
    """Classic W under mask m computes exactly what inverted p·W computes under the same mask (m⊙x/p)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, SIZES[0]))
    classic = [(rng.normal(size=(a, b)), rng.normal(size=b)) for a, b in zip(SIZES[:-1], SIZES[1:])]
    inverted = [(p * w, b) for (w, b), p in zip(classic, KEEPS)]
    for _ in range(5):
        masks = [(rng.random((len(x), a)) < p).astype("float64") for a, p in zip(SIZES[:-1], KEEPS)]
        a = exp.classic_train_forward(x, classic, masks)
        b = exp.inverted_train_forward(x, inverted, masks, KEEPS)
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_keras_dropout_is_inverted():
    """Keras' Dropout in training keeps units as x/p (or 0), and its mean over masks is the test-time output."""
    layer = keras.layers.Dropout(0.5, seed=3)
    x = np.full((2000, 10), 3.0, "float32")
    out = np.asarray(layer(x, training=True))
    assert set(np.unique(out).tolist()) == {0.0, 6.0}  # 3 / 0.5
    assert abs((out > 0).mean() - 0.5) < 0.02
    assert np.array_equal(np.asarray(layer(x, training=False)), x)  # nothing scaled at test time

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dropout(0.2), keras.layers.Dense(3)])
    point = np.random.default_rng(2).normal(size=(1, 20)).astype("float32")
    many = np.repeat(point, 20000, axis=0)
    mean_train = np.asarray(model(many, training=True)).mean(axis=0)
    test = np.asarray(model(point, training=False))[0]
    assert np.allclose(mean_train, test, atol=0.03)  # E over masks = test output (σ of the mean ≈ 0.005)


# ------------------------------------------------------------------------------------------ status, timing

def test_a_run_whose_loss_rose_is_not_finished():
    assert exp.run_status("finished", 2.80, 5.19) == "loss rose"
    assert exp.run_status("finished", 2.80, 2.10) == "finished"
    assert exp.run_status("diverged", 2.80, 50.0) == "diverged"  # diverged stays diverged
    assert exp.run_status("finished", None, 5.0) == "finished"


def test_summary_time_ratio_excludes_tracing():
    def run(dropout, seconds, step_time):
        return exp.AdaptiveRun(
            method="adam", part=3 if dropout else 2, dropout=dropout, lr=1e-4, status="finished", epochs_run=2,
            steps=8, initial_loss=2.8, epoch_losses=[2.5, 2.0], final_loss=2.0, best_loss=2.0, best_epoch=2,
            test_accuracy=0.3, test_loss=2.0, test_accuracies=[0.2, 0.3], train_seconds=seconds,
            step_time=step_time, timed_steps=4, tracing_seconds=seconds - 8 * step_time, examples_per_second=None)

    # a short run: 2.0 s of tracing without dropout, 0.9 s with; steps 10 % slower with dropout
    plain, drop = run(False, 2.0 + 8 * 0.05, 0.05), run(True, 0.9 + 8 * 0.055, 0.055)
    (row,) = exp.summary_rows(exp.CifarAdaptiveConfig(methods=["adam"]), [plain, drop])
    assert row.time_ratio == pytest.approx(1.1)  # steps × step time: tracing excluded
    assert row.time_ratio_incl_tracing == pytest.approx(1.34 / 2.4)  # ≈ 0.56: what tracing does to the raw ratio
    assert row.timed_steps == 4 and row.status == row.status_dropout == "finished"


def test_adadelta_loss_jumps_at_the_start_then_falls(cifar_dir):
    """Zeiler's η = 1: AdaDelta's first steps are sign-like steps of ≈ 1.4e-3 per weight; the 8 steps of --quick
    end above the starting loss ("loss rose"), 32 steps on the 2,000-image sample end below it."""
    short = exp.run(exp.CifarAdaptiveConfig(methods=["adadelta"], parts=[2], epochs=2, subset=512,
                                            test_subset=128))
    (r,) = short.runs
    assert r.steps == 8 and r.status == "loss rose"
    assert r.final_loss > r.initial_loss and max(r.epoch_losses) > 1.5 * r.initial_loss
    longer = exp.run(exp.CifarAdaptiveConfig(methods=["adadelta"], parts=[2], epochs=2, test_subset=128))
    (r,) = longer.runs
    assert r.steps == 30 and r.status == "finished"
    assert r.epoch_losses[0] > r.initial_loss > r.epoch_losses[1]  # up in the first epoch, below the start in the 2nd


# ----------------------------------------------------------------------------------------------- config

def test_parse_lrs_and_config_errors():
    assert exp.parse_lrs("adam=1e-4, adagrad=0.02") == {"adam": 1e-4, "adagrad": 0.02}
    assert exp.parse_lrs(None) == {}
    with pytest.raises(UsageError):
        exp.parse_lrs("adam")
    with pytest.raises(UsageError):
        exp.parse_lrs("adam=fast")
    good = exp.CifarAdaptiveConfig(methods=["Adam", "rmsprop_nesterov"], lrs={"ADAM": 3e-4})
    good.validate()
    assert good.methods == ["adam", "rmsprop-nesterov"] and good.lr("adam") == 3e-4
    assert good.lr("rmsprop-nesterov") == exp.DEFAULT_LRS["rmsprop-nesterov"]
    bad = [dict(methods=["gd"]), dict(methods=["adam", "adam"]), dict(lrs={"ftrl": 0.1}), dict(lrs={"adam": -1.0}),
           dict(parts=[4]), dict(parts=[]), dict(dropout=1.0), dict(input_dropout=-0.1), dict(l2=-1.0),
           dict(momentum=1.0), dict(methods=["adamm"])]
    for kwargs in bad:
        with pytest.raises(UsageError):
            exp.CifarAdaptiveConfig(**kwargs).validate()


def test_help_equations_cover_the_five_methods():
    lines = exp.help_equations()
    assert len(lines) == 5
    text = "\n".join(lines)
    for needle in ("AdaGrad (η=0.01): r ← r + g²", "RMSProp (η=0.0001)", "RMSProp + Nesterov", "AdaDelta (η=1)",
                   "Adam (η=0.0001): m ← β₁m", "ρ=0.95"):
        assert needle in text


def test_l2_penalty_at_init_is_a_tenth_of_ln10():
    """The λ rationale: Σw² at the Glorot initialisation ≈ 2,509, so λ = 1e-4 gives ≈ 0.25."""
    keras.utils.set_random_seed(0)
    model = models.mlp((32, 32, 3), exp.HIDDEN, 10, l2=exp.L2)
    penalty = float(sum(float(v) for v in model.losses))
    assert penalty == pytest.approx(0.251, abs=0.005)
    assert model.count_params() == 3072 * 1000 + 1000 + 1000 * 1000 + 1000 + 1000 * 10 + 10 == 4_084_010


# ---------------------------------------------------------------------------------------------- tiny run

def test_tiny_run_on_the_cifar_sample(cifar_dir):
    cfg = exp.CifarAdaptiveConfig(methods=["adam", "adagrad"], epochs=3, subset=384, test_subset=200)
    seen = []
    result = exp.run(cfg, on_run=seen.append)
    assert [(r.part, r.method) for r in result.runs] == [(2, "adam"), (2, "adagrad"), (3, "adam"), (3, "adagrad")]
    assert seen == result.runs
    assert result.parameters == 4_084_010 and result.dataset["train"] == 384 and result.dataset["test"] == 200
    for r in result.runs:
        assert r.status == "finished" and r.epochs_run == 3 and r.steps == 9  # 384 // 128 = 3 steps per epoch
        assert r.timed_steps == 6 and r.initial_loss > r.final_loss  # the first call (3 steps) traces: not timed
        assert r.tracing_seconds == pytest.approx(r.train_seconds - 9 * r.step_time)
        assert len(r.epoch_losses) == 3 and all(np.isfinite(r.epoch_losses))
        assert r.best_loss == min(r.epoch_losses) and r.final_loss == r.epoch_losses[-1]
        assert 0.0 <= r.test_accuracy <= 1.0 and len(r.test_accuracies) == 3
        assert r.train_seconds > 0
        assert r.mfu > 0  # model FLOPs utilisation of the timed steps
    plain = [r for r in result.runs if not r.dropout]
    for r in plain:  # without dropout the loss falls from the first epoch to the last
        assert r.epoch_losses[-1] < r.epoch_losses[0]
    # dropout makes the training loss (of the thinned networks) higher than without, for the same method
    for method in ("adam", "adagrad"):
        with_d = next(r for r in result.runs if r.method == method and r.dropout)
        without = next(r for r in result.runs if r.method == method and not r.dropout)
        assert with_d.final_loss > without.final_loss
    # fp32: Keras' test-time logits of the trained dropout model = the classic rule's, up to float32 rounding
    assert result.dropout_check["max_abs_diff"] < 1e-4 and result.dropout_check["same_predictions"] == 1.0
    rows = {row.method: row for row in result.rows}
    assert set(rows) == {"adam", "adagrad"}
    for row in rows.values():
        assert row.time_ratio_incl_tracing == pytest.approx(row.seconds_dropout / row.seconds)
        plain, drop = (next(r for r in result.runs if r.method == row.method and r.dropout == d) for d in (0, 1))
        assert row.time_ratio == pytest.approx(drop.step_time / plain.step_time)  # same steps: step-time ratio
        assert row.timed_steps == 6 and row.status == row.status_dropout == "finished"
        assert (row.mfu, row.mfu_dropout) == (plain.mfu, drop.mfu)
        assert row.test_accuracy is not None and row.test_accuracy_dropout is not None
