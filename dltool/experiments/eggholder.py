"""eggholder: depth vs width under a budget of hidden units, regressing the Eggholder function.

Data: f(x1, x2) = −(x2 + 47)·sin√|x1/2 + (x2 + 47)| − x1·sin√|x1 − (x2 + 47)| on [−512, 512]² (global minimum
f(512, 404.2319) = −959.6407), y = f + N(0, σ²) with σ = ``noise_std`` (0.3), 100,000 uniform samples split
80/20. The assignment writes the noise as N(0, 0.3); we read 0.3 as the standard deviation, the argument that
``np.random.normal(0, 0.3)`` and ``tf.random.normal(stddev=0.3)`` take (read as a variance, σ = 0.548; either
way it is a thousandth of f's spread, ≈ 298, and only moves the noise floor).
Inputs are divided by 512 (→ [−1, 1]) and the target is standardised with the training mean and standard
deviation for training; every RMSE reported is in the function's own units (predictions are un-standardised
before the error is taken). Two reference lines: a constant predictor (the training mean) has test RMSE ≈ 298,
the standard deviation of f over the square; no model can beat the noise floor σ on fresh noise.

Networks: hidden widths from {16, 32, 64, 128, 256, 512}, 1, 2 or 3 hidden layers, total hidden units ≤ 512.
Widths are an *ordered* sequence — (16, 256) and (256, 16) are different networks (a bottleneck at the end vs at
the start; 5,201 vs 5,441 parameters) — so the default grid has 6 + 25 + 112 = 143 networks;
``orders="non-increasing"`` keeps one ordering per multiset of widths (wide first): 6 + 15 + 30 = 51. ReLU; batch
normalisation (Dense → BN → ReLU) on the 2- and 3-layer networks; SGD with Nesterov momentum; batch 1,000.

Efficiency: K networks train side by side as ONE Keras model — one shared input, K independent sub-networks, K
outputs concatenated — through the engine with the loss Σₖ (ŷₖ − y)² per example (averaged over the batch: the
sum of the K networks' MSEs). ∂loss/∂θₖ involves only sub-network k's output, so every sub-network gets exactly
the gradient it would get alone; SGD updates each variable from its own gradient, and batch normalisation keeps
per-sub-network statistics. Each network's initial weights are seeded from (seed, widths), so a network's result
does not depend on which bundle it trains in (the tests check bundled == alone to float tolerance). One compiled
step then does the work of K small ones: the per-step costs that dominate tiny networks (dispatch, the input
pipeline's shuffle and batching) are paid once per bundle. Networks are sorted by size before bundling, so a
bundle's networks cost alike.

Time per network: a bundle is timed as a whole, so its seconds ÷ K (``bundle_share_seconds``) is the same
number for every network of the bundle and says nothing about how cost grows with size. By default every
network is therefore also timed on its own (``time_alone`` = 50 steps): it is built alone, traced with one
warm-up call, then run for 50 steps, three times; the fastest of the three bursts gives its own seconds per
step (``own_step_ms``; on a shared CPU other processes only ever add time), and × the run's steps its own
training time (``own_train_seconds``, an extrapolation: tracing and evaluation not included). Measured here in
``--quick``: 0.35 ms/step for a 32-unit 1-layer network, 6.9 ms for 128-128-128.
"""

from __future__ import annotations

import itertools
import math
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dltool.errors import UsageError
from dltool.experiments.config import ExperimentConfig

WIDTHS = (16, 32, 64, 128, 256, 512)
LAYERS = (1, 2, 3)
BUDGET = 512  # total hidden units of a network
ORDERS = ("all", "non-increasing")
# auto bundling: at most 32 networks and 500,000 multiply-adds per example in one compiled model. Measured on
# this 2-core CPU (benchmarks/eggholder_networks_per_hour.py, 16 networks spread over the grid, 20 epochs of
# 16,000 samples): Σ seconds per step 105–134 ms one at a time, 73 ms in bundles of 4, 50–58 ms all 16 in one
# bundle; 32 in one bundle beat two of 16 (141 vs 169 ms). The default grid makes 6 bundles.
AUTO_BUNDLE_COST = 500_000
AUTO_BUNDLE_MAX = 32
INPUT_SCALE = 512.0  # x / 512 maps the domain [−512, 512]² onto [−1, 1]²
SURFACE_GRID = 101  # points per side of the grid on which the best networks' surfaces are drawn

