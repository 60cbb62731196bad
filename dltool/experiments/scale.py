"""scale: strong and weak data-parallel scaling, measured the way tf_cnn_benchmarks and Horovod's synthetic
benchmark measure it (warmup excluded, throughput as mean ± σ/√n over the timed calls).

- Strong scaling: the global batch is fixed (default 256), each of N learners gets 256/N. Speedup
  S(N) = X(N)/X(1) (X = examples/s), efficiency E(N) = S(N)/N.
- Weak scaling: the per-learner batch is fixed (default 64), the global batch is N·64. Efficiency
  E_w(N) = t_iter(1)/t_iter(N) — 1.0 when N learners take as long per step as one.
  When the smallest count N0 is not 1, speedups are N0·X(N)/X(N0) (linear up to N0 assumed).
- Per count: mean step time (warmup excluded), throughput mean ± σ/√n, time per epoch = ⌊n_train/B⌋ · t_step,
  training time for ``epochs`` (or ``steps``) = steps · t_step, cost = N · hours · price per learner-hour.
- Learners: MirroredStrategy over N GPUs, or N logical devices carved out of one GPU or the CPU
  (``virtual``: every number is labelled so); MultiWorkerMirroredStrategy over N local worker processes
  (127.0.0.1, free ports, TF_CONFIG), or this process as a task of a cluster given by TF_CONFIG.
  Logical devices are fixed per process, so every learner count runs in its own process
  (:mod:`dltool.engine.workers`); a strong and a weak run with the same global batch share one measurement.
- Data: Fashion-MNIST 28×28×1 is zero-padded by 2 pixels per side to 32×32 and its grey channel repeated 3×
  for the 32×32×3 models (ResNet-50, CIFAR ResNets). This happens in the model's first layers (Rescaling →
  ZeroPadding2D → Concatenate), so the input pipeline ships uint8 28×28×1 images (12× fewer bytes than
  float32 32×32×3). Padding keeps every pixel (a resize would interpolate). ``synthetic``: random uint8
  images of the model's own input shape, an epoch counted as 60,000 examples (Fashion-MNIST's size).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from dltool.errors import MissingError, RunError, UsageError

DEFAULT_LEARNERS = (1, 2, 4, 8)
STRONG_GLOBAL_BATCH = 256
WEAK_PER_LEARNER_BATCH = 64
DEFAULT_PRICE = 0.45  # US$ per learner-hour
PRICE_SOURCE = ("GCP on-demand NVIDIA K80, $0.45 per GPU-hour (cloud.google.com/compute/gpus-pricing, "
                "2019 list price, us-central1)")
SYNTHETIC_EPOCH = 60_000  # examples per "epoch" of synthetic data
SYNTHETIC_POOL = 4096  # distinct synthetic images, repeated
MODES = ("strong", "weak", "both")
STRATEGIES = ("mirrored", "multiworker")
DATASETS = ("fashion_mnist", "mnist", "cifar10", "synthetic")
SMALL_MODELS = ("deep_mnist_cnn", "mlp", "softmax")
INPUT_ADAPTATION = ("28×28×1 → 32×32×3: zero-pad 2 px per side, repeat the grey channel 3× "
                    "(model layers: Rescaling → ZeroPadding2D → Concatenate)")


def canonical_model(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace("resnet_", "resnet")
    if key in ("resnet50", *SMALL_MODELS) or key == "cifar_resnet":
        return "resnet20" if key == "cifar_resnet" else key
    if key.startswith("resnet") and key[6:].isdigit():
        depth = int(key[6:])
        if depth >= 8 and (depth - 2) % 6 == 0:
            return key
    raise UsageError(f"unknown model {name!r} for scale",
                     "use resnet50, a CIFAR ResNet (resnet20, resnet32, resnet44, resnet56, resnet110), "
                     "deep_mnist_cnn, mlp or softmax")


def canonical_dataset(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}", "use fashion-mnist, mnist, cifar10 or synthetic")
    return key


def needs_rgb32(model: str) -> bool:
    return model.startswith("resnet")


@dataclass
class ScaleConfig:
    strategy: str = "mirrored"  # mirrored | multiworker
    learners: list[int] | None = None  # device counts (mirrored) or worker counts (multiworker); None: 1,2,4,8
    virtual: bool = False  # logical devices split from one GPU or the CPU
    mode: str = "both"  # strong | weak | both
    model: str = "resnet50"
    dataset: str = "fashion_mnist"
    global_batch: int = STRONG_GLOBAL_BATCH  # strong scaling: fixed global batch
    per_learner_batch: int = WEAK_PER_LEARNER_BATCH  # weak scaling: fixed batch per learner
    epochs: int = 10  # training time is reported for this many epochs …
    steps: int | None = None  # … or for this many steps (each run trains exactly this many)
    warmup_steps: int | None = None  # None: max(one call, 20 % of the steps up to 10)
    steps_per_execution: int | None = None  # None: max(1, min(50, steps/epoch, steps/10))
    lr: float = 0.01
    momentum: float = 0.9
    price_per_hour: float = DEFAULT_PRICE  # US$ per learner-hour
    cross_device_ops: str = "auto"  # mirrored
    communication: str = "auto"  # multiworker
    collective_timeout_s: float = 60.0  # a lost peer becomes an error on the others within this
    precision: str = "fp32"
    xla: bool = False
    seed: int = 0
    data_dir: str | None = None
    join: bool = False  # multiworker: this process is a task of the cluster TF_CONFIG describes

    def validate(self) -> list[int]:
        """Checks every value (UsageError) and returns the learner counts, sorted."""
        if self.strategy not in STRATEGIES:
            raise UsageError(f"unknown strategy {self.strategy!r}", "use --strategy mirrored or multiworker")
        if self.mode not in MODES:
            raise UsageError(f"unknown mode {self.mode!r}", "use --mode strong, weak or both")
        self.model = canonical_model(self.model)
        self.dataset = canonical_dataset(self.dataset)
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
        if not (self.price_per_hour >= 0 and math.isfinite(self.price_per_hour)):
            raise UsageError(f"--price-per-hour must be ≥ 0, got {self.price_per_hour}", "use e.g. 0.45")
        if self.lr <= 0:
            raise UsageError(f"--lr must be positive, got {self.lr}", "use e.g. --lr 0.01")
        if self.collective_timeout_s <= 0:
            raise UsageError("--timeout must be positive", "use e.g. --timeout 60")
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
    epoch_seconds: float  # steps_per_epoch × step_time
    train_steps: int  # steps of the requested work (--steps, or --epochs × steps per epoch)
    train_seconds: float  # train_steps × step_time
    cost: float  # learners × train hours × price per learner-hour
    final_loss: float | None
    status: str
    shared_measurement: bool = False  # the strong and weak run had the same global batch: measured once
    speedup: float | None = None  # filled when the sweep is complete
    efficiency: float | None = None


@dataclass
class ScaleResult:
    config: ScaleConfig
    runs: list[LearnerRun]
    model: str
    parameters: int
    dataset: dict
    input_adaptation: str | None
    price_per_hour: float
    price_source: str
    virtual: bool
    device_kind: str  # e.g. "CPU (virtual)" or "GPU" or "CPU, local worker processes"
    baseline_learners: dict  # mode → N0 the speedups are relative to
    setups: dict = field(default_factory=dict)  # learners → DeviceSetup dict
    environment: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def rows(self, mode: str) -> list[LearnerRun]:
        return [r for r in self.runs if r.mode == mode]

    def to_dict(self) -> dict:
        return asdict(self)


# ---- planning in the launcher ----------------------------------------------------------------------------

def schedule(total_steps: int, steps_per_epoch: int, cfg_spe: int | None, cfg_warmup: int | None) -> tuple[int, int]:
    """(steps per compiled call, warmup steps) for a run of ``total_steps``."""
    chunk = cfg_spe or max(1, min(50, steps_per_epoch, total_steps // 10))
    warmup = cfg_warmup or max(chunk, min(10, total_steps // 5))
    return chunk, warmup


def _physical_gpus() -> int:
    from dltool.engine.devices import physical_gpus

    return physical_gpus()


def check_devices(cfg: ScaleConfig, learners: list[int]) -> int:
    """Exit-3 errors for more learners than devices; returns the number of physical GPUs."""
    gpus = _physical_gpus()
    top = max(learners)
    if cfg.strategy == "mirrored" and not cfg.virtual:
        if gpus == 0 and top > 1:
            raise MissingError(f"asked for {top} GPUs but this machine has none",
                               f"add --virtual to split the CPU into {top} logical devices (numbers labelled "
                               f"virtual), or use --gpus 1")
        if gpus and top > gpus:
            raise MissingError(f"asked for {top} GPUs but this machine has {gpus}",
                               f"use --gpus {gpus} or fewer, or add --virtual to split one GPU into {top}")
    if cfg.strategy == "multiworker" and not cfg.join and gpus and top > gpus:
        raise MissingError(f"{top} local workers need {top} GPUs (one each) but this machine has {gpus}",
                           f"use --workers {gpus} or fewer, or CUDA_VISIBLE_DEVICES= to run the workers on CPU")
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
    gpus = check_devices(cfg, learners)
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
            out = workers.run_in_subprocess(target, doc, on_event=on_event, log_dir=logs)
        elif cfg.join:
            out = workers.join(target, doc, on_event=on_event)
        else:
            env = [{"CUDA_VISIBLE_DEVICES": str(i)} for i in range(n)] if gpus else None
            outs = workers.launch(target, doc, n, on_event=on_event, log_dir=logs, worker_env=env)
            out = outs[0]
            _check_workers_agree(outs)
        meta = out
        setup = out["setup"]
        replicas = int(setup["num_replicas"])
        setups[replicas] = setup
        for m in out["runs"]:
            for mode in m["modes"]:
                record = _record(cfg, mode, replicas, setup, m, shared=len(m["modes"]) > 1)
                runs.append(record)
                if on_run is not None:
                    on_run(record)
    baselines = _derive(runs)
    virtual = any(s.get("virtual") for s in setups.values())
    any_setup = next(iter(setups.values()), {})
    kind = any_setup.get("device_type", "CPU") + (" (virtual)" if virtual else "")
    if cfg.strategy == "multiworker":
        kind += ", one worker process per learner" + ("" if cfg.join else " on this host")
    notes = []
    if virtual:
        notes.append("VIRTUAL devices: logical devices carved out of one " + any_setup.get("device_type", "CPU")
                     + " share its cores and memory bandwidth — these numbers show the software path, not the "
                       "speed of separate accelerators.")
    if cfg.strategy == "multiworker" and not cfg.join and not gpus:
        notes.append("Local CPU workers share this host's cores: more workers split the same CPU.")
    return ScaleResult(config=cfg, runs=runs, model=cfg.model, parameters=int(meta.get("parameters", 0)),
                       dataset=meta.get("dataset", {}), input_adaptation=meta.get("input_adaptation"),
                       price_per_hour=cfg.price_per_hour, price_source=PRICE_SOURCE if cfg.price_per_hour ==
                       DEFAULT_PRICE else "given with --price-per-hour", virtual=virtual, device_kind=kind,
                       baseline_learners=baselines, setups={str(k): v for k, v in setups.items()},
                       environment=meta.get("environment", {}), notes=notes)


def _check_workers_agree(outs: list[dict]) -> None:
    """Every worker of a synchronous cluster trained the same model: their losses must match the chief's."""
    chief = [m.get("final_loss") for m in outs[0]["runs"]]
    for index, other in enumerate(outs[1:], start=1):
        theirs = [m.get("final_loss") for m in other["runs"]]
        for a, b in zip(chief, theirs):
            if a is not None and b is not None and abs(a - b) > 1e-4 * max(1.0, abs(a)):
                raise RunError(f"worker {index} ended with loss {b:.6g} but the chief with {a:.6g}",
                               "the workers did not train in sync; check that every worker runs the same version")


