"""Training time vs batch size on 1 / 2 / 4 devices (MirroredStrategy), each device count in its own process.

The report ran this on GPUs: batch 4 got slower with more GPUs (each step is mostly synchronisation and
launch overhead, and each GPU got one image), batch 48 faster (enough work per GPU to pay for the all-reduce).
Logical devices are fixed once TensorFlow starts in a process, so every device count runs in a fresh process
(:func:`dltool.engine.workers.run_in_subprocess`: ``python -m dltool.engine.worker_main`` with a JSON config in
and a JSON result out) that first sets up its devices: physical GPUs when the machine has enough, else the
first GPU or the CPU split into N logical devices. Those runs are labelled "virtual": N virtual CPU devices
share the same cores, so they add no hardware. They can still be faster than one device: one device runs a
small step's ops one after another and leaves cores idle, while N replicas run their ops side by side on
those cores (seen here: 2 virtual devices 1.2× faster than 1 at a small batch on a 2-core CPU). Such a
speedup measures how badly one device used the machine, not a gain from a second device.

Report 000's times (1 / 2 / 4 GPUs at batch 4 and 48, one epoch) stand beside ours as "report GPU s"; they are
a GPU's, so no ratio is taken with a CPU time.

Each (devices, batch) setting: one warm-up step (tracing), then ``steps`` timed steps of the global batch
(split evenly over the replicas); step time and images/s are the mean ± standard error over the timed calls,
and "s/epoch" is one pass over the training set (60,000 images) at that rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from dltool.errors import UsageError
from dltool.experiments.mnist import common

MODELS = ("deep", "fast", "mlp", "softmax")
TARGET = "dltool.experiments.mnist.devices:measure"


@dataclass
class DevicesConfig(common.MnistConfig):
    QUICK = dict(devices=[1, 2], batch_sizes=[4, 16], steps=10, model="fast", subset=2_000)

    devices: list[int] = field(default_factory=lambda: [1, 2, 4])
    batch_sizes: list[int] = field(default_factory=lambda: [4, 16, 48])  # global batch
    steps: int = 50  # timed steps per setting
    steps_per_execution: int | None = None  # steps per compiled call, one timing sample each (None: steps/10)
    model: str = "deep"  # deep: Deep-MNIST CNN; fast: the fast99 CNN; mlp: 784-100-10; softmax
    lr: float = 1e-4
    optimizer: str = "adam"
    virtual: bool = False  # force logical devices even when there are enough GPUs
    cross_device_ops: str = "auto"
    precision: str = "fp32"
    dataset: str = "mnist"
    data_dir: Path | None = None
    subset: int | None = None
    seed: int = 0

    def total_runs(self) -> int:
        return len(self.devices) * len(self.batch_sizes)

    def validate(self) -> None:
        from dltool.engine.devices import CROSS_DEVICE_OPS
        from dltool.engine.optimizers import canonical, check_lr

        if self.model not in MODELS:
            raise UsageError(f"unknown model {self.model!r}", f"choose one of {', '.join(MODELS)}")
        if not self.devices or any(d < 1 for d in self.devices):
            raise UsageError("device counts must be ≥ 1", "use e.g. --devices 1,2,4")
        if not self.batch_sizes or any(b < 1 for b in self.batch_sizes):
            raise UsageError("batch sizes must be ≥ 1", "use e.g. --batch-sizes 4,16,48")
        for d in self.devices:
            for b in self.batch_sizes:
                if b % d:
                    raise UsageError(f"global batch {b} does not split evenly over {d} devices",
                                     f"use batch sizes that are multiples of {d}")
        if self.steps < 2 or (self.steps_per_execution is not None and self.steps_per_execution < 1):
            raise UsageError("--steps must be ≥ 2", "use e.g. --steps 50")
        if self.cross_device_ops not in CROSS_DEVICE_OPS:
            raise UsageError(f"unknown cross-device ops {self.cross_device_ops!r}",
                             f"choose one of {', '.join(CROSS_DEVICE_OPS)}")
        from dltool.engine.devices import check_nccl

        check_nccl(self.cross_device_ops, self.virtual)
        canonical(self.optimizer)
        check_lr(self.lr)
        common.dataset_name(self.dataset)


@dataclass
class DevicesRun:
    devices: int
    label: str  # e.g. "4 × CPU (virtual)"
    virtual: bool
    device_type: str
    batch_size: int  # global
    per_device_batch: int
    steps: int
    step_ms: float | None
    step_ms_sem: float | None
    images_per_second: float | None
    images_per_second_sem: float | None
    seconds_per_epoch: float | None  # one pass over the training images at the measured rate
    train_seconds: float
    speedup: float | None = None  # vs 1 device at the same batch (same run of this command)
    reference_gpu_seconds: float | None = None  # report 000 §4.1: its GPUs' training time (one epoch)
    reference_source: str | None = None
    mfu: float | None = None  # model FLOPs utilisation of the timed steps (N virtual devices: one machine's peak)


@dataclass
class DevicesResult(common.MnistResult):
    config: DevicesConfig
    data: dict
    runs: list[DevicesRun]
    setups: dict = field(default_factory=dict)  # per device count: DeviceSetup.to_dict()
    environment: dict = field(default_factory=dict)


def measure(config: dict) -> dict:
    """Worker entry (one device count, a fresh process): set up the devices, time every batch size."""
    import math

    import tensorflow as tf

    from dltool import models
    from dltool.engine import devices, workers
    from dltool.engine.loop import Engine, FitConfig
    from dltool.engine.optimizers import make_optimizer

    progress = workers.RemoteProgress()
    n = int(config["devices"])
    gpus = len(tf.config.list_physical_devices("GPU"))
    virtual = bool(config["virtual"]) or (gpus < n if gpus else n > 1)
    if virtual:
        devices.configure_virtual_devices(n, "GPU" if gpus else "CPU")
    strategy, setup = devices.make_strategy("mirrored", devices=n, virtual=virtual,
                                            cross_device_ops=config["cross_device_ops"])
    data = common.load_arrays(config["dataset"], config.get("data_dir"), subset=config.get("subset"),
                              seed=int(config["seed"]))

    def model_fn():
        return models.build(config["model"], data.input_shape, data.num_classes)

    runs = []
    for batch in config["batch_sizes"]:
        engine = Engine(model_fn, lambda: make_optimizer(config["optimizer"], float(config["lr"])),
                        strategy=strategy, precision=config["precision"], seed=int(config["seed"]))
        label = f"{setup.label} · batch {batch}"
        progress.start_run(label)
        # tf.data for every device count (the in-graph input of one device would not be a fair baseline)
        common.warm_up(engine, data.x_train, data.y_train, int(batch), input="tfdata")
        chunk = int(config.get("steps_per_execution") or max(1, int(config["steps"]) // 10))
        fit = engine.fit(data.x_train, data.y_train,
                         FitConfig(epochs=0, steps=int(config["steps"]), batch_size=int(batch), input="tfdata",
                                   steps_per_execution=chunk, evaluate=False, seed=int(config["seed"])),
                         hooks=progress)
        tp = fit.throughput
        ips = tp.mean if tp is not None and tp.n else None
        step_ms = fit.step_time * 1000 if math.isfinite(fit.step_time) else None
        # relative spread of the rate carries over to the step time (delta method)
        sem = step_ms * tp.sem / tp.mean if step_ms and ips and tp.n > 1 else None
        record = {"devices": n, "label": setup.label, "virtual": setup.virtual, "device_type": setup.device_type,
                  "batch_size": int(batch), "per_device_batch": int(batch) // n, "steps": fit.steps,
                  "step_ms": step_ms,
                  "step_ms_sem": sem, "images_per_second": ips,
                  "images_per_second_sem": tp.sem if ips is not None else None,
                  "seconds_per_epoch": len(data.x_train) / ips if ips else None, "train_seconds": fit.train_seconds,
                  "mfu": fit.mfu}
        runs.append(record)
        workers.report({"event": "mnist_run", "run": record})
        progress.end_run(f"{step_ms or 0:.1f} ms/step, {ips or 0:,.0f} images/s")
    return {"setup": setup.to_dict(), "runs": runs, "data": data.describe,
            "environment": devices.environment(setup, precision=config["precision"])}


def run(cfg: DevicesConfig, on_run: Callable[[DevicesRun], None] | None = None,
        progress: Any = None) -> DevicesResult:
    """Each device count in its own process; every finished (devices, batch) run reaches ``on_run`` at once."""
    cfg.validate()
    from dltool.engine import devices, workers

    gpus = devices.driver_gpu_count()  # without importing TensorFlow here
    devices.check_nccl(cfg.cross_device_ops, any(n > 1 for n in cfg.devices) and gpus < max(cfg.devices))
    devices.launcher_holds_no_gpu()  # this process only loads and plans: no GPU memory held while workers train
    common.load_arrays(cfg.dataset, cfg.data_dir, subset=cfg.subset, seed=cfg.seed)  # missing data: fail here, once

    forward = workers.forward_to(progress)
    runs: list[DevicesRun] = []
    setups: dict = {}
    data: dict = {}
    environment: dict = {}
    base: dict[int, float] = {}

    def accept(doc: dict) -> None:
        record = DevicesRun(**doc)
        if record.devices == min(cfg.devices) == 1 and record.step_ms:
            base[record.batch_size] = record.step_ms
        if record.batch_size in base and record.step_ms:
            record.speedup = base[record.batch_size] / record.step_ms
        if cfg.dataset == "mnist" and cfg.model == "deep":
            record.reference_gpu_seconds = common.DEVICES_GPU_SECONDS.get((record.devices, record.batch_size))
            record.reference_source = common.DEVICES_SOURCE if record.reference_gpu_seconds else None
        runs.append(record)
        if on_run is not None:
            on_run(record)

    for n in cfg.devices:
        seen = len(runs)

        def on_event(index: int, event: dict) -> None:
            if event.get("event") == "mnist_run":
                accept(event["run"])
            else:
                forward(index, event)

        doc = asdict(cfg)
        doc.update(devices=n, data_dir=str(cfg.data_dir) if cfg.data_dir else None)
        out = workers.run_in_subprocess(TARGET, doc, on_event=on_event)
        delivered = len(runs) - seen
        for record in out["runs"][delivered:]:  # any run whose event did not arrive
            accept(record)
        setups[str(n)] = out["setup"]
        data, environment = out["data"], out["environment"]
    environment = dict(environment)
    environment.pop("devices", None)
    return DevicesResult(cfg, data, runs, setups, environment)
