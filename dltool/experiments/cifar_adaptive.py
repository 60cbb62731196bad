"""cifar-adaptive: adaptive learning-rate methods on a CIFAR-10 MLP, without (part 2) and with dropout (part 3).

The network: 3,072 → 1,000 → 1,000 → 10, ReLU, minibatch 128, L2 weight decay on the two hidden layers'
weights, trained through the engine with AdaGrad, RMSProp, RMSProp + Nesterov momentum, AdaDelta and Adam
(the engine's registry, :data:`dltool.engine.optimizers.OPTIMIZERS`). Part 3 adds dropout 0.2 on the input and
0.5 after each hidden layer. 4,084,010 parameters.

L2 strength λ = 1e-4 (Keras adds λ·Σw² to the loss). Why: at the Glorot-uniform initialisation Σw² over the
two hidden kernels is ≈ 3,072,000·2/4,072 + 1,000,000·2/2,000 ≈ 2,509, so the penalty starts at ≈ 0.25 (0.251
measured) — a tenth of the initial cross-entropy ln 10 ≈ 2.30. Large enough to bound the weights of a
4 M-parameter MLP that can memorise CIFAR-10, small enough not to dominate the data term (λ = 1e-3 would start
at 2.5, above it). The training loss reported (and plotted) is the objective minimised: mean cross-entropy +
the L2 penalty.

Dropout at test time. The assignment's (Hinton et al., 2012; Srivastava et al., 2014) "classic" dropout keeps
each unit with probability p during training *without* rescaling, so at test time every weight leaving a
dropout layer must be multiplied by p: a unit's expected input is then the same as in training. Keras uses
*inverted* dropout: during training the kept units are divided by p, so nothing changes at test time. The two
are the same model: a classic network with weights W and the inverted network with weights p·W compute the same
function under every mask (W·(m⊙x) = (p·W)·(m⊙x/p)) and the same test-time output ((p·W)·x). So the Keras
weights *are* the classic network's test-time-scaled weights; :func:`classic_test_forward` checks it
numerically on the trained model (``dropout_check`` in the result), and the tests show it on a network trained
with classic masks.

The assignment asks for test accuracy with dropout after "scaling the weights by the dropout probability":
the factor is the *keep* probability p (0.8 for the input layer, 0.5 for the hidden ones), not the drop
probability (0.2 would shrink the input layer's weights to a quarter of the right value); and with Keras'
inverted dropout no scaling is needed at all. ``dropout_check`` also measures what the literal reading costs
(``accuracy_scaled_by_drop_prob``).

Learning rates (defaults, ``--lrs method=η`` to change): AdaGrad 0.01; RMSProp 1e-4; RMSProp + Nesterov 1e-4
(μ = 0.9, so its steady step is ≈ 10× larger than RMSProp's at the same η); AdaDelta 1.0 (Zeiler's; Keras'
default of 0.001 barely moves); Adam 1e-4. The adaptive methods divide by √E[g²], so each weight moves ≈ η per
step whatever the gradient's scale: at 1e-3 (Keras' default) the first epoch's loss on the CIFAR sample jumps
to 6.8 for RMSProp and 3.5 for Adam (above ln 10 ≈ 2.3), at 1e-4 it falls steadily (10-epoch trial, bf16).

AdaDelta's start-up. Its step is −η·√(s + ε)/√(r + ε)·g with s (the mean of past squared steps) starting at 0:
after the first gradient r = (1 − ρ)g², so every weight moves by η·√(ε/(1 − ρ)) ≈ 1.4e-3 (ε = 1e-7, ρ = 0.95)
in the direction of −sign(g), however small its gradient — a sign-SGD step. Across the 3,072 inputs of the
first layer that moves each pre-activation by several units, and the training loss jumps (2.80 → 4.86 → 7.31
in the first steps on the 512-image quick set; with Zeiler's ε = 1e-6 the step is 3× larger and the loss reaches
22). It recovers once s has grown: on the 2,000-image sample the first epoch's mean was 3.81, the second 2.10,
the tenth 0.71 — lower than η = 0.1's 0.83. So η = 1 stays the default, and a run that ends with a training
loss above its start (the loss of the first batch, before any update) is marked ``loss rose``, not
``finished``: the 8 steps of ``--quick`` end inside this transient (5.19 after 8 steps).

Time with and without dropout: ``time_ratio`` compares the training time *without* the first compiled call
(tracing), i.e. steps × mean step time, so that in a short run the ≈ 1 s of tracing does not swamp a fraction of
a second of steps (the old ratio of measured seconds read 0.55 beside a step ratio of 1.02). Both runs have the
same steps, so it is the ratio of mean step times; ``timed_steps`` says how many steps it rests on and the table
prints it only from a minimum on (``MIN_TIMED_STEPS`` in the report's view). ``time_ratio_incl_tracing`` keeps
the ratio of measured seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dltool.errors import UsageError
from dltool.experiments.config import ExperimentConfig

METHODS = ("adagrad", "rmsprop", "rmsprop-nesterov", "adadelta", "adam")
DEFAULT_LRS = {"adagrad": 0.01, "rmsprop": 1e-4, "rmsprop-nesterov": 1e-4, "adadelta": 1.0, "adam": 1e-4}
HIDDEN = (1000, 1000)
L2 = 1e-4  # λ: see the module docstring
PARTS = {2: "without dropout", 3: "with dropout"}
STEPS_PER_CALL = 50  # steps per compiled call at most (the first call, which traces, is not timed)


@dataclass
class CifarAdaptiveConfig(ExperimentConfig):
    QUICK = dict(subset=512, test_subset=256, epochs=2)  # CI preset: 10 runs of 8 steps
    SUMMARY = ("dataset", "parameters", "rows", "l2_penalty_at_init", "dropout_check")

    methods: list[str] = field(default_factory=lambda: list(METHODS))
    lrs: dict[str, float] = field(default_factory=dict)  # per-method overrides of DEFAULT_LRS
    parts: list[int] = field(default_factory=lambda: [2, 3])  # 2: without dropout, 3: with dropout
    epochs: int = 200
    batch_size: int = 128
    l2: float = L2
    input_dropout: float = 0.2  # part 3: fraction of input pixels dropped
    dropout: float = 0.5  # part 3: fraction of hidden units dropped
    momentum: float = 0.9  # μ of RMSProp + Nesterov
    subset: int | None = None  # training images (None: all)
    test_subset: int | None = None
    data_dir: Path | None = None
    precision: str = "fp32"
    xla: bool = False
    seed: int = 0

    def lr(self, method: str) -> float:
        return float(self.lrs.get(method, DEFAULT_LRS[method]))

    def total_runs(self) -> int:
        return len(self.methods) * len(self.parts)

    def prepare(self) -> tuple:
        return load_data(self)  # missing data fails before a run folder is made

    def validate(self) -> None:
        from dltool.engine.optimizers import canonical, check_lr

        self.methods = [canonical(m) for m in self.methods]
        for m in self.methods:
            if m not in METHODS:
                raise UsageError(f"--methods: {m!r} is not one of this study's methods",
                                 f"choose from {', '.join(METHODS)}")
        if len(set(self.methods)) != len(self.methods):
            raise UsageError("--methods names a method twice", "give each method once, e.g. adam,adagrad")
        self.lrs = {canonical(k): check_lr(v) for k, v in self.lrs.items()}
        for key in self.lrs:
            if key not in METHODS:
                raise UsageError(f"--lrs: {key!r} is not one of this study's methods",
                                 f"use method=lr with a method from {', '.join(METHODS)}")
        if not self.parts or any(p not in PARTS for p in self.parts):
            raise UsageError(f"--parts must be 2, 3 or 2,3, got {self.parts}", "use e.g. --parts 2,3")
        if self.epochs < 1 or self.batch_size < 1:
            raise UsageError("--epochs and --batch-size must be ≥ 1", "use e.g. --epochs 20 --batch-size 128")
        if not 0 <= self.l2 < 1:
            raise UsageError(f"--l2 must be in [0, 1), got {self.l2}", "use e.g. --l2 1e-4")
        for name, value in (("--input-dropout", self.input_dropout), ("--dropout", self.dropout)):
            if not 0 <= value < 1:
                raise UsageError(f"{name} is a drop fraction in [0, 1), got {value}", f"use e.g. {name} 0.5")
        if not 0 <= self.momentum < 1:
            raise UsageError(f"--momentum must be in [0, 1), got {self.momentum}", "use e.g. --momentum 0.9")


def parse_lrs(text: str | None) -> dict[str, float]:
    """"adam=1e-4,adagrad=0.01" → {"adam": 1e-4, "adagrad": 0.01}."""
    if not text:
        return {}
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"--lrs got {part!r}, not method=lr", "use e.g. --lrs adam=1e-4,adagrad=0.01")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--lrs: {value!r} is not a number", "use e.g. --lrs adam=1e-4") from None
    return out


@dataclass
class AdaptiveRun:
    method: str
    part: int  # 2 without dropout, 3 with dropout
    dropout: bool
    lr: float
    status: str  # finished | loss rose (final epoch's mean above initial_loss) | diverged
    epochs_run: int
    steps: int
    initial_loss: float | None  # training loss of the first batch, before any update
    epoch_losses: list[float]  # mean training loss (cross-entropy + L2) of each epoch
    final_loss: float | None  # last epoch's mean training loss
    best_loss: float | None
    best_epoch: int | None
    test_accuracy: float | None  # after the last epoch
    test_loss: float | None
    test_accuracies: list[float | None]  # after each epoch
    train_seconds: float  # training time, evaluation excluded (first compiled call included)
    step_time: float | None  # mean seconds per step, the first (tracing) call excluded
    timed_steps: int  # steps that step_time rests on (all but the first call's)
    tracing_seconds: float | None  # train_seconds − steps × step_time: what the first call cost beyond its steps
    examples_per_second: float | None
    mfu: float | None = None  # model FLOPs utilisation over the timed steps (engine/loop.py)


@dataclass
class MethodRow:
    method: str
    lr: float
    final_loss: float | None
    best_loss: float | None
    final_loss_dropout: float | None
    best_loss_dropout: float | None
    seconds: float | None  # training seconds, first (tracing) call included
    seconds_dropout: float | None
    time_ratio: float | None  # with / without dropout: steps × mean step time, tracing excluded
    time_ratio_incl_tracing: float | None  # with / without dropout: measured training seconds
    timed_steps: int | None  # the fewer of the two runs' timed steps
    test_accuracy: float | None
    test_accuracy_dropout: float | None  # Keras' inverted dropout: no weights scaled at test time
    status: str | None = None  # part 2's run status
    status_dropout: str | None = None
    mfu: float | None = None  # part 2's run (no dropout)
    mfu_dropout: float | None = None


@dataclass
class CifarAdaptiveResult:
    config: CifarAdaptiveConfig
    dataset: dict[str, Any]
    parameters: int
    l2_penalty_at_init: float
    runs: list[AdaptiveRun]
    rows: list[MethodRow]
    dropout_check: dict[str, Any] | None
    environment: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


# ------------------------------------------------------------------------------------- dropout at test time

def dense_weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """(kernel, bias) of each Dense layer of a Keras model, in order."""
    import keras

    return [(np.asarray(layer.kernel.numpy(), np.float64), np.asarray(layer.bias.numpy(), np.float64))
            for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def inverted_to_classic(weights: list[tuple[np.ndarray, np.ndarray]], keeps: list[float]):
    """Inverted-dropout weights → the classic-dropout weights that compute the same training-time function.

    ``keeps[i]`` is the keep probability of the dropout *before* dense layer i (1.0 for none). The classic
    network sees unscaled masked inputs, so its kernel is W/p; its biases are the same.
    """
    return [(w / p, b) for (w, b), p in zip(weights, keeps)]


def classic_test_forward(x: np.ndarray, classic: list[tuple[np.ndarray, np.ndarray]], keeps: list[float]):
    """Test-time output of a classic-dropout MLP (ReLU hidden layers): each kernel scaled by its keep prob."""
    h = np.asarray(x, np.float64).reshape(len(x), -1)
    for i, ((w, b), p) in enumerate(zip(classic, keeps)):
        h = h @ (p * w) + b
        if i < len(classic) - 1:
            h = np.maximum(h, 0.0)
    return h


def classic_train_forward(x: np.ndarray, classic, masks: list[np.ndarray]):
    """Training-time output of a classic-dropout MLP under given 0/1 masks (no rescaling)."""
    h = np.asarray(x, np.float64).reshape(len(x), -1)
    for i, ((w, b), m) in enumerate(zip(classic, masks)):
        h = (h * m) @ w + b
        if i < len(classic) - 1:
            h = np.maximum(h, 0.0)
    return h


def inverted_train_forward(x: np.ndarray, weights, masks: list[np.ndarray], keeps: list[float]):
    """Training-time output of an inverted-dropout MLP under the same masks (kept units divided by p)."""
    h = np.asarray(x, np.float64).reshape(len(x), -1)
    for i, ((w, b), m, p) in enumerate(zip(weights, masks, keeps)):
        h = (h * m / p) @ w + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return h


def keep_probs(cfg: CifarAdaptiveConfig, dropout: bool) -> list[float]:
    if not dropout:
        return [1.0] * (len(HIDDEN) + 1)
    return [1.0 - cfg.input_dropout] + [1.0 - cfg.dropout] * len(HIDDEN)


# ----------------------------------------------------------------------------------------------- the study

def load_data(cfg: CifarAdaptiveConfig):
    """CIFAR-10 with the training set's per-channel mean and deviation (:func:`dltool.data.load_standardised`)."""
    from dltool.data import load_standardised

    return load_standardised("cifar10", cfg.data_dir, seed=cfg.seed, subset=cfg.subset, test_subset=cfg.test_subset,
                             batch_size=cfg.batch_size)


