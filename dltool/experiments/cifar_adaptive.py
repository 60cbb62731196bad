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

Learning rates (defaults, ``--lrs method=η`` to change): AdaGrad 0.01; RMSProp 1e-4; RMSProp + Nesterov 1e-4
(μ = 0.9, so its steady step is ≈ 10× larger than RMSProp's at the same η); AdaDelta 1.0 (Zeiler's; Keras'
default of 0.001 barely moves); Adam 1e-4. The adaptive methods divide by √E[g²], so each weight moves ≈ η per
step whatever the gradient's scale: at 1e-3 (Keras' default) the first epoch's loss on the CIFAR sample jumps
to 6.8 for RMSProp and 3.5 for Adam (above ln 10 ≈ 2.3), at 1e-4 it falls steadily (10-epoch trial, bf16).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dltool.errors import UsageError

METHODS = ("adagrad", "rmsprop", "rmsprop-nesterov", "adadelta", "adam")
DEFAULT_LRS = {"adagrad": 0.01, "rmsprop": 1e-4, "rmsprop-nesterov": 1e-4, "adadelta": 1.0, "adam": 1e-4}
HIDDEN = (1000, 1000)
L2 = 1e-4  # λ: see the module docstring
PARTS = {2: "without dropout", 3: "with dropout"}


@dataclass
class CifarAdaptiveConfig:
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

    def check(self) -> None:
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
    status: str  # finished | diverged
    epochs_run: int
    steps: int
    epoch_losses: list[float]  # mean training loss (cross-entropy + L2) of each epoch
    final_loss: float | None  # last epoch's mean training loss
    best_loss: float | None
    best_epoch: int | None
    test_accuracy: float | None  # after the last epoch
    test_loss: float | None
    test_accuracies: list[float | None]  # after each epoch
    train_seconds: float  # training time, evaluation excluded (first compiled call included)
    step_time: float | None  # mean seconds per step, warmup excluded
    examples_per_second: float | None


@dataclass
class MethodRow:
    method: str
    lr: float
    final_loss: float | None
    best_loss: float | None
    final_loss_dropout: float | None
    best_loss_dropout: float | None
    seconds: float | None
    seconds_dropout: float | None
    time_ratio: float | None  # with / without dropout, training seconds
    step_ratio: float | None  # with / without dropout, mean step time (warmup excluded)
    test_accuracy: float | None
    test_accuracy_dropout: float | None


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
    """CIFAR-10 as float32, each channel standardised with the training set's mean and deviation."""
    from dltool.data import load
    from dltool.data.augment import channel_stats

    data = load("cifar10", cfg.data_dir, seed=cfg.seed, subset=cfg.subset, test_subset=cfg.test_subset)
    if len(data.x_train) < cfg.batch_size:
        raise UsageError(f"{len(data.x_train)} training images are fewer than one batch of {cfg.batch_size}",
                         "use a larger --subset or a smaller --batch-size")
    mean, std = channel_stats(data.x_train)

    def prep(x):
        return ((x.astype("float32") / 255.0 - np.float32(mean)) / np.float32(std)).astype("float32")

    return data, prep(data.x_train), prep(data.x_test)


def run(cfg: CifarAdaptiveConfig, on_run: Callable[[AdaptiveRun], None] | None = None,
        progress: Any = None, data: tuple | None = None) -> CifarAdaptiveResult:
    """Train every (part, method); ``on_run`` gets each run as soon as it finishes. ``data``: the output of
    :func:`load_data` when the caller loaded it already (the CLI does, so missing data fails before a run
    folder is made)."""
    cfg.check()
    from dltool.engine.loop import quiet_retracing

    with quiet_retracing():
        return _run(cfg, on_run, progress, data or load_data(cfg))


