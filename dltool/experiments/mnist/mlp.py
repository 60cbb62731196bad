"""MLP 784-100-10 on MNIST and its variations: schedules, depth vs width, L1 vs dropout, layer normalisation.

Base (the report's): 784 → 100 (ReLU) → 10, SGD lr 0.1, L2 0.01 on the hidden weights (Keras' L2: λ·Σw²),
batch 100; train and test accuracy per epoch. The studies each change one thing:
- schedule: constant lr (the base) vs diminishing α₀/(1 + δ·k) with δ = 0.1 and k the epoch vs Adagrad 0.01;
- depth vs width at 100 hidden units in all: (100) vs (50, 50) vs (25, 25, 25, 25);
- sparsity: L1 (λ 0.05, λ·Σ|w|) vs dropout 0.2, both instead of L2: accuracy, mean |w| of the first hidden
  layer and the share of its weights below 1e-3 in magnitude;
- norm: layer normalisation after each hidden layer vs none.
The base run belongs to every study and is trained once. A gallery shows test digits the base model classifies
correctly and wrongly. The reports give a range for the base (≈ 0.95–0.97 test accuracy), not a table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from dltool.errors import UsageError
from dltool.experiments.mnist import common

STUDIES = ("schedule", "depth", "sparsity", "norm")
SMALL = 1e-3  # "near zero" threshold for the share of small weights


@dataclass(frozen=True)
class Variant:
    name: str
    hidden: tuple[int, ...] = (100,)
    optimizer: str = "gd"
    lr: float | None = None  # None: the config's lr
    schedule: str = "constant"
    l1: float = 0.0
    l2: float | None = None  # None: the config's l2
    dropout: float = 0.0
    layer_norm: bool = False


@dataclass
class MlpConfig:
    studies: list[str] = field(default_factory=lambda: list(STUDIES))  # the base always runs
    epochs: int = 10
    steps: int | None = None
    batch_size: int = 100
    lr: float = 0.1
    l2: float = 0.01
    decay: float = 0.1  # δ of α₀/(1 + δ·epoch)
    adagrad_lr: float = 0.01
    l1: float = 0.05
    dropout: float = 0.2
    gallery: int = 12  # correct and wrong test digits each in the gallery
    target_accuracy: float | None = None
    eval_every: int | None = None
    precision: str = "fp32"
    dataset: str = "mnist"
    data_dir: Path | None = None
    subset: int | None = None
    test_subset: int | None = None
    seed: int = 0

    def variants(self) -> list[tuple[Variant, list[str]]]:
        """Every distinct run with the studies it belongs to (the base first)."""
        base = Variant("base: (100), SGD, L2")
        plan: dict[str, list[Any]] = {base.name: [base, ["base"]]}

        def add(study: str, variant: Variant) -> None:
            plan.setdefault(variant.name, [variant, []])[1].append(study)

        for study in self.studies:
            if study == "schedule":
                add(study, base)
                add(study, Variant(f"1/(1+{self.decay:g}k) schedule", schedule="inverse-time"))
                add(study, Variant(f"Adagrad {self.adagrad_lr:g}", optimizer="adagrad", lr=self.adagrad_lr))
            elif study == "depth":
                add(study, base)
                add(study, Variant("(50, 50)", hidden=(50, 50)))
                add(study, Variant("(25, 25, 25, 25)", hidden=(25, 25, 25, 25)))
            elif study == "sparsity":
                add(study, base)
                add(study, Variant(f"L1 {self.l1:g}", l1=self.l1, l2=0.0))
                add(study, Variant(f"dropout {self.dropout:g}", dropout=self.dropout, l2=0.0))
            elif study == "norm":
                add(study, base)
                add(study, Variant("layer norm", layer_norm=True))
        return [(v, s) for v, s in plan.values()]

    def validate(self) -> None:
        for study in self.studies:
            if study not in STUDIES:
                raise UsageError(f"unknown study {study!r}", f"choose from {', '.join(STUDIES)}")
        from dltool.engine.optimizers import check_lr

        check_lr(self.lr)
        check_lr(self.adagrad_lr)
        if self.epochs < 1 or self.batch_size < 1:
            raise UsageError("--epochs and --batch-size must be ≥ 1", "use e.g. --epochs 10 --batch-size 100")
        for name, value in (("--l2", self.l2), ("--l1", self.l1), ("--decay", self.decay)):
            if value < 0:
                raise UsageError(f"{name} must be ≥ 0, got {value}", f"use e.g. {name} 0.01")
        if not 0 <= self.dropout < 1:
            raise UsageError(f"--dropout must be in [0, 1), got {self.dropout}", "use e.g. --dropout 0.2")
        if self.gallery < 0:
            raise UsageError("--gallery must be ≥ 0", "use e.g. --gallery 12")
        common.check_target(self.target_accuracy)
        common.dataset_name(self.dataset)


@dataclass
class MlpRun:
    name: str
    studies: list[str]
    hidden: list[int]
    optimizer: str
    lr: float
    schedule: str
    l1: float
    l2: float
    dropout: float
    layer_norm: bool
    params: int
    status: str
    steps: int
    train_accuracy: float | None  # whole training set, after training (no dropout)
    test_accuracy: float | None
    test_loss: float | None
    mean_abs_weight: float  # first hidden layer's kernel
    share_small: float  # share of those weights with |w| < 1e-3
    train_seconds: float
    time_to_target: float | None
    epochs: list[dict] = field(default_factory=list)  # epoch, train loss, running train accuracy, test accuracy


@dataclass
class MlpResult:
    config: MlpConfig
    data: dict
    runs: list[MlpRun]
    gallery: dict = field(default_factory=dict)  # correct / wrong: test index, label, prediction, confidence
    environment: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _gallery(engine, x, y, n: int, class_names: list[str]) -> tuple[dict, Any]:
    import numpy as np

    if n == 0:
        return {}, None
    logits = engine.predict(x)
    z = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    pred = probs.argmax(axis=1)
    right = np.flatnonzero(pred == y)[:n]
    wrong = np.flatnonzero(pred != y)[:n]

    def items(idx):
        return [{"index": int(i), "label": int(y[i]), "prediction": int(pred[i]),
                 "confidence": float(probs[i, pred[i]])} for i in idx]

    images = {"correct": x[right, ..., 0], "wrong": x[wrong, ..., 0]}
    return {"correct": items(right), "wrong": items(wrong), "class_names": class_names}, images


def run(cfg: MlpConfig, on_run: Callable[[MlpRun], None] | None = None, progress: Any = None) -> MlpResult:
    cfg.validate()
    data = common.load_arrays(cfg.dataset, cfg.data_dir, subset=cfg.subset, test_subset=cfg.test_subset,
                              seed=cfg.seed)
    if cfg.batch_size > len(data.x_train):
        raise UsageError(f"batch size {cfg.batch_size} is larger than the {len(data.x_train):,} training images",
                         "lower --batch-size or raise --subset")
    import math

    import numpy as np

    from dltool import models
    from dltool.engine.devices import environment, make_strategy
    from dltool.engine.loop import Engine, FitConfig, set_seed
    from dltool.engine.optimizers import make_optimizer, schedule

    strategy, setup = make_strategy("default")
    steps_per_epoch = max(1, len(data.x_train) // cfg.batch_size)
    eval_every = cfg.eval_every or (max(1, steps_per_epoch // 4) if cfg.target_accuracy is not None else None)
    fit_cfg = FitConfig(epochs=cfg.epochs, steps=cfg.steps, batch_size=cfg.batch_size, seed=cfg.seed,
                        steps_per_execution=eval_every or steps_per_epoch, target_accuracy=cfg.target_accuracy,
                        eval_every=eval_every)
    runs: list[MlpRun] = []
    gallery: dict = {}
    images = None
    for variant, studies in cfg.variants():
        lr = variant.lr if variant.lr is not None else cfg.lr
        l2 = cfg.l2 if variant.l2 is None else variant.l2
        set_seed(cfg.seed)

        def model_fn(v=variant, l2=l2):
            return models.mlp(data.input_shape, v.hidden, data.num_classes, l1=v.l1, l2=l2, dropout=v.dropout,
                              layer_norm=v.layer_norm)

        def optimizer_fn(v=variant, lr=lr):
            rate = schedule(lr, v.schedule, cfg.decay, steps_per_epoch) if v.schedule != "constant" else lr
            return make_optimizer(v.optimizer, rate)

        engine = Engine(model_fn, optimizer_fn, strategy=strategy, precision=cfg.precision)
        if progress is not None:
            progress.start_run(variant.name)
        fit = engine.fit(data.x_train, data.y_train, fit_cfg, eval_data=(data.x_test, data.y_test), hooks=progress)
        test_loss, test_acc = engine.evaluate(data.x_test, data.y_test)
        _, train_acc = engine.evaluate(data.x_train, data.y_train)
        kernel = np.abs(engine.model.get_layer("hidden1").kernel.numpy())
        record = MlpRun(
            name=variant.name, studies=studies, hidden=list(variant.hidden), optimizer=variant.optimizer, lr=lr,
            schedule=variant.schedule, l1=variant.l1, l2=l2, dropout=variant.dropout, layer_norm=variant.layer_norm,
            params=int(engine.model.count_params()), status=fit.status, steps=fit.steps, train_accuracy=train_acc,
            test_accuracy=test_acc, test_loss=test_loss if math.isfinite(test_loss) else None,
            mean_abs_weight=float(kernel.mean()), share_small=float((kernel < SMALL).mean()),
            train_seconds=fit.train_seconds, time_to_target=fit.time_to_target,
            epochs=[{"epoch": e.epoch, "train_loss": e.train_loss, "train_accuracy": e.train_accuracy,
                     "test_accuracy": e.eval_accuracy} for e in fit.epochs])
        if variant.name.startswith("base") and cfg.gallery:
            gallery, images = _gallery(engine, data.x_test, data.y_test, cfg.gallery, data.class_names)
        runs.append(record)
        if progress is not None:
            acc = "—" if test_acc is None else f"{test_acc:.4f}"
            progress.end_run(f"test accuracy {acc}")
        if on_run is not None:
            on_run(record)
    result = MlpResult(cfg, data.describe, runs, gallery, environment(setup, precision=cfg.precision))
    result.gallery_images = images  # not a field: plots use it, results.json does not carry pixels
    return result