def _record(cfg: ScaleConfig, mode: str, n: int, setup: dict, m: dict, shared: bool) -> LearnerRun:
    step_time = m["step_time"] if m["step_time"] is not None else float("nan")
    thr = m.get("throughput") or {}
    train_steps = cfg.steps if cfg.steps is not None else cfg.epochs * m["steps_per_epoch"]
    train_seconds = train_steps * step_time
    return LearnerRun(
        mode=mode, learners=n, devices=setup.get("label", f"{n}"), virtual=bool(setup.get("virtual")),
        global_batch=m["global_batch"], per_learner_batch=m["global_batch"] // n, steps=m["steps"],
        timed_calls=int(thr.get("n") or 0), step_time=step_time,
        throughput=thr.get("mean") if thr.get("mean") is not None else float("nan"),
        throughput_sem=thr.get("sem") if thr.get("sem") is not None else float("nan"),
        steps_per_epoch=m["steps_per_epoch"], epoch_seconds=m["steps_per_epoch"] * step_time,
        train_steps=train_steps, train_seconds=train_seconds,
        cost=n * train_seconds / 3600.0 * cfg.price_per_hour, final_loss=m.get("final_loss"),
        status=m.get("status", "finished"), shared_measurement=shared)


def _derive(runs: list[LearnerRun]) -> dict:
    """Speedup N0·X(N)/X(N0) and efficiency (strong S/N; weak t_iter(N0)/t_iter(N))."""
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
            else:
                r.efficiency = base.step_time / r.step_time if r.step_time > 0 else None
    return baselines