TIME_ALONE_STEPS = 50  # steps of each timed burst of a network alone (after one warm-up call), best of 3 bursts
TIME_ALONE_REPEATS = 3
RECALIBRATION_SAMPLES = 10_000  # training examples whose statistics become the BN layers' inference statistics


@dataclass
class EggholderConfig(ExperimentConfig):
    QUICK = dict(samples=5_000, epochs=40, widths=[32, 128], time_alone=20)  # 14 networks, under a minute
    SUMMARY = ("n_train", "n_test", "y_mean", "y_std", "constant_rmse", "noise_floor", "best", "bundles",
               "total_seconds", "networks_per_hour", "timing_seconds", "run_steps", "time_definitions")

    samples: int = 100_000  # uniform samples on [−512, 512]², split train/test
    test_fraction: float = 0.2
    noise_std: float = 0.3  # standard deviation of the Gaussian noise added to f
    widths: list[int] | None = None  # None: 16, 32, 64, 128, 256, 512
    layers: list[int] | None = None  # None: 1, 2, 3
    budget: int = BUDGET  # total hidden units ≤ budget
    orders: str = "all"  # all orderings of the widths, or only non-increasing ones (one per multiset)
    epochs: int = 2000
    batch_size: int = 1000
    lr: float = 0.01  # SGD learning rate on the standardised target (0.05 diverges for the widest BN networks)
    momentum: float = 0.9  # Nesterov momentum
    bundle: int | None = None  # networks per compiled model; None: auto (by cost), 1: one at a time
    xla: bool = False
    time_alone: int = TIME_ALONE_STEPS  # time each network alone for this many steps (its own cost); 0: off
    bn_recalibrate: bool = True  # after training, set BN moving statistics to the final network's statistics
    max_networks: int | None = None  # keep only the first N networks of the grid (smallest first)
    seed: int = 0

    def validate(self) -> None:
        if self.samples < 10:
            raise UsageError(f"--samples must be at least 10, got {self.samples}", "use e.g. --samples 100000")
        if not 0 < self.test_fraction < 1:
            raise UsageError(f"--test-fraction must be in (0, 1), got {self.test_fraction}",
                             "use e.g. --test-fraction 0.2")
        n_test = int(round(self.samples * self.test_fraction))
        if n_test < 1 or self.samples - n_test < self.batch_size:
            raise UsageError(f"{self.samples - n_test} training samples are fewer than one batch of "
                             f"{self.batch_size}", "raise --samples or lower --batch-size")
        if not (self.noise_std >= 0 and math.isfinite(self.noise_std)):
            raise UsageError(f"--noise-std is a standard deviation and must be ≥ 0, got {self.noise_std}",
                             "use e.g. --noise-std 0.3")
        if self.epochs < 1:
            raise UsageError(f"--epochs must be ≥ 1, got {self.epochs}", "use e.g. --epochs 2000")
        if self.batch_size < 1:
            raise UsageError(f"--batch-size must be ≥ 1, got {self.batch_size}", "use e.g. --batch-size 1000")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise UsageError(f"--lr must be a positive number, got {self.lr}", "use e.g. --lr 0.01")
        if not 0 <= self.momentum < 1:
            raise UsageError(f"--momentum must be in [0, 1), got {self.momentum}", "use e.g. --momentum 0.9")
        if self.bundle is not None and self.bundle < 1:
            raise UsageError(f"--bundle must be ≥ 1 (or auto), got {self.bundle}", "use e.g. --bundle 8")
        if self.time_alone < 0:
            raise UsageError(f"--time-alone must be ≥ 0 steps, got {self.time_alone}", "use e.g. --time-alone 50")
        if self.max_networks is not None and self.max_networks < 1:
            raise UsageError(f"--max-networks must be ≥ 1, got {self.max_networks}", "use e.g. --max-networks 10")
        self.networks()  # the grid (widths, layers, budget, orders), before TensorFlow and the run folder

    def total_runs(self) -> int:
        return len(self.bundles())

    def summary(self, result: Any) -> dict[str, Any]:
        doc = result.to_dict()  # bundles as plain dicts
        return {key: doc[key] for key in self.SUMMARY}

    def networks(self) -> list[tuple[int, ...]]:
        """The grid, validated: width sequences sorted by parameter count (then depth, widths)."""
        nets = enumerate_networks(self.widths or WIDTHS, self.layers or LAYERS, self.budget, self.orders)
        nets.sort(key=lambda w: (parameters(w), len(w), w))
        return nets[: self.max_networks] if self.max_networks else nets

    def bundles(self) -> list[list[tuple[int, ...]]]:
        """The networks grouped into the bundles that train together (one compiled model each)."""
        return plan_bundles(self.networks(), self.bundle)


