"""fit-line: fit y = w·x + b with each optimizer and learning rate, full batch, through the engine.

The reports' first experiment. Default data: 100 points, x uniform on [0, 10], y = 2x + 1 + N(0, 1). On this
data the loss' Hessian has eigenvalues ≈ 68 and ≈ 0.5, so plain GD is stable only for η < 2/68 ≈ 0.03: GD at
0.3 diverges (as in the reports), 0.01 converges in 1,000 iterations and 0.001/0.0001 are slow.

The target of the fit is the least-squares optimum (w*, b*) of the points (numpy's lstsq), not the generating
line: with noise they differ (seed 0: w* = 1.9869, b* = 0.9925 against 2 and 1), and no optimizer can do better
than w*, b*. A run is *converged* when its final loss is within 1 % of the optimal loss **and** both parameters
are within ``param_tolerance`` (0.01) of w*, b* — the loss alone is flat along b (the Hessian's small
eigenvalue), so a run 0.07 off in b can sit within 1 % of the optimal loss. *slow* otherwise, *diverged* if the
loss became non-finite or exploded.

Presets: ``report000`` (default) is report 000's grid; ``report001-gd``, ``-momentum``, ``-adam`` and
``-compare`` are report 001's sweeps of exercise 1 (GD learning rates on both sides of 0.05; momentum 0.2 …
0.8 × learning rates; Adam learning rates up to 0.5; GD 0.01 vs momentum 0.01 (μ 0.8) vs Adam 0.05). Neither
report gives its points, so the data are this tool's choice (above); report 001 puts GD's divergence threshold
at 0.05, on these points it is 2/λmax ≈ 0.029.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dltool.errors import UsageError
from dltool.experiments.config import ExperimentConfig

DEFAULT_GRID: list[tuple[str, float, float | None]] = (
    [("gd", lr, None) for lr in (0.01, 0.001, 0.0001, 0.3)]
    + [(name, 0.01, None) for name in ("adam", "adagrad", "adadelta", "rmsprop", "ftrl")]
)
MOMENTUM_VALUES = (0.2, 0.4, 0.6, 0.8)
MOMENTUM_LRS = (0.01, 0.001)

# Report 001, exercise 1: the learning rates are read off its figure legends where it names them, else chosen
# to straddle the thresholds its text gives (GD: 0.05; Adam: "above 0.05 … fastest at 0.5").
PRESETS: dict[str, list[tuple[str, float, float | None]]] = {
    "report001-gd": [("gd", lr, None) for lr in (0.001, 0.005, 0.01, 0.02, 0.04, 0.05, 0.1, 0.5)],
    "report001-momentum": [("momentum", lr, m) for m in MOMENTUM_VALUES for lr in (0.001, 0.005, 0.01)],
    "report001-adam": [("adam", lr, None) for lr in (0.001, 0.01, 0.05, 0.1, 0.5)],
    "report001-compare": [("gd", 0.01, None), ("momentum", 0.01, 0.8), ("adam", 0.05, None)],
}
PRESET_NAMES = ("report000", *PRESETS)


@dataclass
class FitLineConfig(ExperimentConfig):
    SUMMARY = ("x", "y", "lstsq_w", "lstsq_b", "optimal_loss")
    # --quick: 400 iterations and momentum 0.4, 0.8 at lr 0.01 only (11 runs, half the default's time): GD 0.3 diverges,
    # RMSProp and momentum 0.8 converge, GD 0.01 and momentum 0.4 are still slow
    QUICK = dict(iterations=400, momentums=[0.4, 0.8], momentum_lrs=[0.01])

    optimizers: list[str] | None = None  # None: the reports' grid
    lrs: list[float] | None = None  # with optimizers: every optimizer × every lr
    momentums: list[float] | None = field(default_factory=lambda: list(MOMENTUM_VALUES))  # [] skips the study
    momentum_lrs: list[float] | None = field(default_factory=lambda: list(MOMENTUM_LRS))  # of the momentum study
    iterations: int = 1000  # full-batch steps per run
    points: int = 100
    noise: float = 1.0  # standard deviation of the noise added to y
    true_w: float = 2.0
    true_b: float = 1.0
    x_min: float = 0.0
    x_max: float = 10.0
    csv: Path | None = None  # read x,y from here instead of generating
    seed: int = 0
    tolerance: float = 0.01  # "converged": final loss within 1 % of the least-squares optimum …
    param_tolerance: float = 0.01  # … and |w − w*|, |b − b*| both within this
    preset: str = "report000"  # the grid when --optimizers/--lrs are not given
    optimizer_defaults: str = "tf1"  # the reports' code used TensorFlow 1's optimizers

    def grid(self) -> list[tuple[str, float, float | None]]:
        """(optimizer, lr, momentum) of every run, in order."""
        from dltool.engine.optimizers import canonical, check_defaults, check_lr

        check_defaults(self.optimizer_defaults)
        if self.preset not in PRESET_NAMES:
            raise UsageError(f"unknown preset {self.preset!r}", f"choose one of {', '.join(PRESET_NAMES)}")
        if self.preset in PRESETS and self.optimizers is None and self.lrs is None:
            return list(PRESETS[self.preset])
        if self.optimizers is None and self.lrs is None:
            runs = list(DEFAULT_GRID)
        else:
            names = [canonical(n) for n in (self.optimizers or ["gd", "adam", "adagrad", "adadelta", "rmsprop",
                                                                  "ftrl"])]
            runs = [(n, check_lr(lr), None) for n in names for lr in (self.lrs or [0.01])]
        momentums = MOMENTUM_VALUES if self.momentums is None else self.momentums
        for m in momentums:
            if not 0 < m < 1:
                raise UsageError(f"momentum must be in (0, 1), got {m}", "use e.g. --momentums 0.2,0.4,0.6,0.8")
        runs += [("momentum", check_lr(lr), m) for lr in (self.momentum_lrs or MOMENTUM_LRS) for m in momentums]
        return runs

    def validate(self) -> None:
        self.grid()  # names, learning rates, momentums and the preset

    def total_runs(self) -> int:
        return len(self.grid())

    def prepare(self) -> None:
        load_points(self)  # a bad value or a missing --points-csv fails before the run folder; run() reads them


def parse_momentums(text: str | None) -> list[float] | None:
    """--momentums: "0.2,0.4" → [0.2, 0.4]; "" → [] (no momentum study); None (not given) stays None."""
    from dltool.experiments.common import parse_floats

    return [] if text is not None and not text.strip() else parse_floats(text, "--momentums")


@dataclass
class LineRun:
    optimizer: str
    lr: float
    momentum: float | None
    status: str  # converged | slow | diverged
    final_loss: float | None
    w: float | None
    b: float | None
    w_error: float | None  # |w − w*|, w* the least-squares optimum
    b_error: float | None  # |b − b*|
    iterations: int  # steps run before stopping
    seconds: float
    losses: list[float] = field(default_factory=list)  # loss after each iteration (finite part)


@dataclass
class FitLineResult:
    config: FitLineConfig
    x: list[float]
    y: list[float]
    true_w: float | None
    true_b: float | None
    lstsq_w: float
    lstsq_b: float
    optimal_loss: float
    runs: list[LineRun]
    environment: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def load_points(cfg: FitLineConfig) -> tuple[np.ndarray, np.ndarray, float | None, float | None]:
    from dltool.data.synthetic import line_points, read_xy_csv

    if cfg.csv is not None:
        x, y = read_xy_csv(cfg.csv)
        x, y = np.asarray(x, "float32"), np.asarray(y, "float32")
        # one point, or every x the same: the least-squares line (w*, b*) is not determined, and "converged"
        # against numpy's minimum-norm pick would be meaningless
        if np.unique(x).size < 2:
            raise UsageError(f"{cfg.csv}: the points need at least two distinct x values to determine a line "
                             f"(got {x.size} point{'s' if x.size != 1 else ''}, {np.unique(x).size} distinct x)",
                             "add points with different x values to the CSV")
        return x, y, None, None
    if cfg.points < 2:
        raise UsageError(f"--points must be at least 2, got {cfg.points}", "use e.g. --points 100")
    if cfg.noise < 0:
        raise UsageError(f"--noise is a standard deviation and must be ≥ 0, got {cfg.noise}", "use e.g. --noise 1")
    if cfg.x_max <= cfg.x_min:
        raise UsageError(f"x range is empty ({cfg.x_min} to {cfg.x_max})", "give --x-min below --x-max")
    values = {"--noise": cfg.noise, "--true-w": cfg.true_w, "--true-b": cfg.true_b, "--x-min": cfg.x_min,
              "--x-max": cfg.x_max}
    for option, value in values.items():  # nan noise gave noiseless data, inf or nan all-NaN data ("diverged")
        if not np.isfinite(value):
            raise UsageError(f"{option} must be a finite number, got {value}", f"use e.g. {option} 1")
    x, y = line_points(cfg.points, cfg.true_w, cfg.true_b, cfg.noise, cfg.seed, x_range=(cfg.x_min, cfg.x_max))
    x, y = np.asarray(x, "float32"), np.asarray(y, "float32")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise UsageError("the generated points overflow float32", "use smaller --true-w, --true-b, --noise or x range")
    return x, y, cfg.true_w, cfg.true_b


def run(cfg: FitLineConfig, on_run: Callable[[LineRun], None] | None = None, progress: Any = None) -> FitLineResult:
    """Train every (optimizer, lr, momentum) of the grid; ``on_run`` gets each run as soon as it finishes."""
    if cfg.iterations < 1:
        raise UsageError(f"--iterations must be ≥ 1, got {cfg.iterations}", "use e.g. --iterations 1000")
    grid = cfg.grid()
    x, y, true_w, true_b = load_points(cfg)
    design = np.stack([x, np.ones_like(x)], axis=1).astype("float64")
    (lw, lb), *_ = np.linalg.lstsq(design, y.astype("float64"), rcond=None)
    optimal = float(np.mean((design @ np.array([lw, lb]) - y) ** 2))

    import keras

    from dltool.engine.devices import environment, make_strategy
    from dltool.engine.grid import optimizer_grid, setting_label
    from dltool.engine.loop import FitConfig

    strategy, setup = make_strategy("default")

    def model_fn():
        return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="zeros",
                                                                        bias_initializer="zeros")])

    # one engine (one trace) per optimizer; learning rates reuse it
    sweep = optimizer_grid(model_fn, seed=cfg.seed, defaults=cfg.optimizer_defaults, loss="mse", strategy=strategy)
    runs: list[LineRun] = []
    fit_cfg = FitConfig(epochs=0, steps=cfg.iterations, batch_size=len(x), shuffle=False,
                        steps_per_execution=cfg.iterations, evaluate=False, divergence_factor=1e6)
    xs, ys = x.reshape(-1, 1), y.reshape(-1, 1)
    for (name, lr, momentum), engine in sweep.run(grid, label=lambda s: setting_label(*s), progress=progress):
        start = time.perf_counter()
        fit = engine.fit(xs, ys, fit_cfg, hooks=progress)
        seconds = time.perf_counter() - start
        if fit.status == "diverged":
            record = LineRun(name, lr, momentum, "diverged", None, None, None, None, None, fit.steps, seconds,
                             fit.losses)
        else:
            kernel, bias = (v.numpy() for v in engine.model.trainable_variables)
            w, b = float(kernel.reshape(-1)[0]), float(bias.reshape(-1)[0])
            final = float(np.mean((w * x.astype("float64") + b - y) ** 2))
            w_err, b_err = abs(w - float(lw)), abs(b - float(lb))
            close = w_err <= cfg.param_tolerance and b_err <= cfg.param_tolerance
            low = final - optimal <= cfg.tolerance * max(optimal, 1e-6) + 1e-9
            status = "converged" if close and low else "slow"
            record = LineRun(name, lr, momentum, status, final, w, b, w_err, b_err, fit.steps, seconds, fit.losses)
        runs.append(record)
        if progress is not None:
            progress.end_run(record.status)
        if on_run is not None:
            on_run(record)
    return FitLineResult(cfg, x.tolist(), y.tolist(), true_w, true_b, float(lw), float(lb), optimal, runs,
                         environment(setup, precision="fp32"))