# ---- in the worker process ---------------------------------------------------------------------------------

def build_model(name: str, data_shape: tuple[int, ...], num_classes: int = 10):
    """The model with the input adaptation in front: uint8 images in, logits out."""
    import keras

    from dltool import models

    h, w, c = data_shape
    native = (max(h, 32), max(w, 32), 3) if needs_rgb32(name) else tuple(data_shape)
    base = models.build(name, native, num_classes)
    inputs = keras.Input(tuple(data_shape), dtype="uint8", name="images")
    x = keras.layers.Rescaling(1.0 / 255, name="to_unit_range")(inputs)
    if native[:2] != (h, w):
        dh, dw = native[0] - h, native[1] - w
        x = keras.layers.ZeroPadding2D(((dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2)), name="pad_to_32")(x)
    if native[2] != c:
        x = keras.layers.Concatenate(name="grey_to_rgb")([x] * native[2])
    return keras.Model(inputs, base(x), name=f"{name}_scale")


def load_data(dataset: str, rgb32: bool, seed: int = 0, data_dir: str | None = None):
    """(x, y, n_train, dataset description): uint8 arrays, or a tf.data.Dataset of pairs for synthetic data."""
    import numpy as np

    if dataset == "synthetic":
        import tensorflow as tf

        from dltool.data.synthetic import synthetic_images

        shape = (32, 32, 3) if rgb32 else (28, 28, 1)
        pool = SYNTHETIC_POOL
        x, y = synthetic_images(pool, shape, 10, seed=seed)
        ds = tf.data.Dataset.from_tensor_slices((x, y)).repeat().take(SYNTHETIC_EPOCH)
        return ds, None, SYNTHETIC_EPOCH, {"name": "synthetic", "input_shape": list(shape), "train": SYNTHETIC_EPOCH,
                                           "distinct_images": pool, "num_classes": 10}
    from dltool.data import load

    data = load(dataset, data_dir)
    return data.x_train, np.asarray(data.y_train, "int64"), data.num_train, data.describe()