def parse_bundle(text: str | None) -> int | None:
    """--bundle: 'auto' (or not given) → None, '8' → 8."""
    if text is None or text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--bundle got {text!r}", "give a whole number ≥ 1 or 'auto'") from None


def enumerate_networks(widths, layers, budget: int = BUDGET, orders: str = "all") -> list[tuple[int, ...]]:
    """Every sequence of hidden widths (from ``widths``, one per layer, ``layers`` deep) with sum ≤ ``budget``.

    ``orders="all"``: ordered sequences, (16, 32) and (32, 16) both appear; ``"non-increasing"``: one per
    multiset, widest layer first. Default widths, depths 1–3, budget 512: 143 (all) or 51 (non-increasing).
    """
    if orders not in ORDERS:
        raise UsageError(f"unknown --orders {orders!r}", f"choose one of {', '.join(ORDERS)}")
    widths = sorted(set(int(w) for w in widths))
    layers = sorted(set(int(d) for d in layers))
    if not widths or widths[0] < 1:
        raise UsageError(f"widths must be positive whole numbers, got {widths}", "use e.g. --widths 16,64,256")
    if not layers or layers[0] < 1:
        raise UsageError(f"layers must be ≥ 1, got {layers}", "use e.g. --layers 1,2,3")
    if layers[-1] > 8:
        raise UsageError(f"at most 8 hidden layers, got {layers[-1]}", "use e.g. --layers 1,2,3")
    if budget < 1:
        raise UsageError(f"--budget must be ≥ 1 hidden unit, got {budget}", "use e.g. --budget 512")
    nets: list[tuple[int, ...]] = []
    for depth in layers:
        for combo in itertools.product(widths, repeat=depth):
            if sum(combo) > budget:
                continue
            if orders == "non-increasing" and any(a < b for a, b in zip(combo, combo[1:])):
                continue
            nets.append(tuple(combo))
    if not nets:
        raise UsageError(f"no network with widths {widths} and {layers} hidden layers fits the budget of "
                         f"{budget} hidden units", "raise --budget or choose smaller --widths or fewer --layers")
    return nets


def batch_norm(widths) -> bool:
    """Batch normalisation on networks of 2 or more hidden layers (the assignment's choice)."""
    return len(widths) >= 2


def parameters(widths, inputs: int = 2) -> int:
    """Trainable parameters: dense kernels and biases, BN γ and β (moving mean/variance are not counted)."""
    total, fan_in = 0, inputs
    for w in widths:
        total += fan_in * w + w + (2 * w if batch_norm(widths) else 0)
        fan_in = w
    return total + fan_in + 1


def multiply_adds(widths, inputs: int = 2) -> int:
    """Multiply-adds per example of the forward pass (the cost used to plan bundles)."""
    sizes = [inputs, *widths, 1]
    return sum(a * b for a, b in zip(sizes, sizes[1:]))


def plan_bundles(nets: list[tuple[int, ...]], bundle: int | None) -> list[list[tuple[int, ...]]]:
    """Consecutive groups of ``bundle`` networks; ``None`` (auto): fill each group up to AUTO_BUNDLE_COST
    multiply-adds per example and at most AUTO_BUNDLE_MAX networks (networks arrive sorted by size)."""
    if bundle is not None:
        return [nets[i:i + bundle] for i in range(0, len(nets), bundle)]
    groups: list[list[tuple[int, ...]]] = []
    cost = 0
    for net in nets:
        c = multiply_adds(net)
        if groups and len(groups[-1]) < AUTO_BUNDLE_MAX and cost + c <= AUTO_BUNDLE_COST:
            groups[-1].append(net)
            cost += c
        else:
            groups.append([net])
            cost = c
    return groups


