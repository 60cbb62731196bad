"""scale: strong and weak data-parallel scaling, report 004 Problem 2's study, measured the way tf_cnn_benchmarks
and Horovod's synthetic benchmark measure it (warmup excluded, throughput as mean ± σ/√n over the timed calls).

The report's settings are the defaults, each checked against its text:
- learners 1, 2, 4, 8, 16 ("each learner is a K80 GPU"); ResNet-50 on Fashion-MNIST; 10 epochs per job;
- strong scaling: effective (global) batch 256, each of N learners gets 256/N;
- weak scaling: batch per learner 64 (the report's example), effective batch 64·N;
- measured per job: average throughput, training time, training cost = learners × hours × price per GPU-hour;
- weak scaling: "scaling efficiency defined as the increase in time to finish one iteration at a learner as the
  number of learners increases", i.e. t_iter(N)/t_iter(1) (1.0 = no increase; larger is worse). The
  conventional efficiencies are given beside it, labelled: strong S(N)/N with S(N) = X(N)/X(1) (X = examples/s),
  weak t_iter(1)/t_iter(N). When the smallest count N0 is not 1, speedups are N0·X(N)/X(N0) and the ratios are
  relative to N0.

Times, each labelled as what it is:
- step time: mean seconds per step over the timed calls (warmup excluded);
- wall time: the measured wall clock of the training loop as it ran (first step to last, tracing and warmup
  included; building the model and loading the data excluded);
- training time for the report's ``epochs``: the measured wall time when the job trained them in full, otherwise
  (``steps`` given) extrapolated as ⌊n_train/B⌋ · epochs · step time and labelled "extrapolated".
- cost: learners × training hours × price. Only real GPUs have a default price (the report's K80 at GCP's
  $0.45 per GPU-hour); CPU and virtual devices have none, so their cost is None ("n/a") unless a price per
  device-hour is given, which is then labelled as the user's.

Learners: MirroredStrategy over N GPUs, or N logical devices carved out of one GPU or the CPU (``virtual``: every
number is labelled so); MultiWorkerMirroredStrategy over N local worker processes (127.0.0.1, free ports,
TF_CONFIG), or this process as a task of a cluster given by TF_CONFIG. Logical devices are fixed per process, so
every learner count runs in its own process (:mod:`dltool.engine.workers`); a strong and a weak run with the same
global batch share one measurement.

Data: the report does not say how Fashion-MNIST's 28×28×1 images meet ResNet-50 (which needs at least 32×32×3):
here they are zero-padded by 2 pixels per side to 32×32 and the grey channel is repeated 3×. This happens in the
model's first layers (Rescaling → ZeroPadding2D → Concatenate: :func:`dltool.models.build_uint8`), so the input
pipeline ships uint8 28×28×1 images (12× fewer bytes than float32 32×32×3). Padding keeps every pixel (a resize
would interpolate). ``synthetic``: random uint8 images of the model's own input shape, an epoch counted as 60,000
examples (Fashion-MNIST's size; :mod:`dltool.data.throughput`). Timing: :mod:`dltool.engine.throughput`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from dltool import models
from dltool.errors import MissingError, RunError, UsageError
from dltool.experiments.config import ExperimentConfig

REPORT_SOURCE = "report 004, Problem 2"
DEFAULT_LEARNERS = (1, 2, 4, 8, 16)  # the report's learner counts
STRONG_GLOBAL_BATCH = 256  # the report's effective batch for strong scaling
WEAK_PER_LEARNER_BATCH = 64  # the report's weak-scaling example: 64 per learner
REPORT_EPOCHS = 10
DEFAULT_PRICE = 0.45  # US$ per GPU-hour: the report's K80
PRICE_SOURCE = ("GCP on-demand NVIDIA K80 (the report's GPU), $0.45 per GPU-hour "
                "(cloud.google.com/compute/gpus-pricing, 2019 list price, us-central1)")
NO_PRICE = "n/a — no price for CPU/virtual devices (give one with --price-per-hour, US$ per device-hour)"
USER_PRICE = "your price, given with --price-per-hour (US$ per device-hour)"
REPORT_SETTINGS = {
    "source": REPORT_SOURCE, "model": "resnet50", "dataset": "fashion_mnist", "learners": list(DEFAULT_LEARNERS),
    "strong_global_batch": STRONG_GLOBAL_BATCH, "weak_per_learner_batch": WEAK_PER_LEARNER_BATCH,
    "epochs": REPORT_EPOCHS, "device": "NVIDIA K80, one per learner",
    "strategy": "MirroredStrategy (default all-reduce) on one node up to 8 learners; MultiWorkerMirroredStrategy "
                "(CollectiveCommunication.AUTO) across nodes",
}
DEFINITIONS = {
    "step_time": "mean seconds per iteration over the timed calls (warmup excluded)",
    "throughput": "examples/s = global batch / step time, mean ± σ/√n over the timed calls (warmup excluded)",
    "wall_seconds": "measured wall clock of the training loop as it ran (its `steps` steps, tracing and warmup "
                    "included; model build and data loading excluded)",
    "extrapolated_seconds": "work_steps × step_time: the report's epochs extrapolated from the mean step time",
    "training_seconds": "training time of the report's epochs: wall_seconds when the job trained them in full, "
                        "else extrapolated_seconds (see training_time_basis)",
    "device_hours": "learners × training_seconds / 3600",
    "cost": "learners × training hours × price_per_hour (None without a price)",
    "speedup": "N0·X(N)/X(N0), X = throughput, N0 = the smallest learner count (1 normally)",
    "efficiency": "conventional: strong S(N)/N; weak t_iter(N0)/t_iter(N) (1.0 = ideal)",
    "iteration_time_ratio": "weak scaling only, the report's scaling efficiency: the increase in time to finish "
                            "one iteration at a learner as learners increase, t_iter(N)/t_iter(N0) (1.0 = ideal)",
}
MODES = ("strong", "weak", "both")
STRATEGIES = ("mirrored", "multiworker")
DATASETS = ("fashion_mnist", "mnist", "cifar10", "synthetic")
INPUT_ADAPTATION = ("28×28×1 → 32×32×3: zero-pad 2 px per side, repeat the grey channel 3× "
                    "(model layers: Rescaling → ZeroPadding2D → Concatenate)")


def canonical_dataset(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}", "use fashion-mnist, mnist, cifar10 or synthetic")
    return key


def expand_counts(text: str | None, option: str) -> list[int] | None:
    """'4' → 1, 2, 4 (powers of two up to N, and N); '1,2,8' → exactly those; None (not given) stays None."""
    from dltool.experiments.common import parse_ints

    if text is None:
        return None
    values = parse_ints(text, option)
    if "," in text:
        return sorted(set(values))
    top = values[0]
    counts = [1 << k for k in range(top.bit_length()) if (1 << k) <= top]
    return sorted(set(counts + [top]))


@dataclass
class ScaleConfig(ExperimentConfig):
    # --quick: the report's batches (256 strong, 64 per learner weak) on a small model, 1 and 2 learners (virtual
    # ones with mirrored: see preset), 8 steps a job
    QUICK = dict(learners=[1, 2], model="deep_mnist_cnn", dataset="synthetic", steps=8)
    SUMMARY = ("baseline_learners", "price_per_hour", "price_source", "device_kind", "parameters",
               "training_time_basis", "report", "differences", "definitions")

    strategy: str = "mirrored"  # mirrored | multiworker
    learners: list[int] | None = None  # device counts (mirrored) or worker counts (multiworker); None: the report's
    virtual: bool = False  # logical devices split from one GPU or the CPU
    mode: str = "both"  # strong | weak | both
    model: str = "resnet50"
    dataset: str = "fashion_mnist"
    global_batch: int = STRONG_GLOBAL_BATCH  # strong scaling: fixed global batch
    per_learner_batch: int = WEAK_PER_LEARNER_BATCH  # weak scaling: fixed batch per learner
    epochs: int = REPORT_EPOCHS  # training time and cost are for this many epochs: trained in full …
    steps: int | None = None  # … or, given, each run trains this many steps and the epochs are extrapolated
    warmup_steps: int | None = None  # None: max(one call, 20 % of the steps up to 10)
    steps_per_execution: int | None = None  # None: max(1, min(50, steps/epoch, steps/10))
    lr: float = 0.01
    momentum: float = 0.9
    price_per_hour: float | None = None  # US$ per device-hour; None: $0.45 on real GPUs, no price otherwise
    cross_device_ops: str = "auto"  # mirrored
    communication: str = "auto"  # multiworker
    collective_timeout_s: float | None = None  # None: no collective timeout (TF's is a debugging aid that also
    #                                             covers start-up and the first step); lost peers: health check
    gpu_memory_mb: int | None = None  # per logical GPU with --virtual on a GPU; None: 90 % of the card / N
    precision: str = "fp32"
    xla: bool = False
    seed: int = 0
    data_dir: str | None = None
    join: bool = False  # multiworker: this process is a task of the cluster TF_CONFIG describes

    @classmethod
    def from_options(cls, quick: bool = False, *, gpus: str | None = None, workers: str | None = None,
                     **given: Any) -> "ScaleConfig":
        """The CLI's flags: ``gpus`` counts the devices of mirrored, ``workers`` the local worker processes of
        multiworker (both as :func:`expand_counts` reads them); with TF_CONFIG set, multiworker joins that
        cluster (``join``) instead of starting workers. Not given: mirrored's counts are the report's, fitted to
        the machine by :func:`run` (None); multiworker's are 1, 2."""
        import os

        from dltool.engine.devices import COMMUNICATIONS, CROSS_DEVICE_OPS  # names only; no TensorFlow import

        if given.get("cross_device_ops") is not None:
            given["cross_device_ops"] = name = given["cross_device_ops"].strip().lower().replace("_", "-")
            if name not in CROSS_DEVICE_OPS:
                raise UsageError(f"unknown --cross-device-ops {name!r}", f"choose one of {', '.join(CROSS_DEVICE_OPS)}")
        if given.get("communication") is not None:
            given["communication"] = name = given["communication"].strip().lower()
            if name not in COMMUNICATIONS:
                raise UsageError(f"unknown --communication {name!r}", f"choose one of {', '.join(COMMUNICATIONS)}")
        strategy = given.get("strategy") or cls.strategy
        if strategy == "multiworker" and gpus is not None:
            raise UsageError("--gpus counts devices of --strategy mirrored", "use --workers N with multiworker")
        if strategy == "mirrored" and workers is not None:
            raise UsageError("--workers starts worker processes for --strategy multiworker",
                             "add --strategy multiworker, or use --gpus N with mirrored")
        given["join"] = strategy == "multiworker" and bool(os.environ.get("TF_CONFIG"))
        if given["join"] and workers is not None:
            raise UsageError("TF_CONFIG is set, so this process joins that cluster; --workers would start another",
                             "unset TF_CONFIG to start local workers, or leave out --workers")
        if strategy == "mirrored":
            given["learners"] = expand_counts(gpus, "--gpus")
        else:
            given["learners"] = expand_counts(workers, "--workers") or (None if quick else [1, 2])
        return super().from_options(quick, **given)

    @classmethod
    def quick_preset(cls, quick: bool, given: dict[str, Any]) -> dict[str, Any]:
        """--quick with mirrored splits the CPU (or one GPU) into virtual learners."""
        mirrored = (given.get("strategy") or cls.strategy) == "mirrored"
        return {**cls.QUICK, "virtual": True} if quick and mirrored else super().quick_preset(quick, given)

    def total_runs(self) -> int:
        return 1 if self.join else sum(len(self.measurements(n)) for n in self.validate())

    def prepare(self) -> None:
        """Exit 3 before the run folder: first more GPUs than this machine has (the command cannot run here
        whatever the data: the fix is --virtual or fewer GPUs, so fetching a dataset first would not help), then
        missing data. Counting GPUs imports TensorFlow, so it happens only where the count can refuse the run:
        mirrored on real devices with more than one learner (the run needs TensorFlow anyway)."""
        learners = self.validate()
        if self.strategy == "mirrored" and not self.virtual and max(learners) > 1:
            learners, _ = fit_default_learners(self, learners, _physical_gpus())
            check_devices(self, learners)
        if self.dataset != "synthetic":
            from dltool.data.sources import check_available

            check_available(self.dataset, self.data_dir)

    def summary(self, result: Any) -> dict[str, Any]:
        return {"summary": list(result.runs), **super().summary(result)}

    def validate(self) -> list[int]:
        """Checks every value (UsageError) and returns the learner counts, sorted."""
        from dltool.engine import devices  # no TensorFlow: these checks run before it is imported
        if self.strategy not in STRATEGIES:
            raise UsageError(f"unknown strategy {self.strategy!r}", "use --strategy mirrored or multiworker")
        if self.mode not in MODES:
            raise UsageError(f"unknown mode {self.mode!r}", "use --mode strong, weak or both")
        self.model = models.canonical(self.model, models.THROUGHPUT_MODELS, "scale")
        self.dataset = canonical_dataset(self.dataset)
        self.data_dir = str(self.data_dir) if self.data_dir else None
        learners = sorted(set(self.learners or DEFAULT_LEARNERS))
        if any(n < 1 for n in learners):
            raise UsageError(f"learner counts must be ≥ 1, got {learners}", "use e.g. --gpus 1,2,4")
        if self.global_batch < 1 or self.per_learner_batch < 1:
            raise UsageError("batch sizes must be ≥ 1", "use e.g. --batch-size 256 --per-learner-batch 64")
        if self.mode in ("strong", "both"):
            bad = [n for n in learners if self.global_batch % n]
            if bad:
                lcm = math.lcm(*learners)
                raise UsageError(f"--batch-size {self.global_batch} does not split evenly over {bad[0]} learners",
                                 f"use a multiple of {lcm} (e.g. --batch-size {lcm * max(1, 256 // lcm)})")
        if self.epochs < 1:
            raise UsageError(f"--epochs must be ≥ 1, got {self.epochs}", "use e.g. --epochs 10")
        if self.steps is not None and self.steps < 2:
            raise UsageError(f"--steps must be ≥ 2 (one warmup step, one timed), got {self.steps}",
                             "use e.g. --steps 20")
        if self.price_per_hour is not None and not (self.price_per_hour >= 0 and math.isfinite(self.price_per_hour)):
            raise UsageError(f"--price-per-hour must be ≥ 0, got {self.price_per_hour}", "use e.g. 0.45")
        if self.lr <= 0:
            raise UsageError(f"--lr must be positive, got {self.lr}", "use e.g. --lr 0.01")
        if self.collective_timeout_s is not None and not (0 < self.collective_timeout_s < math.inf):
            raise UsageError(f"--timeout must be positive, got {self.collective_timeout_s}",
                             "use e.g. --timeout 600, or leave it out for no collective timeout")
        if self.gpu_memory_mb is not None and self.gpu_memory_mb < 64:
            raise UsageError(f"GPU memory per virtual device must be ≥ 64 MiB, got {self.gpu_memory_mb}",
                             "use e.g. 8192")
        if self.strategy == "mirrored":
            devices.check_nccl(self.cross_device_ops, self.virtual)
        devices.check_xla_replicas(self.xla, max(learners))
        if self.warmup_steps is not None and self.warmup_steps < 1:
            raise UsageError("--warmup-steps must be ≥ 1", "use e.g. --warmup-steps 5")
        return learners

    def measurements(self, n: int) -> list[dict]:
        """The (global batch, modes) runs for learner count ``n``; equal batches are measured once."""
        out: list[dict] = []
        wanted = []
        if self.mode in ("strong", "both"):
            wanted.append(("strong", self.global_batch))
        if self.mode in ("weak", "both"):
            wanted.append(("weak", n * self.per_learner_batch))
        for mode, batch in wanted:
            same = next((m for m in out if m["global_batch"] == batch), None)
            if same:
                same["modes"].append(mode)
            else:
                out.append({"modes": [mode], "global_batch": batch})
        return out