def _run(cfg: CifarAdaptiveConfig, on_run: Callable[[AdaptiveRun], None] | None, progress: Any,
         loaded: tuple) -> CifarAdaptiveResult:
    data, x_train, x_test = loaded

    from dltool import models
    from dltool.engine.devices import environment, make_strategy
    from dltool.engine.loop import Engine, FitConfig, set_seed
    from dltool.engine.optimizers import make_optimizer

    strategy, setup = make_strategy("default")
    runs: list[AdaptiveRun] = []
    dropout_check = None
    parameters, penalty = 0, float("nan")
    fit_cfg = FitConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, seed=cfg.seed, divergence_factor=1e3)
    for part in cfg.parts:
        dropout = part == 3
        for method in cfg.methods:
            set_seed(cfg.seed)  # every method starts from the same weights

            def model_fn(dropout=dropout):
                return models.mlp(data.input_shape, HIDDEN, data.num_classes, l2=cfg.l2,
                                  input_dropout=cfg.input_dropout if dropout else 0.0,
                                  dropout=cfg.dropout if dropout else 0.0, name="cifar_mlp")

            engine = Engine(model_fn, lambda m=method: make_optimizer(m, cfg.lr(m), momentum=cfg.momentum),
                            strategy=strategy, precision=cfg.precision, jit_compile=cfg.xla)
            if not parameters:
                parameters = engine.model.count_params()
                penalty = float(sum(float(v.numpy()) for v in engine.model.losses))
            label = f"part {part} ({PARTS[part]}): {method} η={cfg.lr(method):g}"
            if progress is not None:
                progress.start_run(label)
            fit = engine.fit(x_train, data.y_train, fit_cfg, eval_data=(x_test, data.y_test), hooks=progress)
            losses = [e.train_loss for e in fit.epochs]
            best = int(np.argmin(losses)) if losses else None
            final_eval = fit.final_eval or {}
            record = AdaptiveRun(
                method=method, part=part, dropout=dropout, lr=cfg.lr(method), status=fit.status,
                epochs_run=len(fit.epochs), steps=fit.steps, epoch_losses=losses,
                final_loss=losses[-1] if losses else None, best_loss=losses[best] if losses else None,
                best_epoch=best + 1 if best is not None else None,
                test_accuracy=final_eval.get("accuracy"), test_loss=final_eval.get("loss"),
                test_accuracies=[e.eval_accuracy for e in fit.epochs], train_seconds=fit.train_seconds,
                step_time=fit.step_time if np.isfinite(fit.step_time) else None,
                examples_per_second=(fit.throughput.mean if fit.throughput and np.isfinite(fit.throughput.mean)
                                     else None))
            if dropout and dropout_check is None:
                dropout_check = check_dropout_scaling(engine.model, x_test[:256], keep_probs(cfg, True))
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


def check_dropout_scaling(model, x: np.ndarray, keeps: list[float]) -> dict[str, Any]:
    """Keras' test-time output of a trained (inverted) dropout model vs the classic network's test-time rule."""
    keras_out = np.asarray(model(x, training=False), np.float64)
    classic = inverted_to_classic(dense_weights(model), keeps)
    classic_out = classic_test_forward(x, classic, keeps)
    diff = np.abs(keras_out - classic_out)
    return {"images": int(len(x)), "keep_probs": keeps, "max_abs_diff": float(diff.max()),
            "max_abs_logit": float(np.abs(keras_out).max()),
            "same_predictions": float(np.mean(keras_out.argmax(1) == classic_out.argmax(1)))}


def summary_rows(cfg: CifarAdaptiveConfig, runs: list[AdaptiveRun]) -> list[MethodRow]:
    rows = []
    for method in cfg.methods:
        plain = next((r for r in runs if r.method == method and not r.dropout), None)
        drop = next((r for r in runs if r.method == method and r.dropout), None)
        ratio = step_ratio = None
        if plain and drop and plain.train_seconds > 0:
            ratio = drop.train_seconds / plain.train_seconds
        if plain and drop and plain.step_time and drop.step_time:
            step_ratio = drop.step_time / plain.step_time
        rows.append(MethodRow(
            method=method, lr=cfg.lr(method),
            final_loss=plain.final_loss if plain else None, best_loss=plain.best_loss if plain else None,
            final_loss_dropout=drop.final_loss if drop else None, best_loss_dropout=drop.best_loss if drop else None,
            seconds=plain.train_seconds if plain else None, seconds_dropout=drop.train_seconds if drop else None,
            time_ratio=ratio, step_ratio=step_ratio,
            test_accuracy=plain.test_accuracy if plain else None,
            test_accuracy_dropout=drop.test_accuracy if drop else None))
    return rows


def help_equations() -> list[str]:
    """The update equations and hyperparameters of the study's methods, for ``--help`` and the README."""
    from dltool.engine.optimizers import OPTIMIZERS

    lines = []
    for m in METHODS:
        info = OPTIMIZERS[m]
        lines.append(f"{info.title} (η={DEFAULT_LRS[m]:g}): {info.equations}  [{info.defaults}]")
    return lines