def label(widths) -> str:
    return "-".join(str(w) for w in widths)


def network_seed(seed: int, widths) -> int:
    """Initial weights depend on (seed, widths) only — not on the bundle a network trains in."""
    return zlib.crc32(f"{seed}:{label(widths)}".encode()) & 0x7FFFFFFF


def build_bundle(nets: list[tuple[int, ...]], seed: int, inputs: int = 2):
    """One Keras model with one independent sub-network per entry of ``nets``; output (batch, K)."""
    import keras

    L = keras.layers
    x = keras.Input((inputs,), name="x")
    outputs = []
    for k, widths in enumerate(nets):
        s = network_seed(seed, widths)
        h = x
        for i, w in enumerate(widths):
            h = L.Dense(w, kernel_initializer=keras.initializers.GlorotUniform(seed=s + i),
                        name=f"net{k}_dense{i + 1}")(h)
            if batch_norm(widths):
                h = L.BatchNormalization(name=f"net{k}_bn{i + 1}")(h)
            h = L.Activation("relu", name=f"net{k}_relu{i + 1}")(h)
        outputs.append(L.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=s + len(widths)),
                               name=f"net{k}_out")(h))
    y = outputs[0] if len(outputs) == 1 else L.Concatenate(name="bundle")(outputs)
    return keras.Model(x, y, name=f"bundle{len(nets)}")


def bundle_loss(y, pred):
    """Σₖ (ŷₖ − y)² per example: averaged over the batch by the engine, the sum of the K networks' MSEs."""
    import tensorflow as tf

    y = tf.reshape(tf.cast(y, pred.dtype), [-1, 1])
    return tf.reduce_sum(tf.square(pred - y), axis=-1)


def rmse(pred, y) -> np.ndarray:
    """Root-mean-square error per column of ``pred`` (n, K) against ``y`` (n,), in float64."""
    pred = np.asarray(pred, np.float64).reshape(len(y), -1)
    return np.sqrt(np.mean((pred - np.asarray(y, np.float64)[:, None]) ** 2, axis=0))


@dataclass
class Standardizer:
    """x → x/512; y → (y − mean)/std with the training set's mean and std; predictions are mapped back."""

    y_mean: float
    y_std: float

    @classmethod
    def fit(cls, y_train) -> "Standardizer":
        y = np.asarray(y_train, np.float64)
        return cls(float(y.mean()), float(y.std()) or 1.0)

    def x(self, x) -> np.ndarray:
        return (np.asarray(x, np.float32) / INPUT_SCALE).astype(np.float32)

    def y(self, y) -> np.ndarray:
        return ((np.asarray(y, np.float64) - self.y_mean) / self.y_std).astype(np.float32)

    def unscale(self, pred) -> np.ndarray:
        return np.asarray(pred, np.float64) * self.y_std + self.y_mean


@dataclass
class EggholderData:
    x_train: np.ndarray  # (n, 2), raw coordinates
    y_train: np.ndarray  # (n,), f + noise, the function's units
    x_test: np.ndarray
    y_test: np.ndarray
    scaler: Standardizer

    @property
    def constant_rmse(self) -> float:
        """Test RMSE of the best constant known from training: the training mean."""
        return float(rmse(np.full(len(self.y_test), self.scaler.y_mean), self.y_test)[0])


def make_data(cfg: EggholderConfig) -> EggholderData:
    from dltool.data.synthetic import eggholder_samples

    x, y = eggholder_samples(cfg.samples, cfg.noise_std, cfg.seed)
    n_test = int(round(cfg.samples * cfg.test_fraction))
    order = np.random.default_rng(cfg.seed + 1).permutation(cfg.samples)  # samples are i.i.d.; shuffle anyway
    test, train = order[:n_test], order[n_test:]
    return EggholderData(x[train], y[train], x[test], y[test], Standardizer.fit(y[train]))