@dataclass
class LearnerRun:
    mode: str  # strong | weak
    learners: int
    devices: str  # e.g. "4 × CPU (virtual)"
    virtual: bool
    global_batch: int
    per_learner_batch: int
    steps: int  # steps trained (warmup included)
    timed_calls: int  # compiled calls that were timed (warmup excluded)
    step_time: float  # mean seconds per step, warmup excluded
    throughput: float  # examples/s, mean over timed calls
    throughput_sem: float  # σ/√n
    steps_per_epoch: int
    epoch_seconds: float  # steps_per_epoch × step_time (an estimate)
    wall_seconds: float  # measured: the training loop's wall clock for its ``steps`` steps, tracing included
    work_epochs: int  # the work training time and cost are for (the report's 10 epochs) …
    work_steps: int  # … in steps: work_epochs × steps_per_epoch
    extrapolated_seconds: float  # work_steps × step_time
    training_seconds: float  # wall_seconds if the job trained the work in full, else extrapolated_seconds
    training_time_measured: bool  # which of the two training_seconds is
    device_hours: float  # learners × training hours
    cost: float | None  # device_hours × price; None: no price (CPU or virtual devices)
    final_loss: float | None
    status: str
    shared_measurement: bool = False  # the strong and weak run had the same global batch: measured once
    speedup: float | None = None  # filled when the sweep is complete
    efficiency: float | None = None  # conventional: strong S/N, weak t_iter(N0)/t_iter(N)
    iteration_time_ratio: float | None = None  # weak only, the report's efficiency: t_iter(N)/t_iter(N0)
    mfu: float | None = None  # model FLOPs utilisation of the timed steps (engine/loop.py)

    @property
    def training_time_basis(self) -> str:
        return "measured wall time" if self.training_time_measured else "extrapolated: steps × mean step time"


