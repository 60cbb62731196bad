"""Devices and distribution strategies, so one device, N virtual devices and N workers run the same loop.

Facts this relies on (TF 2.21 / Keras 3):
- Logical ("virtual") devices must be configured before TensorFlow initialises its devices, once per process:
  ``tf.config.set_logical_device_configuration(cpu, [LogicalDeviceConfiguration()] * N)``. A GPU can be split
  the same way with a ``memory_limit`` per logical device. A process that needs another count starts afresh.
- ``NcclAllReduce`` has no CPU kernel; ``HierarchicalCopyAllReduce`` and ``ReductionToOneDevice`` run on CPU.
- ``MultiWorkerMirroredStrategy`` reads the cluster from ``TF_CONFIG``; Keras 3 ``fit`` fails under it
  (keras-team/keras#20585), the engine's own loop works.
- GPUs (none of this has a CPU counterpart, so tests mock ``tf.config``): TensorFlow reserves nearly all memory
  of every visible GPU when it starts its devices unless memory growth is set first; each local worker gets
  one GPU of the user's ``CUDA_VISIBLE_DEVICES`` mask (:func:`worker_gpu_env`); a launcher that only plans and
  loads data hides its GPUs (:func:`hide_gpus`) so it holds no GPU memory while its workers run; virtual GPUs
  are carved from one card with a memory limit per logical GPU, the other cards hidden; NCCL needs distinct
  physical GPUs (:func:`check_nccl`).
Every description of a strategy says whether its devices are virtual, so no number hides that.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from dltool.errors import MissingError, UsageError

CROSS_DEVICE_OPS = ("auto", "nccl", "hierarchical-copy", "reduction-to-one-device")
COMMUNICATIONS = ("auto", "ring", "nccl")
STRATEGIES = ("default", "mirrored", "multiworker")


@dataclass
class DeviceSetup:
    """What a process runs on; part of every result's environment."""

    strategy: str = "default"
    device_type: str = "CPU"  # CPU or GPU
    devices: list[str] = field(default_factory=list)
    num_replicas: int = 1
    virtual: bool = False  # logical devices carved out of one CPU or GPU
    physical_gpus: int = 0
    cross_device_ops: str | None = None
    communication: str | None = None
    workers: int = 1
    task_index: int = 0

    @property
    def label(self) -> str:
        """Short label for tables, e.g. "4 × CPU (virtual)"."""
        kind = f"{self.num_replicas} × {self.device_type}"
        if self.virtual:
            kind += " (virtual)"
        if self.workers > 1:
            kind += f", {self.workers} workers"
        return kind

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["label"] = self.label
        return out


def _tf():
    import tensorflow as tf

    return tf


def physical_gpus() -> int:
    return len(_tf().config.list_physical_devices("GPU"))


# ---- GPU environment (no TensorFlow needed) ---------------------------------------------------------------

def nvidia_driver_present() -> bool:
    """An NVIDIA driver on this machine (``nvidia-smi`` on PATH or ``/dev/nvidia0``), whatever TensorFlow sees."""
    return shutil.which("nvidia-smi") is not None or os.path.exists("/dev/nvidia0")


def no_gpu_hint(fallback: str) -> str:
    """The hint for "TensorFlow found no GPU": on a machine with an NVIDIA driver the likely cause is a
    TensorFlow without CUDA (or a CUDA library it could not load), which the start-up quieting hides."""
    if not nvidia_driver_present():
        return fallback
    from dltool import quiet_tf

    reason = quiet_tf.gpu_probe_reason()
    why = f" (TensorFlow said: {reason})" if reason else ""
    return (f"this machine has an NVIDIA driver but TensorFlow found no GPU{why}: install the CUDA build with "
            f"pip install 'dltool[gpu]' (DLTOOL_TF_LOGS=1 shows TensorFlow's own messages); or {fallback}")


def visible_gpu_ids(environ: dict | None = None) -> list[str] | None:
    """The user's CUDA_VISIBLE_DEVICES as a list of ids (None: unset, every GPU visible; []: none)."""
    environ = os.environ if environ is None else environ
    raw = environ.get("CUDA_VISIBLE_DEVICES")
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip() and part.strip() != "-1"]


