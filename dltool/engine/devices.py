"""Devices and distribution strategies, so one device, N virtual devices and N workers run the same loop.

Facts this relies on (TF 2.21 / Keras 3):
- Logical ("virtual") devices must be configured before TensorFlow initialises its devices, once per process:
  ``tf.config.set_logical_device_configuration(cpu, [LogicalDeviceConfiguration()] * N)``. A GPU can be split
  the same way with a ``memory_limit`` per logical device. A process that needs another count starts afresh.
- ``NcclAllReduce`` has no CPU kernel; ``HierarchicalCopyAllReduce`` and ``ReductionToOneDevice`` run on CPU.
- ``MultiWorkerMirroredStrategy`` reads the cluster from ``TF_CONFIG``; Keras 3 ``fit`` fails under it
  (keras-team/keras#20585), the engine's own loop works.
Every description of a strategy says whether its devices are virtual, so no number hides that.
"""

from __future__ import annotations

import json
import os
import platform
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


def configure_virtual_devices(count: int, device_type: str = "auto", gpu_memory_mb: int | None = None) -> str:
    """Split one CPU (or the first GPU) into ``count`` logical devices. Returns the device type used.

    Must run before anything initialises TensorFlow's devices in this process.
    """
    tf = _tf()
    if count < 1:
        raise UsageError(f"virtual device count must be ≥ 1, got {count}", "use --gpus 1 or more")
    gpus = tf.config.list_physical_devices("GPU")
    if device_type == "auto":
        device_type = "GPU" if gpus else "CPU"
    if device_type == "GPU":
        if not gpus:
            raise MissingError("no GPU to split into virtual devices", "run without --virtual-gpu or on a GPU machine")
        memory = gpu_memory_mb or 1024
        config = [tf.config.LogicalDeviceConfiguration(memory_limit=memory) for _ in range(count)]
        target = gpus[0]
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


def communication_options(name: str = "auto", timeout_s: float | None = 60.0):
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
                  timeout_s: float | None = 60.0):
    """Build a strategy and describe it. Returns ``(strategy, DeviceSetup)``.

    ``devices`` counts GPUs when the machine has them, otherwise (or with ``virtual``) logical devices that
    must already exist (see :func:`configure_virtual_devices`).
    """
    tf = _tf()
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
                                   f"add --virtual to run on {count} virtual CPU devices, or lower the count")
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