@dataclass
class ScaleResult:
    config: ScaleConfig
    runs: list[LearnerRun]
    model: str
    parameters: int
    dataset: dict
    input_adaptation: str | None
    price_per_hour: float | None  # None: no price, no cost
    price_source: str
    virtual: bool
    device_kind: str  # e.g. "CPU (virtual)" or "GPU" or "CPU, local worker processes"
    baseline_learners: dict  # mode → N0 the speedups are relative to
    setups: dict = field(default_factory=dict)  # learners → DeviceSetup dict
    environment: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    training_time_basis: str = ""  # "measured wall time", "extrapolated: …" or "mixed"
    report: dict = field(default_factory=lambda: dict(REPORT_SETTINGS))  # the report's settings …
    differences: list[str] = field(default_factory=list)  # … and where this run's differ from them
    definitions: dict = field(default_factory=lambda: dict(DEFINITIONS))

    def rows(self, mode: str) -> list[LearnerRun]:
        return [r for r in self.runs if r.mode == mode]

    def to_dict(self) -> dict:
        out = asdict(self)
        for doc, run in zip(out["runs"], self.runs):
            doc["training_time_basis"] = run.training_time_basis
        return out


def resolve_price(cfg: ScaleConfig, device_type: str, virtual: bool) -> tuple[float | None, str]:
    """(US$ per device-hour or None, where it comes from): a default price only for real GPUs."""
    if cfg.price_per_hour is not None:
        if device_type == "GPU" and not virtual:
            return cfg.price_per_hour, "given with --price-per-hour (US$ per GPU-hour)"
        return cfg.price_per_hour, USER_PRICE + f", applied to {device_type} {'virtual ' if virtual else ''}devices"
    if device_type == "GPU" and not virtual:
        return DEFAULT_PRICE, PRICE_SOURCE + "; applied to this run's GPUs whatever their model"
    return None, NO_PRICE


