"""Master-worker training over K disjoint shards: MultiWorkerMirroredStrategy in K local processes.

Report 003 (Q4) split MNIST into 6 random disjoint subsets, one per worker, trained its Q1 network on them
with MultiWorkerMirroredStrategy (MLP 784-100-10, SGD 0.1, L2 0.01 on the hidden weights, batch 100) and got
94.6 % test accuracy, "slightly worse" than Q1's 95.6 % on one machine. That is the default here; the report
does not say how long Q4 trained, so it takes Q1's 50 epochs.

Each K runs as a real cluster on 127.0.0.1 (:func:`dltool.engine.workers.launch`: free ports, one
``TF_CONFIG`` per process, cleanup on failure or Ctrl-C). Worker i trains on a fixed shard (:func:`shards`):
``random`` (default) deals a seeded permutation of the training images into K contiguous parts, ``strided``
takes images i, i+K, i+2K, …; either way the shards are disjoint and together cover the training set. Each
worker reads its shard (the engine's ``FitConfig.shard``) with a batch of B images; gradients are all-reduced
every step, so the cluster takes steps of K·B images and one epoch is N/(K·B) steps: K times fewer, K times
larger steps than one worker with batch B. The test set is evaluated by all workers together (auto-sharded)
after every epoch. K = 1 runs the same code as a one-process cluster.

On one 2-core machine K processes share the same cores and talk over loopback gRPC, so K > 1 shows the cost
of the collectives, not a speedup; the run says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from dltool.errors import UsageError
from dltool.experiments.mnist import common

TARGET = "dltool.experiments.mnist.workers:train"
MODELS = ("softmax", "mlp", "fast", "deep")
SHARDS = ("random", "strided")
MLP_L2 = 0.01  # report 003, Q1: L2 λ·Σw² on the hidden weights

# Report 003's numbers for the default setting: (workers K, test accuracy, source).
REPORT_SETTING = {"model": "mlp", "optimizer": "gd", "lr": 0.1, "l2": MLP_L2, "batch_size": 100}
REFERENCES: dict[int, tuple[float, str]] = {
    6: (0.946, "report 003, Q4"),  # 6 random disjoint shards, MultiWorkerMirroredStrategy
    1: (0.956, "report 003, Q1"),  # the same network on one machine
}


def shards(n: int, k: int, mode: str = "random", seed: int = 0) -> list:
    """Indices of the K training shards: disjoint, together every index in range(n), sizes within one.

    random: a permutation seeded by ``seed`` dealt into K contiguous parts (report 003's "random disjoint
    subsets"); strided: worker i takes i, i+K, i+2K, ….
    """
    import numpy as np

    if k < 1 or n < k:
        raise UsageError(f"cannot split {n:,} images into {k} shards", "use fewer workers or more images")
    if mode == "strided":
        return [np.arange(i, n, k) for i in range(k)]
    if mode == "random":
        order = np.random.default_rng(seed).permutation(n)
        return [np.sort(part) for part in np.array_split(order, k)]
    raise UsageError(f"unknown shard mode {mode!r}", "use --shards random or strided")


@dataclass
class WorkersConfig(common.MnistConfig):
    QUICK = dict(workers=[1, 2], epochs=1, subset=6_000, test_subset=1_000)

    workers: list[int] = field(default_factory=lambda: [1, 6])  # K of each run
    epochs: int = 50  # Q1's length (the report does not give Q4's)
    steps: int | None = None
    batch_size: int = 100  # per worker
    model: str = "mlp"
    optimizer: str = "gd"
    lr: float = 0.1
    l2: float | None = None  # L2 on the MLP's hidden weights; None: 0.01 for the MLP, 0 otherwise
    shards: str = "random"  # random | strided
    communication: str = "auto"  # auto | ring
    precision: str = "fp32"
    dataset: str = "mnist"
    data_dir: Path | None = None
    subset: int | None = None
    test_subset: int | None = None
    timeout_s: float | None = 900.0  # whole cluster run
    seed: int = 0

    def __post_init__(self) -> None:
        if self.l2 is None:
            self.l2 = MLP_L2 if self.model == "mlp" else 0.0

    def total_runs(self) -> int:
        return len(self.workers)

    def reference(self, k: int) -> tuple[float, str] | None:
        """Report 003's test accuracy for K workers at this setting, or None."""
        if self.dataset != "mnist" or (k > 1 and self.shards != "random"):
            return None
        for name, value in REPORT_SETTING.items():
            if getattr(self, name) != value:
                return None
        return REFERENCES.get(k)

    def validate(self) -> None:
        from dltool.engine.optimizers import canonical, check_lr

        if not self.workers or any(k < 1 for k in self.workers):
            raise UsageError("worker counts must be ≥ 1", "use e.g. --workers 1,6")
        if any(k > 16 for k in self.workers):
            raise UsageError("more than 16 local worker processes", "use --workers 16 or fewer on one machine")
        if self.model not in MODELS:
            raise UsageError(f"unknown model {self.model!r}", f"choose one of {', '.join(MODELS)}")
        if self.communication not in ("auto", "ring"):
            raise UsageError(f"unknown communication {self.communication!r}", "use --communication auto or ring")
        if self.epochs < 1 or self.batch_size < 1:
            raise UsageError("--epochs and --batch-size must be ≥ 1", "use e.g. --epochs 5 --batch-size 100")
        if self.shards not in SHARDS:
            raise UsageError(f"unknown shard mode {self.shards!r}", "use --shards random or strided")
        if not (self.l2 is not None and 0 <= self.l2 < float("inf")):
            raise UsageError(f"--l2 must be ≥ 0, got {self.l2}", "use e.g. --l2 0.01")
        if self.l2 and self.model != "mlp":
            raise UsageError(f"--l2 applies to the MLP's hidden weights, not to --model {self.model}",
                             "use --model mlp or --l2 0")
        canonical(self.optimizer)
        check_lr(self.lr)
        common.dataset_name(self.dataset)


@dataclass
class WorkersRun:
    workers: int
    label: str
    shard_size: int  # training images per worker
    global_batch: int
    status: str
    steps: int
    test_accuracy: float | None
    test_loss: float | None
    train_seconds: float  # compiled training calls on the chief, collectives included
    wall_seconds: float  # the chief's fit with evaluations
    step_ms: float | None
    images_per_second: float | None  # the whole cluster
    speedup: float | None = None  # 1-worker train seconds / these (same epochs)
    epochs: list[dict] = field(default_factory=list)  # epoch, train loss, test accuracy, seconds
    worker_test_accuracy: list[float | None] = field(default_factory=list)  # every worker's view (must agree)
    reference: float | None = None  # report 003's test accuracy for this K
    mfu: float | None = None  # the cluster's model FLOPs ÷ one machine's matmul peak (the workers share its cores)
    reference_source: str | None = None


@dataclass
class WorkersResult(common.MnistResult):
    config: WorkersConfig
    data: dict
    runs: list[WorkersRun]
    environment: dict = field(default_factory=dict)


def train(config: dict) -> dict:
    """Worker entry: join the cluster TF_CONFIG describes and train on this worker's shard."""
    import math

    from dltool import models
    from dltool.engine import devices, workers
    from dltool.engine.loop import Engine, FitConfig
    from dltool.engine.optimizers import make_optimizer

    info = workers.worker_info()
    progress = workers.RemoteProgress()
    # No collective timeout: with one, TensorFlow starts a watchdog thread per collective that sleeps for the
    # whole timeout, so a worker holds (collectives per second × timeout) threads — ≈ 2,800 per worker at 60 s
    # here, and six workers exhausted the machine's thread limit (pthread_create: EAGAIN, SIGABRT) after a few
    # epochs. A dead peer still surfaces as UnavailableError through the cluster's health check, and a hung
    # one through the launcher's heartbeat.
    strategy, setup = devices.make_strategy("multiworker", communication=config["communication"], timeout_s=None)
    k = strategy.num_replicas_in_sync
    data = common.load_arrays(config["dataset"], config.get("data_dir"), subset=config.get("subset"),
                              test_subset=config.get("test_subset"), seed=int(config["seed"]))
    l2 = float(config.get("l2") or 0.0)
    extra = {"l2": l2} if config["model"] == "mlp" else {}  # L2 on the MLP's hidden weights (report 003, Q1)

    def model_fn():
        return models.build(config["model"], data.input_shape, data.num_classes, **extra)

    mode = config.get("shards", "random")
    n_train = len(data.x_train)

    def shard(i: int, k: int):  # worker i of K reads its fixed shard; evaluation stays auto-sharded
        return shards(n_train, k, mode, int(config["seed"]))[i]

    engine = Engine(model_fn, lambda: make_optimizer(config["optimizer"], float(config["lr"])), strategy=strategy,
                    precision=config["precision"], seed=int(config["seed"]))
    global_batch = int(config["batch_size"]) * k
    label = f"{setup.workers} worker(s) · batch {config['batch_size']} each"
    progress.start_run(label)
    steps_per_epoch = max(1, len(data.x_train) // global_batch)
    fit = engine.fit(data.x_train, data.y_train,
                     FitConfig(epochs=int(config["epochs"]), steps=config.get("steps"), batch_size=global_batch,
                               seed=int(config["seed"]), steps_per_execution=max(1, min(steps_per_epoch // 4, 100)),
                               shard=shard),
                     eval_data=(data.x_test, data.y_test), hooks=progress)
    test_loss, test_acc = engine.evaluate(data.x_test, data.y_test)
    tp = fit.throughput
    ips = tp.mean if tp is not None and tp.n else (fit.steps * global_batch / fit.train_seconds
                                                    if fit.train_seconds > 0 else None)
    progress.end_run(f"test accuracy {test_acc:.4f} in {fit.train_seconds:.1f} s")
    return {"index": info.index, "workers": setup.workers, "label": setup.label, "replicas": k,
            "shard_size": len(shard(info.index, k)),
            "global_batch": global_batch, "status": fit.status,
            "steps": fit.steps, "test_accuracy": test_acc, "test_loss": test_loss if math.isfinite(test_loss) else None,
            "train_seconds": fit.train_seconds, "wall_seconds": fit.wall_seconds,
            "step_ms": fit.step_time * 1000 if math.isfinite(fit.step_time) else None, "images_per_second": ips,
            "mfu": fit.mfu, "epochs": [{"epoch": e.epoch, "train_loss": e.train_loss, "test_accuracy": e.eval_accuracy,
                        "seconds": e.seconds} for e in fit.epochs],
            "data": data.describe, "environment": devices.environment(setup, precision=config["precision"])}


def run(cfg: WorkersConfig, on_run: Callable[[WorkersRun], None] | None = None,
        progress: Any = None, log_dir: Any = None) -> WorkersResult:
    """One local cluster per K (in order); each finished cluster run reaches ``on_run`` at once."""
    cfg.validate()
    from dltool.engine import devices

    gpus = devices.driver_gpu_count()  # without importing TensorFlow here
    for k in cfg.workers:  # exit 3 now if K local workers would share a GPU
        devices.worker_gpu_env(k, gpus, what="local workers (--workers)")
    devices.launcher_holds_no_gpu()  # this process only loads and plans: no GPU memory held while workers train
    common.load_arrays(cfg.dataset, cfg.data_dir, subset=cfg.subset, test_subset=cfg.test_subset,
                       seed=cfg.seed)  # fail here, once, if the data is missing
    from dltool.engine import workers

    on_event = workers.forward_to(progress)
    runs: list[WorkersRun] = []
    data: dict = {}
    environment: dict = {}
    base: float | None = None
    for k in cfg.workers:
        doc = asdict(cfg)
        doc.update(workers=k, data_dir=str(cfg.data_dir) if cfg.data_dir else None)
        logs = None if log_dir is None else Path(log_dir) / f"k-{k}"  # the run folder keeps each worker's log
        outs = workers.launch(TARGET, doc, k, on_event=on_event, timeout_s=cfg.timeout_s, log_dir=logs,
                              worker_env=devices.worker_gpu_env(k, gpus))  # one GPU of the user's mask each
        chief = outs[0]
        record = WorkersRun(
            workers=k, label=chief["label"], shard_size=chief["shard_size"], global_batch=chief["global_batch"],
            status=chief["status"], steps=chief["steps"], test_accuracy=chief["test_accuracy"],
            test_loss=chief["test_loss"], train_seconds=chief["train_seconds"], wall_seconds=chief["wall_seconds"],
            step_ms=chief["step_ms"], images_per_second=chief["images_per_second"], epochs=chief["epochs"],
            worker_test_accuracy=[o["test_accuracy"] for o in outs], mfu=chief.get("mfu"))
        ref = cfg.reference(k)
        if ref is not None:
            record.reference, record.reference_source = ref
        if k == 1:
            base = record.train_seconds
        if base and record.train_seconds > 0:
            record.speedup = base / record.train_seconds
        runs.append(record)
        data, environment = chief["data"], chief["environment"]
        if on_run is not None:
            on_run(record)
    environment = dict(environment)
    environment.pop("devices", None)
    return WorkersResult(cfg, data, runs, environment)
