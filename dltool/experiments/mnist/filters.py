"""The filters study: a small CNN with F filters per convolution, its learning rate and its width.

Network (the report's): conv 3×3×F ('same', ReLU) → 2×2 max-pool → conv 3×3×F → 2×2 max-pool → dense 128
(ReLU) → dense 10; plain gradient descent, batch 50, 10 epochs. Parameters, counted by hand:
    conv1 (3·3·1 + 1)·F + conv2 (3·3·F + 1)·F + dense (7·7·F)·128 + 128 + output 128·10 + 10
    = 9F² + 6,283F + 1,418
which gives 52,258 · 104,250 · 211,690 · 440,394 · 953,098 · 2,199,690 for F = 8, 16, 32, 64, 128, 256 (Keras
agrees; the tests check both). Two sweeps: learning rate 0.1 / 0.01 / 0.001 / 0.0001 at F = 16 (the report's
network for that section) with validation curves (5,000 images held out of the training set, leaving the
report's 55,000 = 1,100 batches of 50), and F = 8 … 256 at lr 0.1 → parameters, runtime, accuracy. The run
F = 16, lr 0.1 belongs to both sweeps and is trained once.

References (report 002): parameters for every F, its validation accuracy and test error for F = 8 … 64, and its
runtimes — CPU for F = 8 … 64 and GPU for F = 8 … 256, on hardware it does not name. Its runtimes are shown as
its own numbers, never divided into ours (a GPU time is not a CPU time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dltool.errors import UsageError
from dltool.experiments.mnist import common

FILTERS = (8, 16, 32, 64, 128, 256)
LRS = (0.1, 0.01, 0.001, 0.0001)


def parameter_count(filters: int, input_channels: int = 1, image: int = 28, dense: int = 128,
                    classes: int = 10) -> int:
    """Parameters of the filters CNN, by hand (see the module docstring)."""
    f = int(filters)
    side = image // 4  # two 2×2 pools
    return ((9 * input_channels + 1) * f + (9 * f + 1) * f + side * side * f * dense + dense + dense * classes
            + classes)


@dataclass
class FiltersConfig(common.MnistConfig):
    # --quick: F = 8, 16 and lr 0.1, 0.01 (at F = 8) for one epoch on 3,000 images
    QUICK = dict(filters=[8, 16], lrs=[0.1, 0.01], lr_filters=8, epochs=1, validation=500, subset=3_000,
                 test_subset=1_000)

    filters: list[int] = field(default_factory=lambda: list(FILTERS))  # F sweep ([] skips it)
    lrs: list[float] = field(default_factory=lambda: list(LRS))  # lr sweep at lr_filters ([] skips it)
    lr_filters: int = 16  # F of the lr sweep (the report's 16 filters)
    lr: float = 0.1  # lr of the F sweep
    optimizer: str = "gd"
    batch_size: int = 50
    epochs: int = 10
    steps: int | None = None  # cap on steps per run
    validation: int = 5000  # images held out of the training set for the validation curves
    precision: str = "fp32"
    dataset: str = "mnist"
    data_dir: Path | None = None
    subset: int | None = None
    test_subset: int | None = None
    seed: int = 0

    def total_runs(self) -> int:
        return len(self.grid())

    def grid(self) -> list[tuple[int, float, str]]:
        """(F, lr, sweeps) of every run; the shared run is trained once."""
        runs: dict[tuple[int, float], list[str]] = {}
        for lr in self.lrs:
            runs.setdefault((self.lr_filters, lr), []).append("lr")
        for f in self.filters:
            runs.setdefault((f, self.lr), []).append("filters")
        return [(f, lr, "+".join(parts)) for (f, lr), parts in runs.items()]

    def validate(self) -> None:
        from dltool.engine.optimizers import canonical, check_lr

        if not self.filters and not self.lrs:
            raise UsageError("both sweeps are empty", "give --filters or --lrs")
        for f in [*self.filters, self.lr_filters]:
            if f < 1:
                raise UsageError(f"filter counts must be ≥ 1, got {f}", "use e.g. --filters 8,16,32")
        for lr in [*self.lrs, self.lr]:
            check_lr(lr)
        canonical(self.optimizer)
        if self.batch_size < 1 or self.epochs < 1:
            raise UsageError("--batch-size and --epochs must be ≥ 1", "use e.g. --batch-size 50 --epochs 10")
        if self.validation < 1:
            raise UsageError(f"--validation must be ≥ 1 image, got {self.validation}", "use e.g. --validation 5000")
        common.dataset_name(self.dataset)


@dataclass
class FiltersRun:
    sweeps: str  # "lr", "filters" or "lr+filters"
    filters: int
    lr: float
    params: int  # Keras' count
    params_by_hand: int  # 9F² + 6,283F + 1,418
    reference_params: int | None  # the report's count
    reference_test_error: float | None  # report 002, after 10 epochs at lr 0.1
    reference_val_accuracy: float | None
    reference_cpu_seconds: float | None  # report 002's runtime on its CPU (10 epochs)
    reference_gpu_seconds: float | None  # report 002's runtime on its GPU — not comparable with a CPU time
    reference_source: str | None
    status: str
    steps: int
    val_accuracy: float | None  # after the last epoch
    test_accuracy: float | None
    test_loss: float | None
    train_seconds: float  # compiled steps, tracing and evaluation excluded
    seconds_per_epoch: float | None
    images_per_second: float | None
    mfu: float | None = None  # model FLOPs utilisation of the training steps (engine/loop.py)
    epochs: list[dict] = field(default_factory=list)  # epoch, train loss / accuracy, validation loss / accuracy


def _references(f: int, lr: float, cfg: FiltersConfig) -> dict:
    """Report 002's numbers for this run: accuracy and runtimes only for its setting (MNIST, lr 0.1, 10 epochs,
    batch 50, full data); the parameter count depends on F alone."""
    same = (cfg.dataset == "mnist" and lr == 0.1 and cfg.epochs == 10 and cfg.batch_size == 50
            and cfg.subset is None and cfg.steps is None and cfg.optimizer == "gd")
    ref = {"reference_test_error": common.FILTERS_TEST_ERROR.get(f) if same else None,
           "reference_val_accuracy": common.FILTERS_VAL_ACCURACY.get(f) if same else None,
           "reference_cpu_seconds": common.FILTERS_CPU_SECONDS.get(f) if same else None,
           "reference_gpu_seconds": common.FILTERS_GPU_SECONDS.get(f) if same else None}
    has = any(v is not None for v in ref.values()) or (cfg.dataset == "mnist" and f in common.FILTERS_PARAMS)
    ref["reference_source"] = common.FILTERS_SOURCE if has else None
    return ref


@dataclass
class FiltersResult(common.MnistResult):
    config: FiltersConfig
    data: dict
    runs: list[FiltersRun]
    environment: dict = field(default_factory=dict)


def run(cfg: FiltersConfig, on_run: Callable[[FiltersRun], None] | None = None,
        progress: Any = None) -> FiltersResult:
    cfg.validate()
    data = common.load_arrays(cfg.dataset, cfg.data_dir, subset=cfg.subset, test_subset=cfg.test_subset,
                              validation=cfg.validation, seed=cfg.seed)
    if cfg.batch_size > len(data.x_train):
        raise UsageError(f"batch size {cfg.batch_size} is larger than the {len(data.x_train):,} training images",
                         "lower --batch-size or raise --subset")
    import math

    from dltool import models
    from dltool.engine.devices import environment, make_strategy
    from dltool.engine.grid import EngineSweep
    from dltool.engine.loop import Engine, FitConfig
    from dltool.engine.optimizers import make_optimizer

    strategy, setup = make_strategy("default")
    steps_per_epoch = max(1, len(data.x_train) // cfg.batch_size)
    fit_cfg = FitConfig(epochs=cfg.epochs, steps=cfg.steps, batch_size=cfg.batch_size, seed=cfg.seed,
                        steps_per_execution=max(1, min(steps_per_epoch // 4, 200)))

    def build(setting) -> Engine:
        f, lr, _ = setting
        engine = Engine(lambda: models.filters_cnn(f, data.input_shape, data.num_classes),
                        lambda: make_optimizer(cfg.optimizer, lr), strategy=strategy, precision=cfg.precision)
        common.warm_up(engine, data.x_train, data.y_train, cfg.batch_size)
        return engine

    # one engine per width; learning rates reuse it
    sweep = EngineSweep(build, seed=cfg.seed, key=lambda s: s[0], lr=lambda s: s[1])
    runs: list[FiltersRun] = []
    for (f, lr, sweeps), engine in sweep.run(cfg.grid(), label=lambda s: f"F={s[0]} lr={s[1]:g}", progress=progress):
        fit = engine.fit(data.x_train, data.y_train, fit_cfg, eval_data=(data.x_val, data.y_val), hooks=progress)
        test_loss, test_acc = engine.evaluate(data.x_test, data.y_test)
        last = fit.final_eval or {}
        epochs_run = max(fit.steps / steps_per_epoch, 1e-9)
        record = FiltersRun(
            sweeps=sweeps, filters=f, lr=lr, params=int(engine.model.count_params()),
            params_by_hand=parameter_count(f, data.input_shape[-1], data.input_shape[0], classes=data.num_classes),
            reference_params=common.FILTERS_PARAMS.get(f) if data.input_shape == (28, 28, 1) else None,
            **_references(f, lr, cfg),
            status=fit.status, steps=fit.steps, val_accuracy=last.get("accuracy"), test_accuracy=test_acc,
            test_loss=test_loss if math.isfinite(test_loss) else None, train_seconds=fit.train_seconds,
            seconds_per_epoch=fit.train_seconds / epochs_run if fit.steps else None,
            images_per_second=fit.steps * cfg.batch_size / fit.train_seconds if fit.train_seconds > 0 else None,
            mfu=fit.mfu, epochs=[{"epoch": e.epoch, "train_loss": e.train_loss, "train_accuracy": e.train_accuracy,
                     "val_loss": e.eval_loss, "val_accuracy": e.eval_accuracy, "seconds": e.seconds}
                    for e in fit.epochs])
        common.finished(record, runs, progress, on_run,
                        f"{record.params:,} params, test accuracy {{acc}}, {record.train_seconds:.1f} s")
    return FiltersResult(cfg, data.describe, runs, environment(setup, precision=cfg.precision))