def differences_from_report(cfg: ScaleConfig, learners: list[int], device_type: str, virtual: bool,
                            dataset: str | None = None) -> list[str]:
    """Each setting of this run that is not the report's, in words (empty: the report's study as written)."""
    out = []
    if cfg.model != "resnet50":
        out.append(f"model {cfg.model} (report: ResNet-50)")
    name = dataset or cfg.dataset
    if name != "fashion_mnist":
        out.append(f"dataset {name} (report: Fashion-MNIST)")
    if list(learners) != list(DEFAULT_LEARNERS):
        out.append(f"learners {', '.join(map(str, learners))} (report: 1, 2, 4, 8, 16)")
    if cfg.mode in ("strong", "both") and cfg.global_batch != STRONG_GLOBAL_BATCH:
        out.append(f"strong-scaling effective batch {cfg.global_batch} (report: 256)")
    if cfg.mode in ("weak", "both") and cfg.per_learner_batch != WEAK_PER_LEARNER_BATCH:
        out.append(f"weak-scaling batch per learner {cfg.per_learner_batch} (report's example: 64)")
    if cfg.mode != "both":
        out.append(f"{cfg.mode} scaling only (report: both)")
    if cfg.epochs != REPORT_EPOCHS:
        out.append(f"{cfg.epochs} epochs (report: 10)")
    if cfg.steps is not None:
        out.append(f"{cfg.steps} steps trained per job: training time and cost for {cfg.epochs} epochs are "
                   "extrapolated from the mean step time")
    if device_type != "GPU" or virtual:
        out.append(f"{device_type}{' virtual' if virtual else ''} devices (report: one K80 GPU per learner)")
    if cfg.strategy == "multiworker":
        out.append("MultiWorkerMirroredStrategy for every count (report: MirroredStrategy on one node up to 8)")
    if cfg.precision != "fp32":
        out.append(f"precision {cfg.precision} (report: not stated; fp32 is TensorFlow's default)")
    return out


