"""Optimizers by name, learning-rate schedules, and the one Keras lacks: RMSProp with Nesterov momentum.

Names: gd, momentum, nesterov, adagrad, adadelta, rmsprop, rmsprop-nesterov, adam, ftrl.
Learning rates are floats: Keras rejects an int (``learning_rate=3`` raises ValueError), so we cast.
Keras ``Adadelta`` defaults to lr 0.001 whereas Zeiler's original uses 1.0; we pass the user's lr as is.

Two sets of defaults (``defaults=``): ``keras`` (Keras 3's own) and ``tf1`` (TensorFlow 1's ``tf.train``
optimizers, which the 2016–2019 course code of reports 000–002 used). They differ only in constants, and those
constants move results at the reports' settings (1,000 steps of softmax regression):

=========  ==========================  ==========================================================
optimizer  keras                       tf1 (``tf.compat.v1.train``)
=========  ==========================  ==========================================================
adam       ε 1e-7                      ε 1e-8
adadelta   ε 1e-7                      ε 1e-8
rmsprop    ε 1e-7, r₀ = 0              ε 1e-10, r₀ = 1 (the mean-square slot starts at ones)
adagrad    ε 1e-7 added to √r          no ε (r₀ = 0.1 keeps √r > 0); then equal to FTRL, as the reports saw
=========  ==========================  ==========================================================

GD, momentum, Nesterov and FTRL have the same defaults in both.

Update equations (g: gradient, η: learning rate), shown by ``--help`` of the commands that use them:
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dltool.errors import UsageError


@dataclass(frozen=True)
class OptimizerInfo:
    name: str
    title: str
    equations: str
    defaults: str


OPTIMIZERS: dict[str, OptimizerInfo] = {
    "gd": OptimizerInfo("gd", "Gradient descent", "θ ← θ − η·g", "η"),
    "momentum": OptimizerInfo("momentum", "Momentum", "v ← μ·v − η·g;  θ ← θ + v", "η, μ=--momentum (0.9)"),
    "nesterov": OptimizerInfo("nesterov", "Nesterov momentum", "v ← μ·v − η·g;  θ ← θ + μ·v − η·g",
                              "η, μ=--momentum (0.9)"),
    "adagrad": OptimizerInfo("adagrad", "AdaGrad", "r ← r + g²;  θ ← θ − η·g/(√r + ε)",
                             "η, r₀=0.1, ε=1e-7"),
    "adadelta": OptimizerInfo("adadelta", "AdaDelta",
                              "r ← ρr + (1−ρ)g²;  Δ ← −√(s+ε)/√(r+ε)·g;  s ← ρs + (1−ρ)Δ²;  θ ← θ + η·Δ",
                              "η (Zeiler: 1.0), ρ=0.95, ε=1e-7"),
    "rmsprop": OptimizerInfo("rmsprop", "RMSProp", "r ← ρr + (1−ρ)g²;  θ ← θ − η·g/√(r + ε)",
                             "η, ρ=0.9, ε=1e-7"),
    "rmsprop-nesterov": OptimizerInfo(
        "rmsprop-nesterov", "RMSProp + Nesterov",
        "r ← ρr + (1−ρ)g²;  v ← μv + η·g/√(r+ε);  θ ← θ − (μv + η·g/√(r+ε))",
        "η, ρ=0.9, μ=--momentum (0.9), ε=1e-7"),
    "adam": OptimizerInfo("adam", "Adam",
                          "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η·m̂/(√v̂ + ε)",
                          "η, β₁=0.9, β₂=0.999, ε=1e-7"),
    "ftrl": OptimizerInfo("ftrl", "FTRL-Proximal",
                          "n ← n + g²;  σ = (√n − √n_prev)/η;  z ← z + g − σθ;  θ = −z/(√n/η) (λ=0)",
                          "η, n₀=0.1, λ₁=λ₂=0"),
}

ALIASES = {"sgd": "gd", "adadelta": "adadelta", "rmsprop_nesterov": "rmsprop-nesterov", "nag": "nesterov",
           "rmspropnesterov": "rmsprop-nesterov"}

SCHEDULES = ("constant", "inverse-time", "one-cycle")
SCHEDULE_ALIASES = {"onecycle": "one-cycle"}
DEFAULTS = ("keras", "tf1")

# TensorFlow 1 constants (tf.compat.v1.train.*Optimizer defaults) that differ from Keras 3's.
TF1_DEFAULTS: dict[str, dict] = {
    "adam": {"epsilon": 1e-8},
    "adadelta": {"epsilon": 1e-8},
    "rmsprop": {"epsilon": 1e-10},
    "adagrad": {"epsilon": 0.0},
}


def check_defaults(defaults: str) -> str:
    key = defaults.strip().lower()
    if key not in DEFAULTS:
        raise UsageError(f"unknown optimizer defaults {defaults!r}", "use --optimizer-defaults tf1 or keras")
    return key

__doc__ += "\n".join(f"- {i.name}: {i.equations}" for i in OPTIMIZERS.values())


def canonical(name: str) -> str:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in OPTIMIZERS:
        import difflib

        close = difflib.get_close_matches(key, list(OPTIMIZERS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(f"unknown optimizer {name!r}", f"{hint}choose from {', '.join(OPTIMIZERS)}")
    return key


def check_lr(lr: float) -> float:
    lr = float(lr)
    if not math.isfinite(lr) or lr <= 0:
        raise UsageError(f"learning rate must be a positive number, got {lr}", "use e.g. --lrs 0.01,0.1")
    return lr


def schedule(lr: float, kind: str = "constant", decay: float = 0.1, decay_steps: int = 1, *,
             total_steps: int | None = None, warmup: float = 0.2):
    """Constant η; inverse time η₀/(1 + δ·k/decay_steps) (k counts steps; decay_steps=steps per epoch makes k
    count epochs); or one-cycle: η rises linearly from 0 to the peak ``lr`` over ``warmup``·``total_steps``
    steps, then falls linearly to 0 at ``total_steps`` (the fast99 recipe's, experiments/mnist/cnn.py)."""
    import keras

    lr = check_lr(lr)
    kind = SCHEDULE_ALIASES.get(kind, kind)
    if kind == "constant":
        return lr
    if kind == "inverse-time":
        return keras.optimizers.schedules.InverseTimeDecay(lr, decay_steps=decay_steps, decay_rate=decay)
    if kind == "one-cycle":
        if total_steps is None:
            raise ValueError("the one-cycle schedule needs total_steps")
        return one_cycle_class()(lr, total_steps, warmup)
    raise UsageError(f"unknown schedule {kind!r}", f"choose one of {', '.join(SCHEDULES)}")


_ONE_CYCLE = None


def one_cycle_class():
    """The one-cycle Keras schedule class (made once: Keras is imported only when a schedule is built)."""
    global _ONE_CYCLE
    if _ONE_CYCLE is None:
        import keras
        import tensorflow as tf

        class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
            """Linear warm-up from 0 to ``peak`` over ``warmup``·total steps, then linear decay to 0."""

            def __init__(self, peak, total, warmup):
                self.peak, self.total, self.warmup = float(peak), max(int(total), 2), float(warmup)

            def __call__(self, step):
                s = tf.cast(step, tf.float32)
                w = max(self.warmup * self.total, 1.0)
                up = self.peak * (s + 1.0) / w
                down = self.peak * (self.total - s) / max(self.total - w, 1.0)
                return tf.clip_by_value(tf.minimum(up, down), 0.0, self.peak)

            def get_config(self):
                return {"peak": self.peak, "total": self.total, "warmup": self.warmup}

        _ONE_CYCLE = OneCycle
    return _ONE_CYCLE


def _rmsprop_nesterov_class():
    import keras
    from keras import ops

    class RMSPropNesterov(keras.optimizers.Optimizer):
        """RMSProp with Nesterov momentum (Hinton's lecture 6e; Goodfellow et al., Algorithm 8.6).

        Written in the "look-ahead" form that Keras uses for SGD with Nesterov (the stored parameters are the
        look-ahead point), so the gradient at the current variables suffices:
            r ← ρ·r + (1−ρ)·g²
            v ← μ·v + η·g/√(r+ε)
            θ ← θ − (μ·v + η·g/√(r+ε))
        """

        def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.9, epsilon=1e-7, name="rmsprop_nesterov",
                     **kwargs):
            super().__init__(learning_rate=learning_rate, name=name, **kwargs)
            self.rho = rho
            self.momentum = momentum
            self.epsilon = epsilon

        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            self._velocities = self.add_optimizer_variables(var_list, "velocity")
            self._momentums = self.add_optimizer_variables(var_list, "momentum")

        def update_step(self, gradient, variable, learning_rate):
            lr = ops.cast(learning_rate, variable.dtype)
            gradient = ops.cast(gradient, variable.dtype)
            index = self._get_variable_index(variable)
            velocity, momentum = self._velocities[index], self._momentums[index]
            self.assign(velocity, ops.add(ops.multiply(self.rho, velocity),
                                          ops.multiply(1 - self.rho, ops.square(gradient))))
            increment = ops.divide(ops.multiply(lr, gradient), ops.sqrt(ops.add(velocity, self.epsilon)))
            self.assign(momentum, ops.add(ops.multiply(self.momentum, momentum), increment))
            self.assign_sub(variable, ops.add(ops.multiply(self.momentum, momentum), increment))

        def get_config(self):
            config = super().get_config()
            config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon)
            return config

    return RMSPropNesterov


