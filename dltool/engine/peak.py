"""The machine's matmul peak per precision, measured once and cached: the denominator of MFU.

MFU (model FLOPs utilisation) = the model's training FLOPs per second ÷ the fastest large matmul this machine
runs at that precision (a square ``n × n`` TensorFlow matmul, best of several timed calls, ``2n³`` FLOPs each).
It is a measured peak, not a data-sheet number: on a CPU the data sheet's figure is rarely reachable, and on a GPU
the measured figure is what a well-shaped layer can get.

The cache is one JSON file (``$DLTOOL_CACHE_DIR``, else ``$XDG_CACHE_HOME/dltool``, else ``~/.cache/dltool``),
keyed by the device's name, so a home directory shared by a cluster's different nodes keeps one entry per kind of
node. :func:`cached_peaks` reads it without importing TensorFlow; :func:`matmul_peak` measures what is missing.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

PEAK_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
CACHE_FILE = "matmul_peak.json"


def cache_path() -> Path:
    root = os.environ.get("DLTOOL_CACHE_DIR")
    if root:
        return Path(root) / CACHE_FILE
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dltool" / CACHE_FILE


def cpu_name() -> str:
    """The CPU's model name and logical core count, e.g. ``Intel(R) Xeon(R) Platinum 8480+ ×2``."""
    name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name or platform.processor() or platform.machine()} ×{os.cpu_count()}"


def _load() -> dict:
    try:
        data = json.loads(cache_path().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save(data: dict) -> None:
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(path)
    except OSError:  # a read-only home: measure again next time rather than fail the run
        pass


def cached_peaks(device_name: str | None = None) -> dict[str, dict]:
    """``{precision: {"flops": FLOP/s, "n": size, "measured": ISO time}}`` cached for ``device_name`` (default:
    this machine's CPU). No TensorFlow import."""
    return dict(_load().get(device_name or cpu_name(), {}))


def _device_name(device: str) -> str:
    if device.startswith("/gpu") or device.startswith("gpu"):
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        index = int(device.rsplit(":", 1)[-1]) if ":" in device else 0
        try:
            details = tf.config.experimental.get_device_details(gpus[index])
            return f"GPU {details.get('device_name', gpus[index].name)}"
        except (IndexError, ValueError):
            return f"GPU {index}"
    return cpu_name()


def measure_matmul(precision: str, device: str = "/cpu:0", n: int | None = None, repeats: int = 5) -> float:
    """Best FLOP/s of an ``n × n`` matmul at ``precision`` on ``device`` (TensorFlow device string)."""
    import tensorflow as tf

    on_gpu = "gpu" in device.lower()
    n = n or (8192 if on_gpu else 4096)
    dtype = getattr(tf, PEAK_DTYPES[precision])
    with tf.device(device):
        a = tf.cast(tf.random.stateless_normal((n, n), seed=(1, 2)), dtype)
        b = tf.cast(tf.random.stateless_normal((n, n), seed=(3, 4)), dtype)
        matmul = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)[:1, :1]))
        matmul(a, b).numpy()  # trace, allocate, autotune
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            matmul(a, b).numpy()
            best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best


def matmul_peak(precision: str, device: str = "/cpu:0", measure: bool = True) -> float | None:
    """The cached peak FLOP/s for ``precision`` on ``device``; measured (a few seconds) and cached when missing and
    ``measure``. ``fp16`` on a CPU has no fast path worth calling a peak: it is measured like the others."""
    if precision not in PEAK_DTYPES:
        raise ValueError(f"unknown precision {precision!r}; use one of {', '.join(PEAK_DTYPES)}")
    name = _device_name(device)
    entry = _load().get(name, {}).get(precision)
    if entry:
        return float(entry["flops"])
    if not measure:
        return None
    flops = measure_matmul(precision, device)
    data = _load()
    data.setdefault(name, {})[precision] = {
        "flops": flops, "n": 8192 if "gpu" in device.lower() else 4096,
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _save(data)
    return flops


def mfu(model_flops_per_second: float | None, peak_flops: float | None) -> float | None:
    """Model FLOPs per second ÷ the peak, or None where either is unknown."""
    if not model_flops_per_second or not peak_flops or peak_flops <= 0:
        return None
    return model_flops_per_second / peak_flops