# ---- planning in the launcher ----------------------------------------------------------------------------

def _physical_gpus() -> int:
    from dltool.engine.devices import physical_gpus

    return physical_gpus()


def fit_default_learners(cfg: ScaleConfig, learners: list[int], gpus: int) -> tuple[list[int], str | None]:
    """Without --gpus on a GPU machine, the report's counts that fit it (and a note naming the rest)."""
    if cfg.learners is not None or cfg.virtual or cfg.strategy != "mirrored" or gpus == 0:
        return learners, None
    fits = [n for n in learners if n <= gpus]
    dropped = [n for n in learners if n > gpus]
    if not dropped:
        return learners, None
    return fits, (f"the report's {', '.join(map(str, dropped))} learners were skipped: this machine has {gpus} "
                  f"GPU{'s' if gpus != 1 else ''} (more than 8 learners need two nodes: --strategy multiworker "
                  "on a cluster, see docs/scale.md)")


def check_devices(cfg: ScaleConfig, learners: list[int]) -> int:
    """Exit-3 errors for more learners than devices; returns the number of physical GPUs."""
    from dltool.engine.devices import no_gpu_hint, worker_gpu_env

    gpus = _physical_gpus()
    top = max(learners)
    if cfg.strategy == "mirrored" and not cfg.virtual:
        if gpus == 0 and top > 1:
            raise MissingError(f"asked for {top} GPUs but this machine has none",
                               no_gpu_hint(f"add --virtual to split the CPU into {top} logical devices (numbers "
                                           "labelled virtual), or use --gpus 1"))
        if gpus and top > gpus:
            raise MissingError(f"asked for {top} GPUs but this machine has {gpus}",
                               f"use --gpus {gpus} or fewer, or add --virtual to split one GPU into {top}")
    if cfg.strategy == "multiworker" and not cfg.join:
        worker_gpu_env(top, gpus, what="local workers (--workers)")  # exit 3 when they would share a GPU
    return gpus