@dataclass
class NetworkRun:
    name: str  # widths joined by "-", e.g. "256-128"
    layers: int
    widths: list[int]
    hidden_units: int
    params: int  # trainable parameters
    batch_norm: bool
    train_rmse: float | None  # function units, over the whole training set (inference mode)
    test_rmse: float | None
    bundle_share_seconds: float  # the bundle's training seconds ÷ its size (tracing call included); the
    #                              network's own measured time only when the bundle has one network
    bundle: int  # index of the bundle it trained in
    bundle_size: int
    status: str  # finished | diverged
    own_step_ms: float | None = None  # ms per step of this network trained alone: best of 3 bursts of
    #                                   `own_timed_steps` steps after a warm-up call (measured)
    own_train_seconds: float | None = None  # own_step_ms × the run's steps (extrapolated, tracing excluded)
    own_timed_steps: int | None = None  # steps in each timed burst


@dataclass
class BundleRun:
    index: int
    networks: list[str]
    status: str
    train_seconds: float  # the engine's training time (tracing call included, evaluation excluded)
    wall_seconds: float  # build + trace + train + predictions
    step_time: float  # seconds per step after warmup
    steps: int
    mfu: float | None = None  # the bundle's model FLOPs utilisation (tiny MLPs: far from the matmul peak)


@dataclass
class EggholderResult:
    config: EggholderConfig
    n_train: int
    n_test: int
    y_mean: float
    y_std: float
    constant_rmse: float  # test RMSE of predicting the training mean
    noise_floor: float  # = noise standard deviation: the lowest expected test RMSE
    networks: list[NetworkRun]
    bundles: list[BundleRun]
    best: dict[str, dict]  # depth → {"name", "test_rmse", "train_rmse", "params", "vs_constant"}
    total_seconds: float  # wall seconds of the whole run, timing alone included
    networks_per_hour: float  # networks trained / wall seconds of training (building, tracing and predictions
    #                           included; timing networks alone excluded) × 3600
    environment: dict[str, Any] = field(default_factory=dict)
    surfaces: dict[str, Any] = field(default_factory=dict)  # plots only: grid and the best networks' predictions
    timing_seconds: float = 0.0  # wall seconds spent timing networks alone
    run_steps: int = 0  # training steps of each network (epochs × steps per epoch)
    time_definitions: dict[str, str] = field(default_factory=dict)  # what each time field of a network means

    def to_dict(self) -> dict:
        from dataclasses import asdict

        out = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "surfaces"}
        out["config"] = asdict(self.config)
        out["networks"] = [asdict(n) for n in self.networks]
        out["bundles"] = [asdict(b) for b in self.bundles]
        return out


def _grid():
    side = np.linspace(-INPUT_SCALE, INPUT_SCALE, SURFACE_GRID, dtype=np.float32)
    g1, g2 = np.meshgrid(side, side)
    return side, np.stack([g1.ravel(), g2.ravel()], axis=1)


def recalibrate_batch_norm(model, x) -> int:
    """Set every BN layer's moving mean and variance to the statistics of ``x`` under the final weights.

    Keras keeps exponential moving averages (momentum 0.99) of the batch statistics while the weights change;
    in a short run they lag far behind (a 32-32-32 network after 480 steps: test RMSE 342 with the moving
    averages, 182 after recalibration, on the same weights). One forward pass in training mode with momentum 0
    replaces them with the exact statistics of ``x``, layer after layer (SWA's ``bn_update`` does the same).
    No weight changes. Returns the number of BN layers recalibrated.
    """
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers:
        return 0
    saved = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        model(x, training=True)
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    return len(layers)


