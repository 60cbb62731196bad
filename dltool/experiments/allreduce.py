"""allreduce: TensorFlow's all-reduce implementations compared — a microbenchmark in the style of nccl-tests and
the training throughput each one gives.

- MirroredStrategy cross-device ops ``nccl`` (NcclAllReduce), ``hierarchical-copy`` (HierarchicalCopyAllReduce)
  and ``reduction-to-one-device`` (ReductionToOneDevice) on 1, 2, 4, 8 devices; MultiWorkerMirroredStrategy
  communication ``auto``, ``nccl``, ``ring`` on W ≥ 2 worker processes (127.0.0.1, free ports).
- Microbenchmark: a SUM all-reduce, inside ``strategy.run`` under ``tf.function`` (the path training takes),
  of one float32 tensor per message size (4 KiB … 256 MiB, ×4) and of the model's own gradient list.
  Per size: median time t over the timed calls (warmup excluded; the median resists other processes'
  interference), ± σ/√n, algbw = S/t, busbw = algbw · 2(n−1)/n
  (nccl-tests' definitions: busbw is comparable with the link bandwidth whatever n is).
- α–β ring model: t(S) = 2(n−1)·α + 2(n−1)/n · S/B. α = (smaller t of the two smallest sizes)/(2(n−1));
  B from the two largest sizes, B = 2(n−1)/n · S / (t − 2(n−1)α), averaged. The model's prediction is printed
  beside every measurement (for the gradient list too, where per-tensor overheads show as the excess).
- Reference: this machine's memcpy bandwidth, a numpy copy of 256 MiB (``MEMCPY_BYTES``, the same whatever the
  message sizes: far above the CPU caches, so it is DRAM bandwidth); on CPU devices each row's busbw is also
  given as a share of it.
- Training throughput: the same batch per device for every n, so perfect scaling gives n × the throughput of the
  1-device row ("vs 1 device" = X(n)/X(1), efficiency = that / n); the 1-device row needs 1 among the counts.
- Verification: inputs are integer-valued float32 (uniform in −8…8) per replica from a seeded generator, so the
  float32 sum is exact whatever the order of additions: every replica's result must equal the numpy sum exactly.
- Facts this relies on, checked here (TF 2.21): NcclAllReduce has no CPU kernel, so NCCL without GPUs is a row
  saying "unavailable" and why; HierarchicalCopyAllReduce assumes two groups of devices (the DGX-1 layout) and
  gives wrong sums on 3 and 5 devices (measured: max error ≈ 3 with inputs of unit scale; right on 6), so it
  is refused for N outside {2, 4, 8}; with one device no all-reduce runs at all (training with N = 1 is the
  baseline row).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dltool import models
from dltool.engine.ring import ring_time
from dltool.errors import MissingError, UsageError
from dltool.experiments.config import ExperimentConfig
from dltool.units import human_bytes

IMPLEMENTATIONS = ("nccl", "hierarchical-copy", "reduction-to-one-device")
COMMUNICATIONS = ("auto", "nccl", "ring")
DEFAULT_DEVICES = (1, 2, 4, 8)
HIERARCHICAL_OK = (2, 4, 8)
KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
TRAFFIC_PER_SIZE = 2 * GIB  # timed calls per size = clamp(traffic / S, 3, iterations)
# memcpy reference: one fixed size far above the CPU caches (L3 is 32 MiB on the machine these docs were measured
# on), whatever the message sizes, so busbw is compared with DRAM bandwidth and not with a copy inside a cache
# (a 256 KiB copy measured 43.8 GB/s here, 3.4× the 12.8 GB/s of a 256 MiB copy)
MEMCPY_BYTES = 256 * MIB


def parse_size(text: str | int | None, option: str = "--max-size") -> int | None:
    """'4K', '256M', '1G', '4096' → bytes (binary multiples); None (not given) stays None."""
    if text is None or isinstance(text, int):
        return text
    raw = str(text).strip().upper().removesuffix("B").removesuffix("I")
    scale = 1
    if raw and raw[-1] in "KMG":
        scale = {"K": KIB, "M": MIB, "G": GIB}[raw[-1]]
        raw = raw[:-1]
    try:
        value = int(float(raw) * scale)
    except ValueError:
        raise UsageError(f"{option} got {text!r}, which is not a size", f"use e.g. {option} 256M or 4K") from None
    if value < 4:
        raise UsageError(f"{option} must be at least 4 bytes (one float32), got {text!r}", f"use e.g. {option} 4K")
    return value


def bus_factor(n: int) -> float:
    return 2 * (n - 1) / n if n > 1 else 0.0


@dataclass
class AllreduceConfig(ExperimentConfig):
    # --quick: 1 device is the training baseline ("vs 1 device"), 2 virtual devices the smallest all-reduce
    QUICK = dict(devices=[1, 2], virtual=True, max_bytes=256 * KIB, model="softmax", train_steps=4,
                 per_device_batch=16, iterations=3, communications=["ring"])
    SUMMARY = ("bus", "train", "fits", "memcpy_bandwidth", "memcpy_bytes", "notes", "gradient_tensors",
               "gradient_bytes")

    devices: list[int] | None = None  # MirroredStrategy device counts; None: 1, 2, 4, 8
    virtual: bool = False
    implementations: list[str] | None = None  # None: all three
    workers: int = 2  # MultiWorkerMirroredStrategy worker processes; 0 skips that part
    communications: list[str] | None = None  # None: auto, nccl, ring
    min_bytes: int = 4 * KIB
    max_bytes: int = 256 * MIB
    factor: int = 4  # message sizes min, min·factor, … ≤ max
    iterations: int = 20  # timed calls per size at most (fewer for big messages: 2 GiB of traffic per size)
    warmup: int = 2  # untimed calls per size (the first one traces and is checked against numpy)
    model: str = "resnet50"  # its gradient list is one message; and it is trained for throughput
    train: bool = True
    train_steps: int = 10
    per_device_batch: int = 32
    gradients: bool = True  # all-reduce the model's gradient list as a message
    precision: str = "fp32"
    collective_timeout_s: float | None = None  # None: none (TF documents it as a debugging aid)
    seed: int = 0

    def validate(self) -> list[int]:
        devices = sorted(set(self.devices or DEFAULT_DEVICES))
        if any(n < 1 for n in devices):
            raise UsageError(f"device counts must be ≥ 1, got {devices}", "use e.g. --devices 1,2,4,8")
        self.implementations = [_canonical(i, IMPLEMENTATIONS, "--implementations")
                                for i in (self.implementations or IMPLEMENTATIONS)]
        self.communications = [_canonical(c, COMMUNICATIONS, "--communications")
                               for c in (self.communications or COMMUNICATIONS)]
        if self.workers < 0 or self.workers == 1:
            raise UsageError(f"--workers must be 0 (skip) or ≥ 2, got {self.workers}", "use e.g. --workers 2")
        if self.min_bytes > self.max_bytes:
            raise UsageError(f"--min-size {self.min_bytes} is above --max-size {self.max_bytes}",
                             "give the smaller size first, e.g. --min-size 4K --max-size 256M")
        if self.factor < 2:
            raise UsageError(f"--factor must be ≥ 2, got {self.factor}", "use e.g. --factor 4")
        if self.iterations < 1 or self.warmup < 1:
            raise UsageError("--iterations and --warmup must be ≥ 1", "use e.g. --iterations 20 --warmup 2")
        if self.train and (self.train_steps < 3 or self.per_device_batch < 1):
            raise UsageError("training needs --steps ≥ 3 and --batch-size ≥ 1", "use e.g. --steps 10")
        if self.collective_timeout_s is not None and not (0 < self.collective_timeout_s < float("inf")):
            raise UsageError(f"--timeout must be positive, got {self.collective_timeout_s}",
                             "use e.g. --timeout 600, or leave it out for no collective timeout")
        self.model = models.canonical(self.model, models.THROUGHPUT_MODELS, "allreduce")
        return devices

    def total_runs(self) -> int:
        mirrored = sum(len(self.implementations) if n > 1 else 1 for n in self.validate())
        return mirrored + (len(self.communications) if self.workers >= 2 else 0)

    def sizes(self) -> list[int]:
        out, size = [], self.min_bytes
        while size <= self.max_bytes:
            out.append(size - size % 4)
            size *= self.factor
        return out


def _canonical(name: str, allowed: tuple[str, ...], option: str) -> str:
    key = name.strip().lower().replace("_", "-")
    aliases = {"hierarchical": "hierarchical-copy", "reduction": "reduction-to-one-device",
               "reduce-to-one": "reduction-to-one-device", "one-device": "reduction-to-one-device"}
    key = aliases.get(key, key)
    if key not in allowed:
        raise UsageError(f"{option} got {name!r}", f"choose from {', '.join(allowed)}")
    return key


@dataclass
class BusRow:
    strategy: str  # mirrored | multiworker
    implementation: str
    devices: int  # replicas n taking part
    virtual: bool
    message: str  # "4 KiB" or "gradients (214 tensors)"
    bytes: int
    tensors: int
    time_s: float | None
    time_sem: float | None
    iterations: int
    algbw: float | None  # bytes/s
    busbw: float | None  # bytes/s
    predicted_s: float | None = None  # α–β ring model
    memcpy_share: float | None = None  # busbw / this machine's memcpy bandwidth (CPU devices only)
    verified: bool | None = None  # every replica's result equals the numpy sum exactly
    max_error: float | None = None
    status: str = "ok"  # ok | WRONG SUM | unavailable | refused
    reason: str | None = None


@dataclass
class TrainRow:
    strategy: str
    implementation: str
    devices: int
    virtual: bool
    per_device_batch: int
    global_batch: int
    step_time: float | None
    throughput: float | None
    throughput_sem: float | None
    speedup: float | None = None  # vs the 1-device row
    efficiency: float | None = None
    status: str = "ok"
    reason: str | None = None


@dataclass
class ModelFit:
    strategy: str
    implementation: str
    devices: int
    alpha_s: float
    bandwidth: float  # bytes/s


@dataclass
class AllreduceResult:
    config: AllreduceConfig
    bus: list[BusRow]
    train: list[TrainRow]
    fits: list[ModelFit]
    model: str
    gradient_tensors: int
    gradient_bytes: int
    memcpy_bandwidth: float  # bytes/s, numpy copy of memcpy_bytes
    device_type: str
    memcpy_bytes: int = MEMCPY_BYTES
    environment: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# ---- in the launcher -----------------------------------------------------------------------------------------

def memcpy_bandwidth(size: int = MEMCPY_BYTES, repeats: int = 5) -> float:
    """This machine's copy bandwidth (bytes/s): numpy copy of ``size`` bytes, best of ``repeats``."""
    n = max(1, size // 4)
    src = np.ones(n, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # touch the pages first
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return src.nbytes / best


def fit_alpha_beta(rows: list[BusRow]) -> ModelFit | None:
    """α from the smallest message, B from the two largest (see the module docstring); None if n < 2."""
    sized = sorted((r for r in rows if r.tensors == 1 and r.time_s), key=lambda r: r.bytes)
    if len(sized) < 2 or sized[0].devices < 2:
        return None
    n = sized[0].devices
    alpha = min(r.time_s for r in sized[:2]) / (2 * (n - 1))
    estimates = []
    for r in sized[-2:]:
        transfer = r.time_s - 2 * (n - 1) * alpha
        if transfer <= 0:
            transfer = r.time_s
        estimates.append(bus_factor(n) * r.bytes / transfer)
    first = sized[0]
    return ModelFit(first.strategy, first.implementation, n, alpha, float(np.mean(estimates)))


def run(cfg: AllreduceConfig, on_run: Callable[[dict], None] | None = None, progress: Any = None,
        log_dir: Path | None = None) -> AllreduceResult:
    from dltool.engine import workers
    from dltool.engine.devices import gpu_mask, launcher_holds_no_gpu, physical_gpus, worker_gpu_env

    devices = cfg.validate()
    gpus = physical_gpus()
    launcher_holds_no_gpu()  # this process only plans: no GPU memory held here while the workers measure
    if not cfg.virtual and max(devices) > max(gpus, 1):
        raise MissingError(f"asked for {max(devices)} devices but this machine has {gpus} GPUs",
                           f"add --virtual to split {'one GPU' if gpus else 'the CPU'} into {max(devices)} "
                           "logical devices (numbers labelled virtual), or lower --devices")
    device_type = "GPU" if gpus else "CPU"
    bus: list[BusRow] = []
    train: list[TrainRow] = []
    gradient_info = {"tensors": 0, "bytes": 0}
    environment: dict = {}
    on_event = workers.forward_to(progress)
    sizes = cfg.sizes()
    memcpy = memcpy_bandwidth(MEMCPY_BYTES)  # fixed size, not the largest message: see MEMCPY_BYTES
    base = {k: v for k, v in asdict(cfg).items()}

    def emit(group: dict) -> None:
        if on_run is not None:
            on_run(group)

    for n in devices:
        runnable, skipped = [], []
        for impl in (cfg.implementations if n > 1 else ["none"]):
            reason = _why_not_mirrored(impl, n, device_type, cfg.virtual)
            (skipped if reason else runnable).append((impl, reason))
        for impl, reason in skipped:
            status = "refused" if impl == "hierarchical-copy" else "unavailable"
            bus.append(BusRow("mirrored", impl, n, cfg.virtual, "—", 0, 0, None, None, 0, None, None,
                              status=status, reason=reason))
            if cfg.train:
                train.append(TrainRow("mirrored", impl, n, cfg.virtual, cfg.per_device_batch,
                                      cfg.per_device_batch * n, None, None, None, status=status, reason=reason))
            emit({"strategy": "mirrored", "implementation": impl, "devices": n, "status": status, "reason": reason})
            _skip_progress(progress, f"mirrored {impl} × {n}", status)
        if not runnable:
            continue
        doc = dict(base, devices=n, sizes=sizes, implementations=[i for i, _ in runnable])
        logs = None if log_dir is None else Path(log_dir) / f"devices-{n}"
        out = workers.run_in_subprocess("dltool.experiments.allreduce:measure_mirrored", doc, on_event=on_event,
                                        log_dir=logs, env=gpu_mask(1 if cfg.virtual else n, gpus))
        environment = environment or out.get("environment", {})
        gradient_info = out.get("gradients") or gradient_info
        for group in out["groups"]:
            _collect(group, bus, train, cfg)
            emit(group)

    if cfg.workers >= 2:
        for comm in cfg.communications:
            reason = None
            if comm == "nccl" and not gpus:
                reason = "NCCL needs GPUs: there is no CPU implementation of NCCL collectives (this host has none)"
            if reason:
                bus.append(BusRow("multiworker", comm, cfg.workers, False, "—", 0, 0, None, None, 0, None, None,
                                  status="unavailable", reason=reason))
                if cfg.train:
                    train.append(TrainRow("multiworker", comm, cfg.workers, False, cfg.per_device_batch,
                                          cfg.per_device_batch * cfg.workers, None, None, None,
                                          status="unavailable", reason=reason))
                emit({"strategy": "multiworker", "implementation": comm, "devices": cfg.workers,
                      "status": "unavailable", "reason": reason})
                _skip_progress(progress, f"multiworker {comm} × {cfg.workers}", "unavailable")
                continue
            doc = dict(base, communication=comm, sizes=sizes)
            logs = None if log_dir is None else Path(log_dir) / f"workers-{comm}"
            env = worker_gpu_env(cfg.workers, gpus, what="workers (--workers)")  # one GPU each, or exit 3
            outs = workers.launch("dltool.experiments.allreduce:measure_multiworker", doc, cfg.workers,
                                  on_event=on_event, log_dir=logs, worker_env=env)
            group = outs[0]["groups"][0]
            for other in outs[1:]:  # every worker checked its own replicas' results
                for row, theirs in zip(group["bus"], other["groups"][0]["bus"]):
                    row["verified"] = bool(row.get("verified")) and bool(theirs.get("verified"))
                    errors = [e for e in (row.get("max_error"), theirs.get("max_error")) if e is not None]
                    row["max_error"] = max(errors) if errors else None
                    if not row["verified"]:
                        row["status"] = "WRONG SUM"
            environment = environment or outs[0].get("environment", {})
            gradient_info = outs[0].get("gradients") or gradient_info
            _collect(group, bus, train, cfg)
            emit(group)

    fits = _fit_all(bus)
    _derive_training(train)
    if device_type == "CPU":  # GPU links are not host memory: no share for them
        for r in bus:
            if r.busbw:
                r.memcpy_share = r.busbw / memcpy
    notes = []
    if cfg.train and train and not any(t.devices == 1 and t.throughput for t in train):
        notes.append("vs 1 device / efficiency: '—' because 1 is not among the device counts (add it, e.g. "
                     "--devices 1,2,4, to measure the 1-device baseline).")
    if cfg.virtual:
        notes.append(f"VIRTUAL devices: the mirrored rows run on logical devices carved out of one {device_type}; "
                     "their bandwidths are memory copies inside one process, not links between accelerators.")
    if cfg.workers >= 2 and not gpus:
        notes.append("multiworker rows: worker processes on this host talk over gRPC on 127.0.0.1 (loopback TCP); "
                     "'auto' resolves to RING without GPUs.")
    return AllreduceResult(cfg, bus, train, fits, cfg.model, int(gradient_info.get("tensors", 0)),
                           int(gradient_info.get("bytes", 0)), memcpy, device_type, MEMCPY_BYTES, environment,
                           notes)


def _skip_progress(progress, label: str, status: str) -> None:
    if progress is not None:
        progress.start_run(label)
        progress.end_run(status)


def _why_not_mirrored(impl: str, n: int, device_type: str, virtual: bool) -> str | None:
    if impl == "nccl" and device_type != "GPU":
        return "NcclAllReduce has no CPU kernel: NCCL needs GPUs (this run uses CPU devices)"
    if impl == "nccl" and virtual:
        return "NCCL cannot put several ranks on one physical GPU (the devices are virtual)"
    if impl == "hierarchical-copy" and n not in HIERARCHICAL_OK:
        return (f"HierarchicalCopyAllReduce assumes 2 groups of devices (DGX-1); refused for {n} devices "
                "(wrong sums measured on 3 and 5)")
    return None


def _collect(group: dict, bus: list[BusRow], train: list[TrainRow], cfg: AllreduceConfig) -> None:
    for row in group.get("bus", []):
        bus.append(BusRow(**row))
    if group.get("train"):
        train.append(TrainRow(**group["train"]))


def _fit_all(bus: list[BusRow]) -> list[ModelFit]:
    fits = []
    keys = []
    for r in bus:
        key = (r.strategy, r.implementation, r.devices)
        if r.status in ("ok", "WRONG SUM") and key not in keys:
            keys.append(key)
    for key in keys:
        rows = [r for r in bus if (r.strategy, r.implementation, r.devices) == key and r.time_s]
        fit = fit_alpha_beta(rows)
        if fit is None:
            continue
        fits.append(fit)
        for r in rows:
            r.predicted_s = ring_time(r.bytes, r.devices, fit.alpha_s, fit.bandwidth)
    return fits


def _derive_training(train: list[TrainRow]) -> None:
    base = next((t for t in train if t.devices == 1 and t.throughput), None)
    if base is None:
        return
    for t in train:
        if t.throughput and base.throughput:
            # same batch per device: perfect scaling gives n × the 1-device throughput
            t.speedup = t.throughput / base.throughput
            t.efficiency = t.speedup / t.devices


# ---- in the worker processes ----------------------------------------------------------------------------------

def _replica_arrays(shapes: list[tuple[int, ...]], seed: int, replica: int) -> list[np.ndarray]:
    """Integer-valued float32 tensors in −8…8 for one replica (exact sums in float32)."""
    rng = np.random.default_rng([seed, replica])
    return [rng.integers(-8, 9, size=int(np.prod(s)) if s else 1, dtype=np.int8).astype(np.float32).reshape(s)
            for s in shapes]


def _expected(shapes: list[tuple[int, ...]], seed: int, replicas: int) -> list[np.ndarray]:
    total = [np.zeros(s, dtype=np.int32) for s in shapes]
    for r in range(replicas):
        for acc, arr in zip(total, _replica_arrays(shapes, seed, r)):
            acc += arr.astype(np.int32)
    return [t.astype(np.float32) for t in total]


def bench_allreduce(strategy, shapes: list[tuple[int, ...]], *, iterations: int, warmup: int, seed: int,
                    replica_offset: int = 0) -> dict:
    """Time a SUM all-reduce of ``shapes`` (one tensor each) inside ``strategy.run``; verify it exactly.

    Every replica gets its own integer-valued inputs; the first call's results are compared with numpy.
    Timed calls: the number is fixed by the caller, so every worker of a cluster makes the same calls.
    """
    import tensorflow as tf

    n = strategy.num_replicas_in_sync
    local = strategy.extended.worker_devices
    inputs = {replica_offset + i: _replica_arrays(shapes, seed, replica_offset + i) for i in range(len(local))}

    def value_fn(ctx):
        return [tf.constant(a) for a in inputs[ctx.replica_id_in_sync_group]]

    values = strategy.experimental_distribute_values_from_function(value_fn)
    inputs.clear()

    def replica_fn(tensors):
        # tf.identity forwards the buffer (no copy) and gives each input this replica's device: without it a
        # one-replica worker hands the all-reduce a tensor with no device ("destinations can not be empty")
        tensors = [tf.identity(t) for t in tensors]
        out = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, tensors)
        probe = tf.add_n([tf.reshape(t, [-1])[0] for t in out])  # depends on every result: fetching it waits
        return out, probe

    @tf.function
    def step(v):
        return strategy.run(replica_fn, args=(v,))

    def call(fetch_all: bool = False):
        out, probe = step(values)
        for p in strategy.experimental_local_results(probe):
            p.numpy()
        return out if fetch_all else None

    out = call(fetch_all=True)
    expected = _expected(shapes, seed, n)
    max_error = 0.0
    for k, exp in enumerate(expected):
        per_tensor = out[k] if isinstance(out, (list, tuple)) else out
        for got in strategy.experimental_local_results(per_tensor):
            max_error = max(max_error, float(np.max(np.abs(got.numpy() - exp))) if exp.size else 0.0)
    del out, expected
    for _ in range(warmup - 1):
        call()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    median = float(np.median(times))  # robust to other processes' interference on a shared host
    sem = float(np.std(times, ddof=1) / math.sqrt(len(times))) if len(times) > 1 else 0.0
    return {"time_s": median, "time_sem": sem, "time_min_s": float(min(times)), "iterations": len(times),
            "max_error": max_error,
            "verified": max_error == 0.0}


def _timed_calls(size: int, iterations: int) -> int:
    return int(max(3, min(iterations, TRAFFIC_PER_SIZE // max(size, 1))))


def _bus_rows(strategy, config: dict, label: str, impl: str, virtual: bool, grad_shapes, replica_offset: int,
              progress) -> list[dict]:
    n = strategy.num_replicas_in_sync
    rows = []
    messages = [(human_bytes(s), [(s // 4,)]) for s in config["sizes"]]
    if grad_shapes:
        messages.append((f"gradients ({len(grad_shapes)} tensors)", grad_shapes))
    progress.on_fit_start(len(messages))
    for k, (name, shapes) in enumerate(messages):
        size = int(sum(4 * int(np.prod(s)) for s in shapes))
        timing = bench_allreduce(strategy, shapes, iterations=_timed_calls(size, config["iterations"]),
                                 warmup=config["warmup"], seed=config["seed"] + k, replica_offset=replica_offset)
        t = timing["time_s"]
        algbw = size / t if t > 0 else None
        rows.append(asdict(BusRow(
            strategy=config.get("strategy_kind", "mirrored"), implementation=impl, devices=n, virtual=virtual,
            message=name, bytes=size, tensors=len(shapes), time_s=t, time_sem=timing["time_sem"],
            iterations=timing["iterations"], algbw=algbw, busbw=algbw * bus_factor(n) if algbw else None,
            verified=timing["verified"], max_error=timing["max_error"],
            status="ok" if timing["verified"] else "WRONG SUM")))
        progress.on_steps(k + 1, t)
    return rows


def _train_row(strategy, config: dict, impl: str, virtual: bool, label: str, progress) -> dict:
    from dltool.data.throughput import SYNTHETIC_EPOCH, load_images
    from dltool.engine.throughput import train_throughput

    n = strategy.num_replicas_in_sync
    shape = models.native_shape(config["model"], (28, 28, 1))
    x, y, n_train, described = load_images("synthetic", config["seed"], synthetic_shape=shape)
    batch = config["per_device_batch"] * n
    rec = train_throughput(strategy, lambda: models.build_uint8(config["model"], shape), x, y, batch=batch,
                           steps=config["train_steps"], steps_per_epoch=max(1, SYNTHETIC_EPOCH // batch),
                           steps_per_execution=1, warmup_steps=2 if config["train_steps"] >= 4 else 1,
                           precision=config["precision"], seed=config["seed"], shuffle=False,
                           progress=_NoRuns(progress))
    thr = rec["throughput"] or {}
    return asdict(TrainRow(config.get("strategy_kind", "mirrored"), impl, n, virtual, config["per_device_batch"],
                           batch, rec["step_time"], thr.get("mean"), thr.get("sem"),
                           status=rec["status"] if rec["status"] != "finished" else "ok"))


class _NoRuns:
    """Passes the engine's step hooks through, but not start_run/end_run (the group owns those)."""

    def __init__(self, progress):
        self._progress = progress

    def start_run(self, label):
        return self

    def end_run(self, summary=""):
        pass

    def on_fit_start(self, total_steps):
        self._progress.on_fit_start(total_steps)

    def on_steps(self, steps_done, loss):
        self._progress.on_steps(steps_done, loss)

    def on_epoch_end(self, log):
        pass


def _summary(rows: list[dict], train: dict | None) -> str:
    parts = []
    if rows:
        parts.append("sums exact" if all(r["verified"] for r in rows) else "WRONG SUMS")
    if train and train.get("throughput"):
        parts.append(f"{train['throughput']:.1f} examples/s")
    return ", ".join(parts)


def _gradient_shapes(model_name: str) -> list[tuple[int, ...]]:
    shape = models.native_shape(model_name, (28, 28, 1))
    model = models.build_uint8(model_name, shape)
    return [tuple(int(d) for d in v.shape) for v in model.trainable_variables]


def measure_mirrored(config: dict) -> dict:
    """Worker entry: one device count, every runnable implementation."""
    from dltool.engine import devices, workers

    progress = workers.RemoteProgress()
    n = int(config["devices"])
    if config["virtual"]:
        devices.configure_virtual_devices(n)
    grads = _gradient_shapes(config["model"]) if config["gradients"] else []
    groups = []
    setup = None
    for impl in config["implementations"]:
        strategy, setup = devices.make_strategy("mirrored", devices=n, virtual=config["virtual"],
                                                cross_device_ops=None if impl == "none" else impl)
        label = f"mirrored {impl} × {n}"
        progress.start_run(label)
        rows = _bus_rows(strategy, config, label, impl, setup.virtual, grads, 0, progress) if n > 1 else []
        train = _train_row(strategy, config, impl, setup.virtual, label, progress) if config["train"] else None
        progress.end_run(_summary(rows, train))
        groups.append({"strategy": "mirrored", "implementation": impl, "devices": n, "bus": rows, "train": train,
                       "setup": setup.to_dict()})
    return {"groups": groups, "gradients": {"tensors": len(grads), "bytes": int(sum(4 * np.prod(s) for s in grads))},
            "environment": devices.environment(setup, precision=config["precision"]) if setup else {}}


def measure_multiworker(config: dict) -> dict:
    """Worker entry: one communication implementation across the cluster TF_CONFIG describes."""
    from dltool.engine import devices, workers

    progress = workers.RemoteProgress()
    strategy, setup = devices.make_strategy("multiworker", communication=config["communication"],
                                            timeout_s=config["collective_timeout_s"])
    info = workers.worker_info()
    local = len(strategy.extended.worker_devices)
    grads = _gradient_shapes(config["model"]) if config["gradients"] else []
    config = dict(config, strategy_kind="multiworker")
    label = f"multiworker {config['communication']} × {setup.workers}"
    progress.start_run(label)
    rows = _bus_rows(strategy, config, label, config["communication"], False, grads, info.index * local, progress)
    train = _train_row(strategy, config, config["communication"], False, label, progress) if config["train"] else None
    progress.end_run(_summary(rows, train))
    workers.settle(strategy)
    return {"groups": [{"strategy": "multiworker", "implementation": config["communication"],
                        "devices": strategy.num_replicas_in_sync, "bus": rows, "train": train,
                        "setup": setup.to_dict()}],
            "gradients": {"tensors": len(grads), "bytes": int(sum(4 * np.prod(s) for s in grads))},
            "environment": devices.environment(setup, precision=config["precision"])}