def train_throughput(strategy, model_name: str, x, y, data_shape, *, batch: int, steps: int,
                     steps_per_epoch: int, steps_per_execution: int | None = None, warmup_steps: int | None = None,
                     epochs: int | None = None, lr: float = 0.01, momentum: float = 0.9, precision: str = "fp32",
                     xla: bool = False, seed: int = 0, shuffle: bool = True, progress: Any = None,
                     label: str = "") -> dict:
    """Train ``steps`` steps of the global ``batch`` through the engine and return the timing (JSON types)."""
    from dltool.engine.loop import Engine, FitConfig, set_seed
    from dltool.engine.optimizers import make_optimizer

    chunk, warmup = schedule(steps, steps_per_epoch, steps_per_execution, warmup_steps)
    if steps <= warmup:
        raise UsageError(f"{steps} steps leave nothing to time after {warmup} warmup steps",
                         f"use --steps {warmup + 4 * chunk} or more, or fewer --warmup-steps")
    set_seed(seed)
    engine = Engine(lambda: build_model(model_name, tuple(data_shape)),
                    lambda: make_optimizer("momentum", lr, momentum=momentum),
                    strategy=strategy, precision=precision, jit_compile=xla)
    if progress is not None:
        progress.start_run(label)
    fit = engine.fit(x, y, FitConfig(epochs=epochs or 0, steps=steps, batch_size=batch, steps_per_execution=chunk,
                                     warmup_steps=warmup, shuffle=shuffle, seed=seed, evaluate=False,
                                     input="tfdata"),  # the same input path for every learner count
                     hooks=progress)
    thr = fit.throughput.to_dict() if fit.throughput else {}
    if progress is not None:
        progress.end_run(f"{thr.get('mean', float('nan')):.1f} examples/s")
    return {"global_batch": batch, "steps": fit.steps, "status": fit.status,
            "step_time": fit.step_time if math.isfinite(fit.step_time) else None,
            "throughput": {k: (v if isinstance(v, int) or math.isfinite(v) else None) for k, v in thr.items()},
            "train_seconds": fit.train_seconds, "wall_seconds": fit.wall_seconds,
            "steps_per_epoch": steps_per_epoch, "steps_per_execution": chunk, "warmup_steps": warmup,
            "final_loss": fit.final_loss if fit.losses else None,
            "parameters": int(engine.model.count_params())}


def measure(config: dict) -> dict:
    """Worker entry (one learner count): build the strategy, then time each strong/weak run."""
    from dltool.engine import devices, workers

    progress = workers.RemoteProgress()
    n = int(config["learners"])
    if config["strategy"] == "mirrored":
        if config["virtual"]:
            devices.configure_virtual_devices(n)
        strategy, setup = devices.make_strategy("mirrored", devices=n, virtual=config["virtual"],
                                                cross_device_ops=config["cross_device_ops"])
    else:
        strategy, setup = devices.make_strategy("multiworker", communication=config["communication"],
                                                timeout_s=config["collective_timeout_s"])
    model_name = config["model"]
    rgb32 = needs_rgb32(model_name)
    x, y, n_train, described = load_data(config["dataset"], rgb32, int(config["seed"]), config.get("data_dir"))
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
            strategy, model_name, x, y, data_shape, batch=batch, steps=total, steps_per_epoch=steps_per_epoch,
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