_RMSPROP_NESTEROV = None
_RMSPROP_TF1 = None


def _rmsprop_tf1_class():
    import keras

    class RMSPropTF1(keras.optimizers.RMSprop):
        """RMSProp as ``tf.compat.v1.train.RMSPropOptimizer``: the mean-square slot starts at ones, not zeros,
        so the first steps are ≈ η·g (plain GD) instead of ≈ η·g/√(0.1·g²) = 3.2·η·sign(g)."""

        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            for v in self._velocities:
                if v is not None:
                    v.assign(keras.ops.ones_like(v))

    return RMSPropTF1


def rmsprop_tf1_class():
    global _RMSPROP_TF1
    if _RMSPROP_TF1 is None:
        _RMSPROP_TF1 = _rmsprop_tf1_class()
    return _RMSPROP_TF1


def rmsprop_tf1(**kwargs):
    return rmsprop_tf1_class()(**kwargs)


def rmsprop_nesterov(**kwargs):
    global _RMSPROP_NESTEROV
    if _RMSPROP_NESTEROV is None:
        _RMSPROP_NESTEROV = _rmsprop_nesterov_class()
    return _RMSPROP_NESTEROV(**kwargs)


def make_optimizer(name: str, lr: float | object, momentum: float = 0.9, defaults: str = "keras", **kwargs):
    """A fresh Keras optimizer by registry name. ``lr`` is a float or a Keras schedule; ``defaults`` picks
    Keras 3's constants or TensorFlow 1's (see the module doc); explicit ``kwargs`` win over both."""
    import keras

    key = canonical(name)
    tf1 = check_defaults(defaults) == "tf1"
    if tf1:
        kwargs = {**TF1_DEFAULTS.get(key, {}), **kwargs}
    if isinstance(lr, (int, float)):
        lr = check_lr(lr)
    if key in ("momentum", "nesterov", "rmsprop-nesterov") and not 0 <= momentum < 1:
        raise UsageError(f"momentum must be in [0, 1), got {momentum}", "use e.g. --momentum 0.9")
    opt = keras.optimizers
    if key == "gd":
        return opt.SGD(learning_rate=lr, **kwargs)
    if key == "momentum":
        return opt.SGD(learning_rate=lr, momentum=momentum, **kwargs)
    if key == "nesterov":
        return opt.SGD(learning_rate=lr, momentum=momentum, nesterov=True, **kwargs)
    if key == "adagrad":
        return opt.Adagrad(learning_rate=lr, **kwargs)
    if key == "adadelta":
        return opt.Adadelta(learning_rate=lr, **kwargs)
    if key == "rmsprop":
        return (rmsprop_tf1 if tf1 else opt.RMSprop)(learning_rate=lr, **kwargs)
    if key == "rmsprop-nesterov":
        return rmsprop_nesterov(learning_rate=lr, momentum=momentum, **kwargs)
    if key == "adam":
        return opt.Adam(learning_rate=lr, **kwargs)
    if key == "ftrl":
        return opt.Ftrl(learning_rate=lr, **kwargs)
    raise AssertionError(key)
