"""MLP 784-100-10 on MNIST and its variations: schedules, depth vs width, L1 vs dropout, layer normalisation.

Report 003 (KTH EP3260, computer assignment 7) is the source of every setting and every reference number here.
Base (its Q1): 784 → 100 (ReLU) → 10, SGD lr 0.1, L2 0.01 on the hidden weights (Keras' L2: λ·Σw²), batch 100,
50 epochs; train and test accuracy per epoch. The studies each change one thing:
- schedule (Q2): constant lr (the base) vs diminishing α₀/(1 + δ·k) with δ = 0.1 vs Adagrad 0.01. k counts
  epochs by default; the report says iterations, but with k in iterations the rate is 0.1/61 after the first
  epoch and the run stalls (``decay_unit="step"`` shows it);
- depth vs width (Q3) at 100 hidden units in all: (100) vs (50, 50) vs (25, 25, 25, 25);
- sparsity (Q5): L1 (λ 0.05) vs dropout 0.2, both instead of L2: accuracy, mean |w| of the first hidden layer
  and the share of its weights below 1e-3 in magnitude;
- norm (Q6): layer normalisation after each hidden layer vs none;
- l1 (not in the default set): the same L1 λ under every definition of the penalty in
  :data:`dltool.models.penalties.L1_DEFINITIONS`.

Which L1 penalty the report used: λ·Σ|w| added to the batch-mean loss as it stands (Keras' L1 regulariser)
moves every weight by η·λ = 0.005 per step and leaves 0.54 test accuracy after 50 epochs, far from the
report's 94.1 % and mean |w| 0.002; λ·mean|w| and λ·Σ|w|/N barely regularise (0.978, mean |w| 0.055) and
λ·Σ|w|/B at B = 100 is close but too weak (0.964, 0.0030). λ·Σ|w|/50 gives 0.945–0.953 and mean |w| 0.0020
over three seeds: it is the default (``l1_definition="report"``). 50 is the mini-batch size the report's own
Q6 text gives ("in our case 50"), so this is λ·Σ|w|/B with that batch; at B = 100 it is also half of λ·Σ|w|/B.
The other definitions stay available and the docs give every candidate's numbers.

The base run belongs to every study and is trained once. A gallery shows test digits the base model classifies
correctly and wrongly. Every number report 003 gives for these runs is attached to the run it belongs to
(:data:`REFERENCES`), with its section.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from dltool.errors import UsageError
from dltool.experiments.mnist import common
from dltool.models.penalties import L1_DEFINITIONS, REPORT_L1_DIVISOR  # the definitions, shared with the view

STUDIES = ("schedule", "depth", "sparsity", "norm", "l1")
DEFAULT_STUDIES = ("schedule", "depth", "sparsity", "norm")  # the report's questions 1–3, 5 and 6
SMALL = 1e-3  # "near zero" threshold for the share of small weights
TINY = 1e-7  # report 003, Q5: the L1 model has "several weights of a size of 10^-7 or less"
DECAY_UNITS = ("epoch", "step")  # what k of α₀/(1 + δ·k) counts

# ---- report 003's numbers -------------------------------------------------------------------------------------
REPORT = "report 003"
REPORT_EPOCHS = 50  # every run of report 003 trained 50 epochs (Q2: "still improving even at epoch 50")
REPORT_SETTING = {"lr": 0.1, "l2": 0.01, "batch_size": 100, "decay": 0.1, "adagrad_lr": 0.01, "l1": 0.05,
                  "dropout": 0.2}
TIME_NOTE = "the report's training time on its own machine (GPU or CPU not stated): not comparable with ours"


@dataclass(frozen=True)
class Reference:
    quantity: str  # train_accuracy | test_accuracy | train_seconds | mean_abs_weight
    value: float
    source: str  # report and section
    note: str = ""


# Keyed by Variant.key. Accuracies as fractions; seconds as the report gives them.
REFERENCES: dict[str, tuple[Reference, ...]] = {
    "base": (
        Reference("train_accuracy", 0.959, f"{REPORT}, Q1"),
        Reference("test_accuracy", 0.956, f"{REPORT}, Q1"),
        Reference("train_seconds", 133.0, f"{REPORT}, Q1", TIME_NOTE),
        Reference("train_seconds", 133.0, f"{REPORT}, Q3 (model 1)", TIME_NOTE),
        Reference("test_accuracy", 0.965, f"{REPORT}, Q6 (vanilla)",
                  "the same network as Q1, whose test accuracy the report gives as 0.956"),
    ),
    "inverse-time": (
        Reference("test_accuracy", 0.965, f"{REPORT}, Q2"),
        Reference("train_seconds", 134.0, f"{REPORT}, Q2", TIME_NOTE),
    ),
    "adagrad": (
        Reference("test_accuracy", 0.961, f"{REPORT}, Q2"),
        Reference("train_seconds", 141.0, f"{REPORT}, Q2", TIME_NOTE),
    ),
    "depth-2": (Reference("train_seconds", 154.0, f"{REPORT}, Q3 (model 2)", TIME_NOTE),),
    "depth-4": (Reference("train_seconds", 140.0, f"{REPORT}, Q3 (model 3)", TIME_NOTE),),
    "l1": (
        Reference("test_accuracy", 0.941, f"{REPORT}, Q5"),
        Reference("mean_abs_weight", 0.002, f"{REPORT}, Q5"),
    ),
    "dropout": (
        Reference("test_accuracy", 0.981, f"{REPORT}, Q5"),
        Reference("mean_abs_weight", 0.06, f"{REPORT}, Q5"),
    ),
    "layer-norm": (Reference("test_accuracy", 0.971, f"{REPORT}, Q6"),),
}


@dataclass(frozen=True)
class Variant:
    name: str
    key: str  # what the run is, for its references: base, inverse-time, adagrad, depth-2, depth-4, l1, …
    hidden: tuple[int, ...] = (100,)
    optimizer: str = "gd"
    lr: float | None = None  # None: the config's lr
    schedule: str = "constant"
    l1: float = 0.0
    l1_definition: str = "report"
    l2: float | None = None  # None: the config's l2
    dropout: float = 0.0
    layer_norm: bool = False


@dataclass
class MlpConfig(common.MnistConfig):
    QUICK = dict(epochs=1, subset=5_000, test_subset=1_000)  # every study for one epoch

    studies: list[str] = field(default_factory=lambda: list(DEFAULT_STUDIES))  # the base always runs
    epochs: int = REPORT_EPOCHS
    steps: int | None = None
    batch_size: int = 100
    lr: float = 0.1
    l2: float = 0.01
    decay: float = 0.1  # δ of α₀/(1 + δ·k)
    decay_unit: str = "epoch"  # k counts epochs (reproduces the report) or steps (what the report says)
    adagrad_lr: float = 0.01
    l1: float = 0.05
    l1_definition: str = "report"  # see L1_DEFINITIONS
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

    def total_runs(self) -> int:
        return len(self.variants())

    def variants(self) -> list[tuple[Variant, list[str]]]:
        """Every distinct run with the studies it belongs to (the base first)."""
        base = Variant("base: (100), SGD, L2", "base")
        plan: dict[str, list[Any]] = {base.name: [base, ["base"]]}

        def add(study: str, variant: Variant) -> None:
            plan.setdefault(variant.name, [variant, []])[1].append(study)

        def l1_variant(definition: str) -> Variant:
            return Variant(f"L1 {self.l1:g} ({L1_DEFINITIONS[definition]})", "l1", l1=self.l1,
                           l1_definition=definition, l2=0.0)

        for study in self.studies:
            if study == "schedule":
                add(study, base)
                add(study, Variant(f"α₀/(1+{self.decay:g}k), k = {self.decay_unit}", "inverse-time",
                                   schedule="inverse-time"))
                add(study, Variant(f"Adagrad {self.adagrad_lr:g}", "adagrad", optimizer="adagrad",
                                   lr=self.adagrad_lr))
            elif study == "depth":
                add(study, base)
                add(study, Variant("(50, 50)", "depth-2", hidden=(50, 50)))
                add(study, Variant("(25, 25, 25, 25)", "depth-4", hidden=(25, 25, 25, 25)))
            elif study == "sparsity":
                add(study, base)
                add(study, l1_variant(self.l1_definition))
                add(study, Variant(f"dropout {self.dropout:g}", "dropout", dropout=self.dropout, l2=0.0))
            elif study == "norm":
                add(study, base)
                add(study, Variant("layer norm", "layer-norm", layer_norm=True))
            elif study == "l1":
                for definition in L1_DEFINITIONS:
                    add(study, l1_variant(definition))
                add(study, Variant(f"L1 {self.l1:g} ({L1_DEFINITIONS['sum']}) + L2 {self.l2:g}", "l1",
                                   l1=self.l1, l1_definition="sum"))
        return [(v, s) for v, s in plan.values()]

    def references(self, variant: Variant) -> list[Reference]:
        """Report 003's numbers for this run, when the run has the report's setting (and the data is MNIST)."""
        if self.dataset != "mnist":
            return []
        for name, value in REPORT_SETTING.items():
            if not math.isclose(float(getattr(self, name)), value):
                return []
        return list(REFERENCES.get(variant.key, ()))

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
        if self.decay_unit not in DECAY_UNITS:
            raise UsageError(f"unknown decay unit {self.decay_unit!r}", "use --decay-unit epoch or step")
        if self.l1_definition not in L1_DEFINITIONS:
            raise UsageError(f"unknown L1 definition {self.l1_definition!r}",
                             f"choose one of {', '.join(L1_DEFINITIONS)}")
        common.check_target(self.target_accuracy)
        common.dataset_name(self.dataset)


@dataclass
class MlpRun:
    name: str
    key: str
    studies: list[str]
    hidden: list[int]
    optimizer: str
    lr: float
    schedule: str
    l1: float
    l1_definition: str | None  # None without L1
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
    share_tiny: float  # share of those weights with |w| ≤ 1e-7 (report 003's threshold)
    train_seconds: float
    time_to_target: float | None
    mfu: float | None = None  # model FLOPs utilisation of the training steps (engine/loop.py)
    epochs: list[dict] = field(default_factory=list)  # epoch, train loss, running train accuracy, test accuracy
    reference: list[dict] = field(default_factory=list)  # report 003's numbers for this run: quantity, value, source


@dataclass
class MlpResult(common.MnistResult):
    config: MlpConfig
    data: dict
    runs: list[MlpRun]
    gallery: dict = field(default_factory=dict)  # correct / wrong: test index, label, prediction, confidence
    environment: dict = field(default_factory=dict)
    references: list[dict] = field(default_factory=list)  # one row per report number: ours beside it


def compare(runs: list[MlpRun]) -> list[dict]:
    """One row per report number attached to a run: source, run, quantity, report value, ours, Δ.

    Δ only for accuracies and mean |w|: the report's times come from its own machine (GPU or CPU not stated),
    so a time gets no Δ and no ratio.
    """
    rows = []
    for r in runs:
        for ref in r.reference:
            ours = getattr(r, ref["quantity"])
            timed = ref["quantity"] == "train_seconds"
            rows.append({"source": ref["source"], "run": r.name, "quantity": ref["quantity"],
                         "reference": ref["value"], "measured": ours,
                         "delta": None if timed or ours is None else ours - ref["value"], "note": ref["note"]})
    return sorted(rows, key=lambda row: row["source"])


def learning_rate(cfg: MlpConfig, variant: Variant, lr: float, steps_per_epoch: int):
    """A float, or for the diminishing schedule α₀/(1 + δ·k) a Keras schedule whose k counts epochs (one step
    of k every ``steps_per_epoch`` steps) or steps (``cfg.decay_unit``)."""
    from dltool.engine.optimizers import schedule

    if variant.schedule == "constant":
        return lr
    return schedule(lr, variant.schedule, cfg.decay, steps_per_epoch if cfg.decay_unit == "epoch" else 1)


def _l1_penalty(model, definition: str, lam: float, batch_size: int, n_train: int) -> None:
    """Add the L1 penalty of ``definition`` to every hidden layer of a built MLP (its L2, if any, stays)."""
    import keras
    from keras import ops

    if definition == "activity":
        for layer in model.layers:
            if isinstance(layer, keras.layers.Activation):
                layer.activity_regularizer = keras.regularizers.L1(lam)
        return
    for layer in model.layers:
        if not layer.name.startswith("hidden"):
            continue
        kernel = layer.kernel
        size = 1
        for dim in kernel.shape:
            size *= int(dim)
        scale = lam / {"sum": 1, "report": REPORT_L1_DIVISOR, "batch": batch_size, "mean": size,
                       "dataset": n_train}[definition]
        before = kernel.regularizer

        def penalty(w, scale=scale, before=before):
            value = scale * ops.sum(ops.abs(w))
            return value if before is None else value + before(w)

        kernel.regularizer = penalty


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
    import numpy as np

    from dltool import models
    from dltool.engine.devices import environment, make_strategy
    from dltool.engine.loop import Engine, FitConfig
    from dltool.engine.optimizers import make_optimizer

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

        def model_fn(v=variant, l2=l2):
            model = models.mlp(data.input_shape, v.hidden, data.num_classes, l2=l2, dropout=v.dropout,
                               layer_norm=v.layer_norm)
            if v.l1:
                _l1_penalty(model, v.l1_definition, v.l1, cfg.batch_size, len(data.x_train))
            return model

        def optimizer_fn(v=variant, lr=lr):
            return make_optimizer(v.optimizer, learning_rate(cfg, v, lr, steps_per_epoch))

        engine = Engine(model_fn, optimizer_fn, strategy=strategy, precision=cfg.precision, seed=cfg.seed)
        if progress is not None:
            progress.start_run(variant.name)
        fit = engine.fit(data.x_train, data.y_train, fit_cfg, eval_data=(data.x_test, data.y_test), hooks=progress)
        test_loss, test_acc = engine.evaluate(data.x_test, data.y_test)
        _, train_acc = engine.evaluate(data.x_train, data.y_train)
        kernel = np.abs(engine.model.get_layer("hidden1").kernel.numpy())
        record = MlpRun(
            name=variant.name, key=variant.key, studies=studies, hidden=list(variant.hidden),
            optimizer=variant.optimizer, lr=lr, schedule=variant.schedule, l1=variant.l1,
            l1_definition=variant.l1_definition if variant.l1 else None, l2=l2, dropout=variant.dropout,
            layer_norm=variant.layer_norm,
            params=int(engine.model.count_params()), status=fit.status, steps=fit.steps, train_accuracy=train_acc,
            test_accuracy=test_acc, test_loss=test_loss if math.isfinite(test_loss) else None,
            mean_abs_weight=float(kernel.mean()), share_small=float((kernel < SMALL).mean()),
            share_tiny=float((kernel <= TINY).mean()),
            train_seconds=fit.train_seconds, time_to_target=fit.time_to_target, mfu=fit.mfu,
            epochs=[{"epoch": e.epoch, "train_loss": e.train_loss, "train_accuracy": e.train_accuracy,
                     "test_accuracy": e.eval_accuracy} for e in fit.epochs],
            reference=[asdict(ref) for ref in cfg.references(variant)])
        if variant.name.startswith("base") and cfg.gallery:
            gallery, images = _gallery(engine, data.x_test, data.y_test, cfg.gallery, data.class_names)
        common.finished(record, runs, progress, on_run, "test accuracy {acc}")
    result = MlpResult(cfg, data.describe, runs, gallery, environment(setup, precision=cfg.precision),
                       compare(runs))
    result.gallery_images = images  # not a field: plots use it, results.json does not carry pixels
    return result