def _worker_config(cfg: ScaleConfig, n: int) -> dict:
    doc = asdict(cfg)
    doc["learners"] = n
    return doc


def run(cfg: ScaleConfig, on_run: Callable[[LearnerRun], None] | None = None, progress: Any = None,
        log_dir: Path | None = None) -> ScaleResult:
    """Measure every learner count (each in its own process or cluster) and derive speedups and costs."""
    from dltool.engine import workers

    learners = cfg.validate()
    if cfg.join:
        info = workers.cluster_from_env()
        if info is None:
            raise MissingError("no cluster to join: TF_CONFIG is not set", "set TF_CONFIG or use --workers N")
        learners = [info.workers]  # the cluster decides; replicas are counted below from the strategy
    notes = []
    learners, skipped = fit_default_learners(cfg, learners, _physical_gpus())
    if skipped:
        notes.append(skipped)
    gpus = check_devices(cfg, learners)
    if not cfg.join:  # this process only plans and loads: no GPU memory held here while the workers train
        from dltool.engine.devices import launcher_holds_no_gpu

        launcher_holds_no_gpu()
    if cfg.dataset != "synthetic":  # missing data: exit 3 now, not after a worker has started TensorFlow
        from dltool.data import load

        load(cfg.dataset, cfg.data_dir)
    on_event = workers.forward_to(progress)
    runs: list[LearnerRun] = []
    setups: dict[int, dict] = {}
    meta: dict[str, Any] = {}
    target = "dltool.experiments.scale:measure"
    for n in learners:
        doc = _worker_config(cfg, n)
        logs = None if log_dir is None else Path(log_dir) / f"learners-{n}"
        if cfg.strategy == "mirrored":
            from dltool.engine.devices import gpu_mask

            # --gpus 1 on a 4-GPU box: the process sees one card, the others are untouched (--virtual: one card)
            mask = gpu_mask(1 if cfg.virtual else n, gpus)
            out = workers.run_in_subprocess(target, doc, on_event=on_event, log_dir=logs, env=mask)
        elif cfg.join:
            out = workers.join(target, doc, on_event=on_event)
        else:
            from dltool.engine.devices import worker_gpu_env

            env = worker_gpu_env(n, gpus)  # one GPU of the user's mask each
            outs = workers.launch(target, doc, n, on_event=on_event, log_dir=logs, worker_env=env)
            out = outs[0]
            _check_workers_agree(outs)
        meta = out
        setup = out["setup"]
        replicas = int(setup["num_replicas"])
        setups[replicas] = setup
        for m in out["runs"]:
            price, _ = resolve_price(cfg, setup.get("device_type", "CPU"), bool(setup.get("virtual")))
            for mode in m["modes"]:
                record = _record(cfg, mode, replicas, setup, m, shared=len(m["modes"]) > 1, price=price)
                runs.append(record)
                if on_run is not None:
                    on_run(record)
    baselines = _derive(runs)
    virtual = any(s.get("virtual") for s in setups.values())
    any_setup = next(iter(setups.values()), {})
    device_type = any_setup.get("device_type", "CPU")
    kind = device_type + (" (virtual)" if virtual else "")
    if cfg.strategy == "multiworker":
        kind += ", one worker process per learner" + ("" if cfg.join else " on this host")
    if virtual:
        notes.append("VIRTUAL devices: logical devices carved out of one " + device_type
                     + " share its cores and memory bandwidth — these numbers show the software path, not the "
                       "speed of separate accelerators.")
    if cfg.strategy == "multiworker" and not cfg.join and not gpus:
        notes.append("Local CPU workers share this host's cores: more workers split the same CPU.")
    price, price_source = resolve_price(cfg, device_type, virtual)
    measured = {r.training_time_measured for r in runs}
    basis = ("measured wall time" if measured == {True} else
             "extrapolated: steps × mean step time" if measured == {False} else "mixed")
    counts = sorted({r.learners for r in runs}) or learners
    return ScaleResult(config=cfg, runs=runs, model=cfg.model, parameters=int(meta.get("parameters", 0)),
                       dataset=meta.get("dataset", {}), input_adaptation=meta.get("input_adaptation"),
                       price_per_hour=price, price_source=price_source, virtual=virtual, device_kind=kind,
                       baseline_learners=baselines, setups={str(k): v for k, v in setups.items()},
                       environment=meta.get("environment", {}), notes=notes, training_time_basis=basis,
                       differences=differences_from_report(cfg, counts, device_type, virtual))