def worker_gpu_env(workers: int, gpus: int, environ: dict | None = None,
                   what: str = "local workers") -> list[dict] | None:
    """Per-worker environment giving each of ``workers`` local processes its own GPU (None: no GPUs, run on CPU).

    Worker i sees only the i-th GPU *of the user's mask*: with CUDA_VISIBLE_DEVICES=2,3 the workers get "2" and
    "3", not physical 0 and 1. More workers than GPUs is a MissingError (exit 3): several processes on one card
    fight for its memory and NCCL refuses duplicate GPUs.
    """
    if gpus <= 0:
        return None
    ids = visible_gpu_ids(environ)
    ids = [str(i) for i in range(gpus)] if ids is None else ids[:gpus]
    if workers > len(ids):
        raise MissingError(f"{workers} {what} need {workers} GPUs (one each) but {len(ids)} are visible",
                           f"use {len(ids)} or fewer, or CUDA_VISIBLE_DEVICES= to run them on CPU")
    return [{"CUDA_VISIBLE_DEVICES": ids[i]} for i in range(workers)]


def gpu_mask(count: int, gpus: int, environ: dict | None = None) -> dict | None:
    """Environment for one process that uses ``count`` GPUs: the first ``count`` of the user's mask, so the
    other cards get no CUDA context (None: no GPUs, or all of them wanted)."""
    if gpus <= 0 or count >= gpus:
        return None
    ids = visible_gpu_ids(environ)
    ids = [str(i) for i in range(gpus)] if ids is None else ids
    return {"CUDA_VISIBLE_DEVICES": ",".join(ids[:count])}


def check_nccl(cross_device_ops: str | None, virtual: bool, what: str = "--cross-device-ops nccl") -> None:
    """NCCL all-reduce needs distinct physical GPUs: refuse it on logical GPUs carved from one card (exit 2)."""
    if cross_device_ops == "nccl" and virtual:
        raise UsageError(f"{what} needs one physical GPU per replica; virtual devices share one card "
                         "(NCCL refuses duplicate GPUs)",
                         "use --cross-device-ops hierarchical-copy or reduction-to-one-device with --virtual")


def check_xla_replicas(xla: bool, replicas: int) -> None:
    """``--xla`` with 2+ replicas fails in TF 2.21 (a replica's variables read from another device under
    MirroredStrategy, and the chosen cross-device ops ignored): refuse it (exit 2) until it works."""
    if xla and replicas > 1:
        raise UsageError(f"--xla works on one replica only, not {replicas} (TensorFlow 2.21's MirroredStrategy "
                         "under XLA reads one replica's variables from another device)",
                         "leave out --xla, or use one device (--gpus 1 / --workers 1)")


# ---- GPU set-up inside a process (before TensorFlow starts its devices) ----------------------------------

def enable_memory_growth(tf=None) -> list[str]:
    """Memory growth on every GPU that has no logical split: TensorFlow then takes memory as it needs it
    instead of reserving nearly all of every visible card when it starts its devices. Must run before that;
    a process whose devices already started keeps its setting (skipped). Returns the GPUs it was set on."""
    tf = tf or _tf()
    done = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            if tf.config.get_logical_device_configuration(gpu):
                continue  # split with memory limits: growth does not apply
            tf.config.experimental.set_memory_growth(gpu, True)
            done.append(gpu.name)
        except (RuntimeError, ValueError):  # devices already started
            pass
    return done


def hide_gpus(tf=None) -> bool:
    """Make this process use no GPU (a launcher that only plans and loads data while its workers train).

    Without it, loading data with tensorflow-datasets starts TensorFlow's GPU devices here and holds their
    memory for the whole run. Returns False if the devices had already started."""
    tf = tf or _tf()
    if not tf.config.list_physical_devices("GPU"):
        return True
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:
        return False
    return True


def launcher_holds_no_gpu() -> None:
    """:func:`hide_gpus` for a launcher, without importing TensorFlow for it: at once if TensorFlow is already
    imported here, else right after its first import (tensorflow-datasets imports it to load data)."""
    if "tensorflow" in sys.modules:
        hide_gpus()
        return
    from dltool import quiet_tf

    quiet_tf.after_import(lambda tf: hide_gpus(tf))