def run(cfg: CifarAdaptiveConfig, on_run: Callable[[AdaptiveRun], None] | None = None,
        progress: Any = None, data: Any = None) -> CifarAdaptiveResult:
    """Train every (part, method); ``on_run`` gets each run as soon as it finishes. ``data``: the output of
    :func:`load_data` when the caller loaded it already (the CLI does, so missing data fails before a run
    folder is made)."""
    cfg.validate()
    loaded = data or load_data(cfg)
    data = loaded.data
    x_train, x_test = loaded.apply(data.x_train), loaded.apply(data.x_test)

    from dltool import models
    from dltool.engine.devices import environment, make_strategy
    from dltool.engine.grid import EngineSweep
    from dltool.engine.loop import Engine, FitConfig
    from dltool.engine.optimizers import make_optimizer

    strategy, setup = make_strategy("default")
    runs: list[AdaptiveRun] = []
    dropout_check = None
    parameters, penalty = 0, float("nan")
    steps_per_epoch = max(1, len(x_train) // cfg.batch_size)
    chunk = min(steps_per_epoch, STEPS_PER_CALL)
    fit_cfg = FitConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed, divergence_factor=1e3,
                        steps_per_execution=chunk)

    def build(setting) -> Engine:
        part, method = setting
        dropout = part == 3

        def model_fn():
            return models.mlp(data.input_shape, HIDDEN, data.num_classes, l2=cfg.l2,
                              input_dropout=cfg.input_dropout if dropout else 0.0,
                              dropout=cfg.dropout if dropout else 0.0, name="cifar_mlp")

        return Engine(model_fn, lambda: make_optimizer(method, cfg.lr(method), momentum=cfg.momentum),
                      strategy=strategy, precision=cfg.precision, jit_compile=cfg.xla)

    # an engine per (part, method), each built right after the same seed: every method starts from the same weights
    sweep = EngineSweep(build, seed=cfg.seed)
    settings = [(part, method) for part in cfg.parts for method in cfg.methods]
    for (part, method), engine in sweep.run(
            settings, label=lambda s: f"part {s[0]} ({PARTS[s[0]]}): {s[1]} η={cfg.lr(s[1]):g}", progress=progress):
        dropout = part == 3
        if not parameters:
            parameters = engine.model.count_params()
            penalty = float(sum(float(v.numpy()) for v in engine.model.losses))
        fit = engine.fit(x_train, data.y_train, fit_cfg, eval_data=(x_test, data.y_test), hooks=progress)
        losses = [e.train_loss for e in fit.epochs]
        best = int(np.argmin(losses)) if losses else None
        final_eval = fit.final_eval or {}
        initial = float(fit.losses[0]) if fit.losses else None
        step_time = fit.step_time if np.isfinite(fit.step_time) else None
        record = AdaptiveRun(
            method=method, part=part, dropout=dropout, lr=cfg.lr(method),
            status=run_status(fit.status, initial, losses[-1] if losses else None),
            epochs_run=len(fit.epochs), steps=fit.steps, initial_loss=initial, epoch_losses=losses,
            final_loss=losses[-1] if losses else None, best_loss=losses[best] if losses else None,
            best_epoch=best + 1 if best is not None else None,
            test_accuracy=final_eval.get("accuracy"), test_loss=final_eval.get("loss"),
            test_accuracies=[e.eval_accuracy for e in fit.epochs], train_seconds=fit.train_seconds,
            step_time=step_time, timed_steps=max(0, fit.steps - min(chunk, fit.steps)),
            tracing_seconds=fit.train_seconds - fit.steps * step_time if step_time else None,
            examples_per_second=(fit.throughput.mean if fit.throughput and np.isfinite(fit.throughput.mean)
                                 else None), mfu=fit.mfu)
        if dropout and dropout_check is None:
            dropout_check = check_dropout_scaling(engine.model, x_test[:256], keep_probs(cfg, True),
                                                  data.y_test[:256])
            dropout_check.update(method=method, precision=cfg.precision)
        runs.append(record)
        if progress is not None:
            progress.end_run(f"{record.status}, loss {record.final_loss:.4g}, test acc "
                             f"{(record.test_accuracy or 0):.3f}" if record.final_loss is not None
                             else record.status)
        if on_run is not None:
            on_run(record)
    return CifarAdaptiveResult(cfg, data.describe(), parameters, penalty, runs, summary_rows(cfg, runs),
                               dropout_check, environment(setup, precision=cfg.precision, jit_compile=cfg.xla))