def _check_workers_agree(outs: list[dict]) -> None:
    """Every worker of a synchronous cluster trained the same model: their losses must match the chief's."""
    chief = [m.get("final_loss") for m in outs[0]["runs"]]
    for index, other in enumerate(outs[1:], start=1):
        theirs = [m.get("final_loss") for m in other["runs"]]
        for a, b in zip(chief, theirs):
            if a is not None and b is not None and abs(a - b) > 1e-4 * max(1.0, abs(a)):
                raise RunError(f"worker {index} ended with loss {b:.6g} but the chief with {a:.6g}",
                               "the workers did not train in sync; check that every worker runs the same version")


def _record(cfg: ScaleConfig, mode: str, n: int, setup: dict, m: dict, shared: bool,
            price: float | None = None) -> LearnerRun:
    step_time = m["step_time"] if m["step_time"] is not None else float("nan")
    thr = m.get("throughput") or {}
    work_steps = cfg.epochs * m["steps_per_epoch"]
    extrapolated = work_steps * step_time
    wall = m.get("wall_seconds")
    wall = float(wall) if wall is not None else float("nan")
    measured = m["steps"] >= work_steps and math.isfinite(wall)  # the job trained the work in full
    training = wall if measured else extrapolated
    device_hours = n * training / 3600.0
    return LearnerRun(
        mode=mode, learners=n, devices=setup.get("label", f"{n}"), virtual=bool(setup.get("virtual")),
        global_batch=m["global_batch"], per_learner_batch=m["global_batch"] // n, steps=m["steps"],
        timed_calls=int(thr.get("n") or 0), step_time=step_time,
        throughput=thr.get("mean") if thr.get("mean") is not None else float("nan"),
        throughput_sem=thr.get("sem") if thr.get("sem") is not None else float("nan"),
        steps_per_epoch=m["steps_per_epoch"], epoch_seconds=m["steps_per_epoch"] * step_time,
        wall_seconds=wall, work_epochs=cfg.epochs, work_steps=work_steps, extrapolated_seconds=extrapolated,
        training_seconds=training, training_time_measured=measured, device_hours=device_hours,
        cost=None if price is None else device_hours * price, final_loss=m.get("final_loss"),
        status=m.get("status", "finished"), shared_measurement=shared, mfu=m.get("mfu"))