def driver_gpu_count(environ: dict | None = None) -> int:
    """GPUs this process may use by the driver's count (``nvidia-smi -L``) and CUDA_VISIBLE_DEVICES, without
    importing TensorFlow (0 without a driver)."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    count = sum(1 for line in out.splitlines() if line.startswith("GPU "))
    ids = visible_gpu_ids(environ)
    return count if ids is None else min(count, len(ids))


def gpu_total_memory_mb(physical_id: str | int = 0) -> int | None:
    """Total memory of one GPU in MiB from nvidia-smi (None when it cannot be read)."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits",
                              "-i", str(physical_id)], capture_output=True, text=True, timeout=20)
        return int(float(out.stdout.strip().splitlines()[0]))
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


VIRTUAL_GPU_SHARE = 0.9  # of the card's memory, split evenly: the rest is left to CUDA/cuDNN workspaces
VIRTUAL_GPU_FALLBACK_MB = 1024  # when the card's memory cannot be read


def configure_virtual_devices(count: int, device_type: str = "auto", gpu_memory_mb: int | None = None) -> str:
    """Split one CPU (or the first visible GPU) into ``count`` logical devices. Returns the device type used.

    On a GPU the other cards are hidden (they would otherwise each reserve their memory for nothing) and each
    logical GPU gets ``gpu_memory_mb`` (default: 90 % of the card split evenly, from nvidia-smi; 1 GiB if that
    cannot be read). Must run before anything initialises TensorFlow's devices in this process.
    """
    tf = _tf()
    if count < 1:
        raise UsageError(f"virtual device count must be ≥ 1, got {count}",
                         "give 1 or more (scale --gpus, mnist devices and allreduce --devices)")
    gpus = tf.config.list_physical_devices("GPU")
    if device_type == "auto":
        device_type = "GPU" if gpus else "CPU"
    if device_type == "GPU":
        if not gpus:
            raise MissingError("no GPU to split into virtual devices",
                               "without a GPU, --virtual splits the CPU into logical devices; or run on a GPU machine")
        if gpu_memory_mb is None:
            ids = visible_gpu_ids()
            total = gpu_total_memory_mb(ids[0] if ids else 0)
            gpu_memory_mb = int(total * VIRTUAL_GPU_SHARE / count) if total else VIRTUAL_GPU_FALLBACK_MB
        config = [tf.config.LogicalDeviceConfiguration(memory_limit=int(gpu_memory_mb)) for _ in range(count)]
        target = gpus[0]
        try:
            tf.config.set_visible_devices([target], "GPU")  # the other cards: not used, not reserved
            tf.config.experimental.set_memory_growth(target, False)  # a memory limit, not growth
        except RuntimeError:  # devices already started: reported below if the split is missing
            pass
    else:
        config = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        target = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(target, config)
    except RuntimeError as err:  # devices already initialised
        existing = tf.config.list_logical_devices(device_type)
        if len(existing) != count:
            raise MissingError(
                f"TensorFlow devices are already initialised with {len(existing)} logical {device_type} devices "
                f"({err})", "run each device count in its own process") from err
    return device_type


def _cross_device_ops(name: str | None):
    tf = _tf()
    if name in (None, "auto"):
        return None
    if name == "nccl":
        return tf.distribute.NcclAllReduce()
    if name == "hierarchical-copy":
        return tf.distribute.HierarchicalCopyAllReduce()
    if name == "reduction-to-one-device":
        return tf.distribute.ReductionToOneDevice()
    raise UsageError(f"unknown cross-device ops {name!r}", f"choose one of {', '.join(CROSS_DEVICE_OPS)}")


def communication_options(name: str = "auto", timeout_s: float | None = None):
    """RING/NCCL/AUTO collectives. ``timeout_s`` (None: none, the default) bounds *every* collective, the
    start-up broadcast and the first step's (XLA compile, cuDNN autotuning) included; TensorFlow documents it as
    a debugging aid, and with it each collective holds a watchdog thread for the whole timeout. Lost peers
    surface through the cluster's health check, hung ones through the launcher's heartbeat."""
    tf = _tf()
    implementations = {
        "auto": tf.distribute.experimental.CommunicationImplementation.AUTO,
        "ring": tf.distribute.experimental.CommunicationImplementation.RING,
        "nccl": tf.distribute.experimental.CommunicationImplementation.NCCL,
    }
    if name not in implementations:
        raise UsageError(f"unknown communication {name!r}", f"choose one of {', '.join(COMMUNICATIONS)}")
    return tf.distribute.experimental.CommunicationOptions(implementation=implementations[name],
                                                           timeout_seconds=timeout_s)