def run_status(fit_status: str, initial_loss: float | None, final_loss: float | None) -> str:
    """The engine's status, except that a finished run whose last epoch's mean training loss is above the loss
    it started from (the first batch, before any update) is "loss rose": it did not learn, whatever it did."""
    if fit_status == "finished" and initial_loss is not None and final_loss is not None and final_loss > initial_loss:
        return "loss rose"
    return fit_status


def check_dropout_scaling(model, x: np.ndarray, keeps: list[float], y: np.ndarray | None = None) -> dict[str, Any]:
    """Keras' test-time output of a trained (inverted) dropout model vs the classic network's test-time rule.

    With labels ``y`` it also gives the accuracy of both, and of the assignment's rule read literally: classic
    weights scaled by the *drop* probability 1 − p instead of the keep probability p.
    """
    keras_out = np.asarray(model(x, training=False), np.float64)
    classic = inverted_to_classic(dense_weights(model), keeps)
    classic_out = classic_test_forward(x, classic, keeps)
    diff = np.abs(keras_out - classic_out)
    out = {"images": int(len(x)), "keep_probs": keeps, "max_abs_diff": float(diff.max()),
           "max_abs_logit": float(np.abs(keras_out).max()),
           "same_predictions": float(np.mean(keras_out.argmax(1) == classic_out.argmax(1)))}
    if y is not None:
        y = np.asarray(y).reshape(-1)
        drops = [1.0 - p if p < 1.0 else 1.0 for p in keeps]
        wrong = classic_test_forward(x, classic, drops)
        out.update(accuracy_keras=float(np.mean(keras_out.argmax(1) == y)),
                   accuracy_scaled_by_keep_prob=float(np.mean(classic_out.argmax(1) == y)),
                   accuracy_scaled_by_drop_prob=float(np.mean(wrong.argmax(1) == y)),
                   loss_keras=_cross_entropy(keras_out, y), loss_scaled_by_drop_prob=_cross_entropy(wrong, y))
    return out