def predict(model, x, batch_size: int = 10_000) -> np.ndarray:
    """Inference-mode outputs (n, K), eagerly in chunks (Keras' predict would retrace for every new bundle)."""
    parts = [np.asarray(model(x[i:i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(parts).reshape(len(x), -1)


def train_bundle(nets: list[tuple[int, ...]], data: EggholderData, cfg: EggholderConfig, hooks: Any = None,
                 strategy: Any = None) -> tuple[Any, Any]:
    """Train one bundle through the engine; returns (engine, FitResult)."""
    from dltool.engine.loop import Engine, FitConfig
    from dltool.engine.optimizers import make_optimizer

    engine = Engine(lambda: build_bundle(nets, cfg.seed), lambda: make_optimizer("nesterov", cfg.lr,
                                                                                 momentum=cfg.momentum),
                    loss=bundle_loss, classification=False, strategy=strategy, jit_compile=cfg.xla, seed=cfg.seed)
    x = data.scaler.x(data.x_train)
    y = data.scaler.y(data.y_train).reshape(-1, 1)
    steps_per_epoch = max(1, len(x) // cfg.batch_size)
    fit_cfg = FitConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, shuffle=True, seed=cfg.seed,
                        steps_per_execution=min(steps_per_epoch, 100), evaluate=False, divergence_factor=1e4)
    fit = engine.fit(x, y, fit_cfg, hooks=hooks)
    if cfg.bn_recalibrate and fit.status != "diverged":
        pick = np.random.default_rng(cfg.seed + 2).permutation(len(x))[:RECALIBRATION_SAMPLES]
        recalibrate_batch_norm(engine.model, x[np.sort(pick)])
    return engine, fit


def time_alone(widths, data: EggholderData, cfg: EggholderConfig, strategy: Any = None,
               repeats: int = TIME_ALONE_REPEATS) -> float:
    """Seconds per step of one network trained alone through the engine (its weights are thrown away).

    ``repeats`` fits of 10 + ``cfg.time_alone`` steps in calls of 10; each fit's mean excludes its first call
    (tracing in the first fit, a warm-up call in the others); the minimum over the fits is kept, since on a
    shared CPU other processes only ever add time.
    """
    from dltool.engine.loop import Engine, FitConfig
    from dltool.engine.optimizers import make_optimizer

    engine = Engine(lambda: build_bundle([widths], cfg.seed), lambda: make_optimizer("nesterov", cfg.lr,
                                                                                   momentum=cfg.momentum),
                    loss=bundle_loss, classification=False, strategy=strategy, jit_compile=cfg.xla)
    x = data.scaler.x(data.x_train)
    y = data.scaler.y(data.y_train).reshape(-1, 1)
    fit_cfg = FitConfig(epochs=0, steps=cfg.time_alone + 10, batch_size=cfg.batch_size, steps_per_execution=10,
                        evaluate=False, seed=cfg.seed)
    return min(engine.fit(x, y, fit_cfg).step_time for _ in range(repeats))


def run(cfg: EggholderConfig, on_run: Callable[[NetworkRun], None] | None = None, progress: Any = None,
        data: EggholderData | None = None) -> EggholderResult:
    """Train every network of the grid, bundle by bundle; ``on_run`` gets each network as soon as it is done."""
    cfg.validate()
    bundles = cfg.bundles()
    data = data or make_data(cfg)

    from dltool.engine.devices import environment, make_strategy

    strategy, setup = make_strategy("default")
    side, grid = _grid()
    x_train, x_test, x_grid = (data.scaler.x(a) for a in (data.x_train, data.x_test, grid))
    networks: list[NetworkRun] = []
    bundle_runs: list[BundleRun] = []
    grid_preds: dict[str, np.ndarray] = {}
    run_steps = cfg.epochs * max(1, len(data.y_train) // cfg.batch_size)
    timing_seconds = 0.0
    start_all = time.perf_counter()

    def finish(nets, b_index, engine, fit, wall_start, size):
        diverged = fit.status == "diverged"
        bundle_runs.append(BundleRun(b_index, [label(w) for w in nets], fit.status, fit.train_seconds,
                                     time.perf_counter() - wall_start, fit.step_time, fit.steps, fit.mfu))
        preds = ([data.scaler.unscale(predict(engine.model, a)) for a in (x_train, x_test, x_grid)]
                 if not diverged else [None, None, None])
        done = []
        for k, widths in enumerate(nets):
            tr = te = None
            if not diverged:
                tr = float(rmse(preds[0][:, k], data.y_train)[0])
                te = float(rmse(preds[1][:, k], data.y_test)[0])
                if not (math.isfinite(tr) and math.isfinite(te)):
                    tr = te = None
                else:
                    grid_preds[label(widths)] = preds[2][:, k].astype(np.float32)
            record = NetworkRun(label(widths), len(widths), list(widths), sum(widths), parameters(widths),
                                batch_norm(widths), tr, te, fit.train_seconds / size, b_index, size,
                                "finished" if tr is not None else "diverged")
            done.append(record)
        return done

    for b_index, nets in enumerate(bundles):
        if progress is not None:
            progress.start_run(f"bundle {b_index + 1}/{len(bundles)}: {len(nets)} network"
                               f"{'s' if len(nets) > 1 else ''} ({label(nets[0])} … {label(nets[-1])})"
                               if len(nets) > 1 else f"network {label(nets[0])}")
        wall_start = time.perf_counter()
        engine, fit = train_bundle(nets, data, cfg, hooks=progress, strategy=strategy)
        if fit.status == "diverged" and len(nets) > 1:
            # one diverging network stops its whole bundle: train the members one at a time instead
            records = []
            for widths in nets:
                w_start = time.perf_counter()
                eng1, fit1 = train_bundle([widths], data, cfg, hooks=progress, strategy=strategy)
                records += finish([widths], b_index, eng1, fit1, w_start, 1)
        else:
            records = finish(nets, b_index, engine, fit, wall_start, len(nets))
        if cfg.time_alone > 0:
            t0 = time.perf_counter()
            for record in records:
                if record.status == "finished":
                    step = time_alone(tuple(record.widths), data, cfg, strategy)
                    record.own_step_ms = step * 1e3
                    record.own_train_seconds = step * run_steps
                    record.own_timed_steps = cfg.time_alone
            timing_seconds += time.perf_counter() - t0
        for record in records:
            networks.append(record)
            if on_run is not None:
                on_run(record)
        if progress is not None:
            best = min((r.test_rmse for r in records if r.test_rmse is not None), default=None)
            progress.end_run(f"best test RMSE {best:.1f}" if best is not None else "diverged")
    total = time.perf_counter() - start_all

    best: dict[str, dict] = {}
    constant = data.constant_rmse
    for depth in sorted({r.layers for r in networks}):
        done = [r for r in networks if r.layers == depth and r.test_rmse is not None]
        if done:
            b = min(done, key=lambda r: r.test_rmse)
            best[str(depth)] = {"name": b.name, "widths": b.widths, "params": b.params, "train_rmse": b.train_rmse,
                                "test_rmse": b.test_rmse, "vs_constant": b.test_rmse / constant}
    surfaces = {"axis": side, "truth": _truth(grid).reshape(SURFACE_GRID, SURFACE_GRID),
                "best": {d: grid_preds[b["name"]].reshape(SURFACE_GRID, SURFACE_GRID) for d, b in best.items()}}
    training = total - timing_seconds
    return EggholderResult(cfg, len(data.y_train), len(data.y_test), data.scaler.y_mean, data.scaler.y_std,
                           constant, cfg.noise_std, networks, bundle_runs, best, total,
                           len(networks) / training * 3600 if training > 0 else float("nan"),
                           environment(setup, precision="fp32", jit_compile=cfg.xla), surfaces,
                           timing_seconds=timing_seconds, run_steps=run_steps,
                           time_definitions=time_definitions(cfg, run_steps))


def time_definitions(cfg: EggholderConfig, run_steps: int) -> dict[str, str]:
    """What each per-network time field means, for the JSON document (the table and plots say the same)."""
    out = {"bundle_share_seconds": "the bundle's measured training seconds (first, tracing call included) ÷ the "
                                   "number of networks in it; equal for every network of a bundle, and the "
                                   "network's own time only when it trained alone (bundle of 1)"}
    if cfg.time_alone > 0:
        out["own_step_ms"] = (f"milliseconds per step of the network trained alone: fastest of "
                              f"{TIME_ALONE_REPEATS} bursts of {cfg.time_alone} timed steps, each after a "
                              f"warm-up call (measured)")
        out["own_train_seconds"] = (f"own_step_ms × the run's {run_steps:,} steps: the network's own training "
                                    f"time, extrapolated from {cfg.time_alone} timed steps (tracing and "
                                    f"evaluation not included)")
    return out


def _truth(grid) -> np.ndarray:
    from dltool.data.synthetic import eggholder

    return eggholder(grid[:, 0], grid[:, 1]).astype(np.float32)