def make_strategy(kind: str = "default", devices: int | None = None, virtual: bool = False,
                  cross_device_ops: str | None = None, communication: str = "auto",
                  timeout_s: float | None = None):
    """Build a strategy and describe it. Returns ``(strategy, DeviceSetup)``.

    ``devices`` counts GPUs when the machine has them, otherwise (or with ``virtual``) logical devices that
    must already exist (see :func:`configure_virtual_devices`).
    """
    tf = _tf()
    enable_memory_growth(tf)  # before anything starts the devices (a no-op on GPUs split into virtual ones)
    n_gpus = physical_gpus()
    if kind not in STRATEGIES:
        raise UsageError(f"unknown strategy {kind!r}", f"choose one of {', '.join(STRATEGIES)}")
    if kind == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise MissingError("--strategy multiworker needs a cluster",
                               "set TF_CONFIG (or use --workers N to start local workers)")
        strategy = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=communication_options(communication, timeout_s))
        tf_config = json.loads(os.environ["TF_CONFIG"])
        workers = len(tf_config.get("cluster", {}).get("worker", [])) or 1
        setup = DeviceSetup(strategy="multiworker", device_type="GPU" if n_gpus else "CPU",
                            devices=list(strategy.extended.worker_devices),
                            num_replicas=strategy.num_replicas_in_sync, physical_gpus=n_gpus,
                            communication=communication, workers=workers,
                            task_index=int(tf_config.get("task", {}).get("index", 0)))
        return strategy, setup
    if kind == "default" and not devices:
        strategy = tf.distribute.get_strategy()
        device_type = "GPU" if n_gpus else "CPU"
        return strategy, DeviceSetup(strategy="default", device_type=device_type,
                                     devices=[f"/{device_type}:0"], num_replicas=1, physical_gpus=n_gpus)
    count = devices or 1
    logical_gpus = tf.config.list_logical_devices("GPU")
    logical_cpus = tf.config.list_logical_devices("CPU")
    if logical_gpus and (len(logical_gpus) >= count):
        device_type, names = "GPU", [d.name for d in logical_gpus[:count]]
        is_virtual = virtual or len(logical_gpus) > n_gpus
    elif virtual or not n_gpus:
        if len(logical_cpus) < count:
            if count > 1 and not virtual:
                raise MissingError(f"asked for {count} devices but this machine has {n_gpus} GPUs",
                                   no_gpu_hint(f"add --virtual to run on {count} virtual CPU devices, or lower "
                                               "the count"))
            raise MissingError(f"asked for {count} virtual devices but {len(logical_cpus)} exist in this process",
                               "configure virtual devices before TensorFlow starts (each count in its own process)")
        device_type, names = "CPU", [d.name for d in logical_cpus[:count]]
        is_virtual = count > 1 or virtual
    else:
        raise MissingError(f"asked for {count} GPUs but this machine has {n_gpus}",
                           f"use --gpus {n_gpus} or fewer, or --virtual to split one device into {count}")
    if cross_device_ops == "nccl" and device_type != "GPU":
        raise MissingError("NCCL all-reduce needs GPUs (NcclAllReduce has no CPU kernel)",
                           "use --cross-device-ops hierarchical-copy or reduction-to-one-device on CPU")
    check_nccl(cross_device_ops, is_virtual)
    strategy = tf.distribute.MirroredStrategy(devices=names, cross_device_ops=_cross_device_ops(cross_device_ops))
    setup = DeviceSetup(strategy="mirrored", device_type=device_type, devices=names,
                        num_replicas=strategy.num_replicas_in_sync, virtual=is_virtual, physical_gpus=n_gpus,
                        cross_device_ops=cross_device_ops or "auto")
    return strategy, setup


def environment(setup: DeviceSetup | None = None, precision: str | None = None,
                jit_compile: bool | None = None) -> dict[str, Any]:
    """Versions and devices, for the environment block of results.json."""
    tf = _tf()
    import keras

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "cpu_count": os.cpu_count(),
        "physical_gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
    }
    if setup is not None:
        env["devices"] = setup.to_dict()
    if precision is not None:
        env["precision"] = precision
    if jit_compile is not None:
        env["xla"] = jit_compile
    return env
