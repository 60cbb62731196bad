"""Softmax regression on MNIST: optimizer × learning rate (the reports' Table 1) and a momentum study.

Setting (the TensorFlow 1 tutorial the report followed): one dense layer 784 → 10 starting from W = 0, b = 0,
cross-entropy, batch 100, TensorFlow 1's optimizer constants, test accuracy on the 10,000 test images. The
default grid is the report's 19 rows.

How long: report 000 does not say. One epoch of TensorFlow 1's MNIST training split (55,000 images; the tutorial's
``read_data_sets`` held 5,000 of the 60,000 out for validation), i.e. 550 steps of 100, reproduces its Table 1:
all 19 rows within ±0.01 (with ``loss="naive"``), against 10 of 19 at the tutorial's 1,000 steps, whose
accuracies sit 0.01–0.03 above the report's. The report itself calls MNIST "50000 samples",
another hint that it trained one pass. So the default is one epoch of the 55,000 (``steps=None``).
Evidence that the report's optimizers were TensorFlow 1's and its weights started at zero: its Adagrad and FTRL
rows are identical (0.9102, 0.8779, 0.908), which holds only for zero initial weights and Adagrad without ε
(TF1); with Keras' ε or Glorot initial weights they differ.

Speed: one :class:`~dltool.engine.loop.Engine` (one trace) per optimizer type; its learning rates reuse it via
``reset()`` + ``set_learning_rate()`` (:func:`dltool.engine.grid.optimizer_grid`). Each setting runs its steps in
one compiled call (per epoch boundary), so Python is off the step path: the 19 rows take ≈ 13 s here after
TensorFlow has started.

Two rows of the report sit at 0.098 (Adam 0.1, RMSProp 0.5): 980/10,000, the share of zeros in the test set,
which is what argmax returns on NaN logits. The report's loss was −Σ y·log(softmax(z)), which becomes NaN once
a probability underflows; ``loss="naive"`` reproduces that, the default (cross-entropy on logits) does not
blow up, so those rows then show what the optimizer really reaches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from dltool.errors import UsageError
from dltool.experiments.mnist import common

REPORT_GRID: list[tuple[str, list[float]]] = [
    ("adagrad", [0.5, 0.01, 0.7]),
    ("adam", [0.01, 0.1]),
    ("gd", [0.5, 0.01, 0.9]),
    ("adadelta", [0.5, 0.01, 0.9, 3.0, 9.0]),
    ("rmsprop", [0.5, 0.01, 0.001]),
    ("ftrl", [0.5, 0.01, 0.7]),
]
MOMENTUMS = (0.2, 0.4, 0.6, 0.8)
MOMENTUM_LRS = (0.01, 0.1)

# Report 001, exercise 2 (same network and data; it names no step count, so the one-epoch default holds):
# (settings, momentum study?, steps multiplier). Its findings: GD best at 0.5, momentum best at lr 0.1 μ 0.8,
# Adam best at 0.001; then the three best "for more epochs": Adam > momentum > GD.
PRESETS: dict[str, tuple[list[tuple[str, float]], bool, int]] = {
    "report001-gd": ([("gd", lr) for lr in (0.001, 0.01, 0.05, 0.1, 0.5)], False, 1),
    "report001-momentum": ([], True, 1),
    "report001-adam": ([("adam", lr) for lr in (0.0001, 0.001, 0.01, 0.1)], False, 1),
    "report001-compare": ([("gd", 0.5), ("adam", 0.001)], False, 5),  # + momentum 0.1, μ 0.8; 5 epochs
}
PRESET_NAMES = ("table1", *PRESETS)
LOSSES = ("stable", "naive")
INITS = {"zeros": "zeros", "glorot": "glorot_uniform"}
CHANCE = 0.15  # test accuracy at or below this is "at chance" (10 classes)


QUICK_SETTINGS = [("gd", 0.5), ("adam", 0.01), ("adam", 0.1), ("rmsprop", 0.5)]  # --quick's grid of Table 1


@dataclass
class SoftmaxConfig(common.MnistConfig):
    # --quick: 200 steps on 10,000 training and 2,000 test images, no momentum study; QUICK_SETTINGS when
    # neither optimizers, lrs nor another preset are given
    QUICK = dict(momentums=[], steps=200, subset=10_000, test_subset=2_000)

    optimizers: list[str] | None = None  # None: the report's grid (19 settings)
    lrs: list[float] | None = None  # with optimizers: every optimizer × every lr
    settings: list[tuple[str, float]] | None = None  # explicit (optimizer, lr) pairs instead of a grid
    momentums: list[float] | None = None  # momentum study (None: 0.2, 0.4, 0.6, 0.8; [] skips it)
    momentum_lrs: list[float] = field(default_factory=lambda: list(MOMENTUM_LRS))  # its learning rates
    steps: int | None = None  # training steps per setting (None: one epoch of the training split, 550)
    batch_size: int = 100
    loss: str = "stable"  # stable: cross-entropy on logits; naive: the report's −Σ y·log softmax
    dataset: str = "mnist"
    data_dir: Path | None = None
    subset: int | None = None  # train on a seeded sample of N images
    test_subset: int | None = None
    target_accuracy: float | None = None  # stop a run when test accuracy reaches it
    eval_every: int | None = None  # steps between test evaluations (with a target; default 100)
    precision: str = "fp32"
    seed: int = 0
    holdout: int = 5000  # training images held out as TF1's read_data_sets did (55,000 left); 0: train on all;
    # not applied with a subset
    preset: str = "table1"  # table1: report 000's Table 1 grid; report001-*: report 001's exercise-2 sweeps
    optimizer_defaults: str = "tf1"  # tf1: TensorFlow 1's optimizer constants, as the report's code had
    init: str = "zeros"  # zeros: the tutorial's W = 0, b = 0; glorot: Keras' default Dense initialiser

    @classmethod
    def quick_preset(cls, quick: bool, given: Mapping[str, Any]) -> dict[str, Any]:
        values = super().quick_preset(quick, given)
        if quick and not {"optimizers", "lrs", "settings"} & given.keys() and given.get("preset", "table1") == "table1":
            values["settings"] = list(QUICK_SETTINGS)
        return values

    def total_runs(self) -> int:
        return len(self.grid())

    def grid(self) -> list[tuple[str, float, float | None]]:
        """(optimizer, lr, momentum) of every run, in order; validates names and values."""
        from dltool.engine.optimizers import canonical, check_lr

        if self.preset not in PRESET_NAMES:
            raise UsageError(f"unknown preset {self.preset!r}", f"choose one of {', '.join(PRESET_NAMES)}")
        if self.preset in PRESETS and self.settings is None and self.optimizers is None and self.lrs is None:
            settings, with_momentum, _ = PRESETS[self.preset]
            runs = [(n, lr, None) for n, lr in settings]
            if self.preset == "report001-compare":
                runs.insert(1, ("momentum", 0.1, 0.8))
            if with_momentum:
                runs += [("momentum", lr, float(m)) for lr in (self.momentum_lrs or MOMENTUM_LRS)
                         for m in (MOMENTUMS if self.momentums is None else self.momentums)]
            return runs
        if self.settings is not None:
            runs = [(canonical(n), check_lr(lr), None) for n, lr in self.settings]
        elif self.optimizers is None and self.lrs is None:
            runs = [(name, lr, None) for name, lrs in REPORT_GRID for lr in lrs]
        else:
            names = [canonical(n) for n in (self.optimizers or [name for name, _ in REPORT_GRID])]
            runs = [(n, check_lr(lr), None) for n in names for lr in (self.lrs or [0.01])]
        momentums = MOMENTUMS if self.momentums is None else self.momentums
        for m in momentums:
            if not 0 < m < 1:
                raise UsageError(f"momentum must be in (0, 1), got {m}", "use e.g. --momentums 0.2,0.4,0.6,0.8")
        runs += [("momentum", check_lr(lr), float(m)) for lr in (self.momentum_lrs or MOMENTUM_LRS)
                 for m in momentums]
        return runs

    def validate(self) -> None:
        if self.loss not in LOSSES:
            raise UsageError(f"unknown loss {self.loss!r}", "use --loss stable or --loss naive")
        if (self.steps is not None and self.steps < 1) or self.batch_size < 1 or self.holdout < 0:
            raise UsageError("--steps and --batch-size must be ≥ 1", "use e.g. --steps 1000 --batch-size 100")
        common.check_target(self.target_accuracy)
        common.check_positive(self.eval_every, "--eval-every", "100")
        common.dataset_name(self.dataset)
        from dltool.engine.optimizers import check_defaults

        check_defaults(self.optimizer_defaults)
        if self.init not in INITS:
            raise UsageError(f"unknown initialiser {self.init!r}", "use --init zeros or --init glorot")
        self.grid()


@dataclass
class SoftmaxRun:
    optimizer: str
    lr: float
    momentum: float | None
    status: str  # finished | diverged | target reached
    outcome: str  # ok | diverged | at chance
    test_accuracy: float | None
    test_loss: float | None
    reference: float | None  # the report's test accuracy
    reference_source: str | None  # where it comes from (report, table)
    final_loss: float | None  # mean training loss over the last 50 steps
    steps: int
    train_seconds: float  # compiled training calls only
    seconds: float  # this setting end to end (engine build or reset, data pipeline, training, test)
    time_to_target: float | None
    mfu: float | None = None  # model FLOPs utilisation of the training steps (engine/loop.py)
    curve_steps: list[int] = field(default_factory=list)  # thinned training loss curve
    curve_loss: list[float] = field(default_factory=list)


@dataclass
class SoftmaxResult(common.MnistResult):
    config: SoftmaxConfig
    data: dict
    runs: list[SoftmaxRun]
    wall_seconds: float  # data load to last evaluation (TensorFlow import excluded)
    engines_built: int
    environment: dict = field(default_factory=dict)


def run(cfg: SoftmaxConfig, on_run: Callable[[SoftmaxRun], None] | None = None,
        progress: Any = None) -> SoftmaxResult:
    """Train every setting of the grid; ``on_run`` gets each run as soon as it finishes."""
    cfg.validate()
    grid = cfg.grid()
    start = time.perf_counter()
    data = common.load_arrays(cfg.dataset, cfg.data_dir, subset=cfg.subset, test_subset=cfg.test_subset,
                              validation=cfg.holdout if cfg.subset is None else 0, seed=cfg.seed)
    import dataclasses
    import math

    if cfg.steps is None:  # one epoch of the training split (report001-compare: several)
        epochs = PRESETS[cfg.preset][2] if cfg.preset in PRESETS else 1
        cfg = dataclasses.replace(cfg, steps=epochs * max(1, len(data.x_train) // cfg.batch_size))

    from dltool import models
    from dltool.engine.devices import environment, make_strategy
    from dltool.engine.grid import optimizer_grid, setting_label
    from dltool.engine.loop import FitConfig

    strategy, setup = make_strategy("default")
    loss: Any = "sce" if cfg.loss == "stable" else common.naive_cross_entropy(data.num_classes)
    eval_every = cfg.eval_every or (100 if cfg.target_accuracy is not None else None)
    fit_cfg = FitConfig(epochs=0, steps=cfg.steps, batch_size=cfg.batch_size, seed=cfg.seed,
                        steps_per_execution=eval_every or cfg.steps, evaluate=False,
                        target_accuracy=cfg.target_accuracy, eval_every=eval_every)
    # one engine (one trace) per optimizer and momentum; its learning rates reuse it
    sweep = optimizer_grid(lambda: models.softmax(data.input_shape, data.num_classes, INITS[cfg.init]),
                           seed=cfg.seed, defaults=cfg.optimizer_defaults, loss=loss, classification=True,
                           strategy=strategy, precision=cfg.precision)
    runs: list[SoftmaxRun] = []
    t0 = time.perf_counter()
    for (name, lr, momentum), engine in sweep.run(grid, label=lambda s: setting_label(*s), progress=progress):
        fit = engine.fit(data.x_train, data.y_train, fit_cfg,
                         eval_data=(data.x_test, data.y_test) if eval_every else None, hooks=progress)
        test_loss, test_acc = engine.evaluate(data.x_test, data.y_test)
        test_loss = test_loss if math.isfinite(test_loss) else None
        tail = [v for v in fit.losses[-50:] if math.isfinite(v)]
        if fit.status == "diverged":
            outcome = "diverged"
        elif test_acc is not None and test_acc <= CHANCE:
            outcome = "at chance"
        else:
            outcome = "ok"
        steps, curve = common.thin(fit.losses)
        ref = common.reference(common.SOFTMAX_REFERENCE, (name, lr), cfg.dataset) if momentum is None else None
        record = SoftmaxRun(
            optimizer=name, lr=lr, momentum=momentum, status=fit.status, outcome=outcome,
            test_accuracy=test_acc, test_loss=test_loss,
            reference=ref, reference_source=common.SOFTMAX_SOURCE if ref is not None else None,
            final_loss=sum(tail) / len(tail) if tail else None, steps=fit.steps, train_seconds=fit.train_seconds,
            seconds=time.perf_counter() - t0, time_to_target=fit.time_to_target, mfu=fit.mfu, curve_steps=steps,
            curve_loss=curve)
        common.finished(record, runs, progress, on_run, f"test accuracy {{acc}} ({outcome})")
        t0 = time.perf_counter()
    return SoftmaxResult(cfg, data.describe, runs, time.perf_counter() - start, sweep.built,
                         environment(setup, precision=cfg.precision))