def _cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean softmax cross-entropy of ``logits`` (n, k) for integer labels ``y``, in float64."""
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(y)), y]))


def summary_rows(cfg: CifarAdaptiveConfig, runs: list[AdaptiveRun]) -> list[MethodRow]:
    rows = []
    for method in cfg.methods:
        plain = next((r for r in runs if r.method == method and not r.dropout), None)
        drop = next((r for r in runs if r.method == method and r.dropout), None)
        ratio = raw_ratio = timed = None
        if plain and drop and plain.train_seconds > 0:
            raw_ratio = drop.train_seconds / plain.train_seconds
        if plain and drop and plain.step_time and drop.step_time:
            ratio = (drop.steps * drop.step_time) / (plain.steps * plain.step_time)
            timed = min(plain.timed_steps, drop.timed_steps)
        rows.append(MethodRow(
            method=method, lr=cfg.lr(method),
            final_loss=plain.final_loss if plain else None, best_loss=plain.best_loss if plain else None,
            final_loss_dropout=drop.final_loss if drop else None, best_loss_dropout=drop.best_loss if drop else None,
            seconds=plain.train_seconds if plain else None, seconds_dropout=drop.train_seconds if drop else None,
            time_ratio=ratio, time_ratio_incl_tracing=raw_ratio, timed_steps=timed,
            test_accuracy=plain.test_accuracy if plain else None,
            test_accuracy_dropout=drop.test_accuracy if drop else None,
            status=plain.status if plain else None, status_dropout=drop.status if drop else None,
            mfu=plain.mfu if plain else None, mfu_dropout=drop.mfu if drop else None))
    return rows


def help_equations() -> list[str]:
    """The update equations and hyperparameters of the study's methods, for ``--help`` and the README."""
    from dltool.engine.optimizers import OPTIMIZERS

    lines = []
    for m in METHODS:
        info = OPTIMIZERS[m]
        lines.append(f"{info.title} (η={DEFAULT_LRS[m]:g}): {info.equations}  [{info.defaults}]")
    return lines