def _derive(runs: list[LearnerRun]) -> dict:
    """Speedup N0·X(N)/X(N0); efficiency (strong S/N, weak t_iter(N0)/t_iter(N)); for weak scaling also the
    report's scaling efficiency, the increase of the iteration time: t_iter(N)/t_iter(N0)."""
    baselines = {}
    for mode in ("strong", "weak"):
        rows = [r for r in runs if r.mode == mode]
        if not rows:
            continue
        base = min(rows, key=lambda r: r.learners)
        baselines[mode] = base.learners
        for r in rows:
            if not (math.isfinite(r.throughput) and math.isfinite(base.throughput) and base.throughput > 0):
                continue
            r.speedup = base.learners * r.throughput / base.throughput
            if mode == "strong":
                r.efficiency = r.speedup / r.learners
            elif r.step_time > 0 and base.step_time > 0:
                r.efficiency = base.step_time / r.step_time
                r.iteration_time_ratio = r.step_time / base.step_time
    return baselines


# ---- in the worker process ---------------------------------------------------------------------------------

def measure(config: dict) -> dict:
    """Worker entry (one learner count): build the strategy, then time each strong/weak run."""
    from dltool.data.throughput import load_images
    from dltool.engine import devices, workers
    from dltool.engine.throughput import train_throughput

    progress = workers.RemoteProgress()
    n = int(config["learners"])
    if config["strategy"] == "mirrored":
        if config["virtual"]:
            devices.configure_virtual_devices(n, gpu_memory_mb=config.get("gpu_memory_mb"))
        strategy, setup = devices.make_strategy("mirrored", devices=n, virtual=config["virtual"],
                                                cross_device_ops=config["cross_device_ops"])
    else:
        strategy, setup = devices.make_strategy("multiworker", communication=config["communication"],
                                                timeout_s=config["collective_timeout_s"])
    model_name = config["model"]
    rgb32 = models.needs_rgb32(model_name)
    x, y, n_train, described = load_images(config["dataset"], int(config["seed"]), config.get("data_dir"),
                                           synthetic_shape=models.native_shape(model_name, (28, 28, 1)))
    data_shape = tuple(described["input_shape"])
    adaptation = INPUT_ADAPTATION if (rgb32 and tuple(data_shape) != (32, 32, 3)) else None
    replicas = strategy.num_replicas_in_sync
    plan = ScaleConfig(mode=config["mode"], global_batch=config["global_batch"],
                       per_learner_batch=config["per_learner_batch"]).measurements(replicas)
    out_runs = []
    for m in plan:
        batch = int(m["global_batch"])
        if batch % replicas:
            raise UsageError(f"global batch {batch} does not split over {replicas} replicas",
                             f"use a multiple of {replicas}")
        steps_per_epoch = max(1, n_train // batch)
        total = int(config["steps"]) if config.get("steps") else steps_per_epoch * int(config["epochs"])
        record = train_throughput(
            strategy, lambda: models.build_uint8(model_name, data_shape), x, y, batch=batch, steps=total,
            steps_per_epoch=steps_per_epoch,
            steps_per_execution=config.get("steps_per_execution"), warmup_steps=config.get("warmup_steps"),
            epochs=None if config.get("steps") else int(config["epochs"]), lr=config["lr"],
            momentum=config["momentum"], precision=config["precision"], xla=config["xla"], seed=int(config["seed"]),
            shuffle=config["dataset"] != "synthetic", progress=progress,
            label=f"{'/'.join(m['modes'])} · {setup.label} · batch {batch}")
        record["modes"] = m["modes"]
        out_runs.append(record)
    if config["strategy"] == "multiworker":
        workers.settle(strategy)
    return {"setup": setup.to_dict(), "runs": out_runs, "parameters": out_runs[0]["parameters"] if out_runs else 0,
            "dataset": described, "input_adaptation": adaptation, "worker": workers.worker_info().index,
            "environment": devices.environment(setup, precision=config["precision"], jit_compile=config["xla"])}
