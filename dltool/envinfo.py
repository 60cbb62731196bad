"""What ``dltool env`` reports: versions, CPU and its fast-maths flags, GPUs, NCCL, matmul peaks, datasets.

Like ``accelerate env`` and ``python -m torch.utils.collect_env``: one block to paste into a bug report.

Cheap by default, no TensorFlow import: versions come from the installed packages' metadata
(``importlib.metadata``), the CPU from ``/proc/cpuinfo``, GPUs from ``nvidia-smi`` when it is on the PATH, peaks from
the cache of :mod:`dltool.engine.peak`, datasets from the same search as the loaders (:mod:`dltool.data.sources`)
without reading them. Two things need TensorFlow and run only when asked:

- ``tensorflow=True``: the GPUs TensorFlow sees (compute capability), and whether NCCL is usable — a real NCCL
  all-reduce of a small tensor (see :func:`nccl_check`), in a subprocess. NCCL has no CPU kernel, so
  without a GPU the answer is "no" with that reason.
- ``measure=True``: the matmul peaks that are not cached yet (a few seconds each), then cached.

Compute capability and driver, without TensorFlow: the installed wheel's build facts (CUDA / cuDNN versions and
the compute capabilities it carries code for) are read from its ``tensorflow/python/platform/build_info.py``,
the file ``tf.sysconfig.get_build_info()`` returns (TensorFlow 2.21: ``sm_60, sm_70, sm_80, sm_89`` machine code
and ``compute_90`` PTX, CUDA 12.5.1, cuDNN 9). Per GPU (nvidia-smi's ``compute_cap``), :func:`code_kind` says
whether it runs machine code (a cubin ``sm_XY`` of its major version with Y ≤ its minor: CUDA's binary
compatibility) or PTX that the driver JIT-compiles on first use (``compute_XY`` ≤ its capability), or that nothing
fits. TensorFlow's own warning about the JIT ("could take 30 minutes or longer") is printed at a log level dltool
hides (:mod:`dltool.quiet_tf`), so :func:`gpu_warnings` says it instead, and warns where the driver is older than
the build needs (:data:`CUDA_DRIVER_MIN`).
"""

from __future__ import annotations

import ast
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("tensorflow", "keras", "tensorflow-datasets", "numpy", "tensorboard")
# /proc/cpuinfo flags that decide which precision is fast on a CPU
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_fp16")

# NVIDIA's "CUDA Toolkit and Corresponding Driver Versions" table (CUDA release notes), Linux x86_64, GA releases.
# Running a CUDA 12.x build needs ≥ 525.60.13 (12.x's minor-version compatibility); JIT-compiling PTX made by CUDA
# 12.Y needs the driver of 12.Y itself, which minor-version compatibility does not cover (an older driver fails
# with CUDA_ERROR_UNSUPPORTED_PTX_VERSION).
CUDA_DRIVER_MIN = {(12, 0): "525.60.13", (12, 1): "530.30.02", (12, 2): "535.54.03", (12, 3): "545.23.06",
                   (12, 4): "550.54.14", (12, 5): "555.42.02", (12, 6): "560.28.03", (12, 8): "570.26",
                   (12, 9): "575.51.03"}
MINOR_COMPAT_DRIVER_MIN = {12: "525.60.13", 11: "450.80.02"}
TF_JIT_WARNING = ("TensorFlow was not built with CUDA kernel binaries compatible with compute capability {cc}. "
                  "CUDA kernels will be jit-compiled from PTX, which could take 30 minutes or longer.")


@dataclass
class Environment:
    dltool: str
    python: str
    platform: str
    packages: dict[str, str | None]  # name → version, None when not installed
    cpu: dict[str, Any]
    gpus: list[dict[str, Any]]  # name, memory_mib, compute_capability, driver, code_kind, code
    gpu_source: str  # "nvidia-smi", "tensorflow", or why none were looked for
    nccl: dict[str, Any]  # {"usable": True/False/None, "detail": text}
    tensorflow_build: dict[str, Any]
    peaks: dict[str, dict[str, dict]]  # device name → precision → {"flops", "n", "measured"}
    peak_hint: str | None
    datasets: dict[str, dict[str, Any]]  # name → {"found": folder | None, "how": text}
    notes: list[str] = field(default_factory=list)
    build_compute_capabilities: list[str] = field(default_factory=list)  # e.g. sm_80, compute_90 ([]: no CUDA build)
    driver_version: str | None = None  # nvidia-smi's; None without a driver
    warnings: list[str] = field(default_factory=list)  # code that does not fit a GPU, a driver too old, PTX JIT


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cpu_info() -> dict[str, Any]:
    from dltool.engine.peak import cpu_name

    flags: set[str] = set()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            elif line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    present = {f: (f in flags) for f in CPU_FLAGS} if flags else {}
    if present.get("amx_bf16"):
        fast = "bf16 (AMX)"
    elif present.get("avx512_bf16"):
        fast = "bf16 (AVX-512 BF16)"
    elif flags:
        fast = "fp32 (no AMX or AVX-512 BF16: bf16 is emulated and slower)"
    else:
        fast = "unknown (no /proc/cpuinfo)"
    return {"model": model or platform.processor() or platform.machine(), "peak_key": cpu_name(),
            "logical_cores": os.cpu_count(), "usable_cores": usable, "flags": present, "fast_precision": fast}


def build_info() -> dict[str, Any]:
    """The installed TensorFlow's build facts (what ``tf.sysconfig.get_build_info()`` returns), read from its
    ``build_info.py`` without importing TensorFlow; {} when TensorFlow is absent or the file cannot be read."""
    try:
        path = Path(str(metadata.distribution("tensorflow").locate_file("tensorflow/python/platform/build_info.py")))
        tree = ast.parse(path.read_text())
    except (metadata.PackageNotFoundError, OSError, SyntaxError, ValueError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "build_info" for t in node.targets):
            value = node.value
            if isinstance(value, ast.Call) and value.args:  # collections.OrderedDict([(key, value), ...])
                value = value.args[0]
            try:
                return dict(ast.literal_eval(value))
            except (ValueError, TypeError, SyntaxError):
                return {}
    return {}


def _cc_number(text: str | None) -> tuple[int, int] | None:
    """"9.0" → (9, 0); "sm_89" / "compute_90" → (8, 9) / (9, 0); None if unreadable."""
    if not text:
        return None
    text = str(text).strip()
    if "_" in text:
        digits = "".join(ch for ch in text.split("_", 1)[1] if ch.isdigit())
        return (int(digits[:-1]), int(digits[-1])) if len(digits) >= 2 else None
    major, _, minor = text.partition(".")
    return (int(major), int(minor or 0)) if major.isdigit() and (minor or "0").isdigit() else None


def code_kind(compute_capability: str | None, arches: list[str]) -> tuple[str | None, str | None]:
    """How a GPU of ``compute_capability`` runs a build carrying ``arches`` (e.g. ``["sm_80", "compute_90"]``):
    ("machine_code", "sm_80") when a cubin fits — same major version, built minor ≤ the GPU's (CUDA's binary
    compatibility; an ``sm_90a``-style cubin only on its exact capability) —, else ("ptx_jit", "compute_90") when
    PTX of a capability ≤ the GPU's is there (the driver compiles it on first use), else ("none", None).
    (None, None) when the capability or the build's list is unknown."""
    cc = _cc_number(compute_capability)
    if cc is None or not arches:
        return None, None
    cubins = []
    ptx = []
    for arch in arches:
        built = _cc_number(arch)
        if built is None:
            continue
        if arch.startswith("sm_"):
            exact_only = arch[-1].isalpha()
            if built[0] == cc[0] and (built[1] == cc[1] if exact_only else built[1] <= cc[1]):
                cubins.append((built, arch))
        elif arch.startswith("compute_") and built <= cc:
            ptx.append((built, arch))
    if cubins:
        return "machine_code", max(cubins)[1]
    if ptx:
        return "ptx_jit", max(ptx)[1]
    return "none", None


def _version_tuple(text: str | None) -> tuple[int, ...] | None:
    parts = str(text or "").strip().split(".")
    return tuple(int(p) for p in parts) if parts and all(p.isdigit() for p in parts) else None


def gpu_warnings(gpus: list[dict[str, Any]], build: dict[str, Any], driver: str | None) -> list[str]:
    """What a user must know before a GPU run: no code for a GPU, a PTX JIT on first use (TensorFlow's own warning
    is hidden by dltool's log level), a driver older than the build's CUDA needs. Sets each GPU's ``code_kind``."""
    arches = list(build.get("cuda_compute_capabilities") or [])
    cuda = _version_tuple(build.get("cuda_version"))
    have = _version_tuple(driver)
    out = []
    if cuda and have:
        floor = MINOR_COMPAT_DRIVER_MIN.get(cuda[0])
        if floor and have < _version_tuple(floor):
            out.append(f"driver {driver} is older than {floor}, the minimum for CUDA {cuda[0]}.x (minor-version "
                       f"compatibility, Linux): TensorFlow's CUDA {build.get('cuda_version')} build cannot use the "
                       "GPUs; update the NVIDIA driver")
    for g in gpus:
        kind, code = code_kind(g.get("compute_capability"), arches)
        g["code_kind"], g["code"] = kind, code
        label = f"GPU {g.get('index')} ({g.get('name')}, compute capability {g.get('compute_capability')})"
        if kind == "none":
            out.append(f"{label}: this TensorFlow build carries no code it can run ({', '.join(arches)}): "
                       "TensorFlow will not use it")
        elif kind == "ptx_jit":
            need = CUDA_DRIVER_MIN.get(cuda[:2]) if cuda else None
            if need and have and have < _version_tuple(need):
                out.append(f"{label}: runs only {code} PTX made by CUDA {build.get('cuda_version')}; driver {driver} "
                           f"is older than {need} (CUDA {cuda[0]}.{cuda[1]}'s), which JIT-compiling that PTX needs "
                           "(minor-version compatibility does not cover PTX): update the NVIDIA driver")
            out.append(f"{label}: no machine code for it in this TensorFlow build ({', '.join(arches)}): every "
                       f"kernel is JIT-compiled from {code} PTX on first use, which TensorFlow warns \"could take 30 "
                       "minutes or longer\" (its warning is hidden by dltool's log level); the driver caches the "
                       "result (CUDA_CACHE_MAXSIZE=4294967296 keeps all of it), so only the first run pays")
    return out


def nvidia_smi_gpus() -> tuple[list[dict[str, Any]], str]:
    """GPUs from ``nvidia-smi`` (no TensorFlow): (list, where they came from or why none).

    Drivers before R510 do not know the ``compute_cap`` field and refuse the whole query: then the GPUs are
    listed without it, so that the driver version (and the warning that it is too old) still shows."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return [], "nvidia-smi not found (no NVIDIA driver, or not on PATH)"
    fields = ["name", "memory.total", "compute_cap", "driver_version"]
    for attempt in (fields, [f for f in fields if f != "compute_cap"]):
        try:
            out = subprocess.run([exe, f"--query-gpu={','.join(attempt)}", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as err:
            return [], f"nvidia-smi failed: {err}"
        if out.returncode == 0:
            break
    if out.returncode != 0:
        return [], f"nvidia-smi failed: {(out.stderr or out.stdout).strip()[:200]}"
    gpus = []
    for index, line in enumerate(row for row in out.stdout.splitlines() if row.strip()):
        values = [p.strip() for p in line.split(",")]
        row = dict(zip(attempt, values + [""] * (len(attempt) - len(values))))
        memory = row.get("memory.total", "")
        gpus.append({"index": index, "name": row.get("name", ""),
                     "memory_mib": int(float(memory)) if memory.replace(".", "", 1).isdigit() else None,
                     "compute_capability": row.get("compute_cap") or None, "driver": row.get("driver_version") or None})
    return gpus, "nvidia-smi"


def tensorflow_gpus() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """GPUs as TensorFlow sees them, and its CUDA build (imports TensorFlow)."""
    import tensorflow as tf

    build = dict(tf.sysconfig.get_build_info())
    keep = {k: build.get(k) for k in ("is_cuda_build", "is_rocm_build", "cuda_version", "cudnn_version",
                                      "cuda_compute_capabilities") if k in build}
    gpus = []
    for index, device in enumerate(tf.config.list_physical_devices("GPU")):
        try:
            details = tf.config.experimental.get_device_details(device)
        except (ValueError, RuntimeError):
            details = {}
        cc = details.get("compute_capability")
        gpus.append({"index": index, "name": details.get("device_name", device.name),
                     "compute_capability": ".".join(str(v) for v in cc) if cc else None, "tf_device": device.name})
    return gpus, keep


def nccl_check() -> dict[str, Any]:
    """A real NCCL all-reduce on the GPUs; imports TensorFlow (``gather`` runs it in a subprocess).

    With two or more physical GPUs: ``MirroredStrategy`` with ``NcclAllReduce`` over all of them, sums checked.
    With one: the ``NcclAllReduce`` kernel itself with one rank on it (NCCL loads, builds a communicator and runs);
    two logical GPUs carved out of one physical GPU are no test of NCCL, which refuses two ranks on one device
    ("Duplicate GPU detected").
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return {"usable": False, "detail": "no GPU visible to TensorFlow (NcclAllReduce has no CPU kernel)"}
    try:
        if len(gpus) == 1:
            with tf.device("/GPU:0"):
                total = tf.raw_ops.NcclAllReduce(input=tf.constant([1.0, 2.0, 3.0]), reduction="sum",
                                                 num_devices=1, shared_name="dltool_env_nccl").numpy()
            ok = [float(v) for v in total] == [1.0, 2.0, 3.0]
            return {"usable": ok, "detail": "NcclAllReduce kernel ran on 1 GPU (one rank; traffic between GPUs "
                                            "needs 2 or more physical GPUs)" if ok else f"wrong result {total}"}
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        strategy = tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.NcclAllReduce())
        values = strategy.run(lambda: tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group + 1,
                                              tf.float32) * tf.ones([4]))
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None).numpy()
        expected = sum(range(1, len(devices) + 1))
        ok = bool((total == expected).all())
        return {"usable": ok, "detail": f"NcclAllReduce over {len(devices)} GPUs"
                + (f": sum {float(total[0]):g} = {expected}" if ok else f": wrong sum {total} (expected {expected})")}
    except Exception as err:  # noqa: BLE001 - any failure means "not usable", with its reason
        text = " ".join(str(err).split())[:200]
        return {"usable": False, "detail": f"{type(err).__name__}: {text}"}


def dataset_locations() -> dict[str, dict[str, Any]]:
    """Where each known dataset would be read from (the loaders' search order), without reading it."""
    from dltool.data import sources
    from dltool.errors import DltoolError

    out = {}
    tfds_root = Path(os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets")
    for spec in sources.SPECS.values():
        found = None
        roots = [(f"${sources.ENV_DATA_DIR}", r) for r in sources.env_roots()]
        roots.append(("system", sources.SYSTEM_DATA_DIR))
        for label, root in roots:
            try:
                hit = sources.find_in_root(spec, root) if root.is_dir() else None
            except DltoolError as err:  # some of the set's files, not all
                out[spec.display] = {"found": None, "via": label, "how": err.one_line()}
                found = "error"
                break
            if hit is not None:
                found = {"found": str(hit.folder), "via": label, "how": f"raw files ({hit.fmt})"}
                break
            if root.is_dir() and sources.is_tfds_dir(spec, root):
                found = {"found": str(root), "via": label, "how": "tensorflow-datasets folder"}
                break
        if found == "error":
            continue
        if found is None and sources.is_tfds_dir(spec, tfds_root):
            found = {"found": str(tfds_root), "via": "tensorflow-datasets cache", "how": "prepared by tfds"}
        if found is None:
            sub = " or ".join(f"{f}/" for f in spec.folders[:2])
            found = {"found": None, "via": None,
                     "how": f"not found: --data-dir DIR or {sources.ENV_DATA_DIR}=DIR (DIR holding {sub} with the "
                            f"raw files), {sources.SYSTEM_DATA_DIR / spec.display}"
                            + (f" ({spec.system_hint})" if spec.system_hint else "")
                            + ", or go online once so tensorflow-datasets downloads it"}
        out[spec.display] = found
    return out


def gather(tensorflow: bool = False, measure: bool = False) -> Environment:
    """Everything ``dltool env`` shows. TensorFlow is imported only with ``tensorflow`` or ``measure``."""
    from dltool import __version__
    from dltool.engine import peak

    notes: list[str] = []
    warnings: list[str] = []
    gpus, source = nvidia_smi_gpus()
    driver = next((g["driver"] for g in gpus if g.get("driver")), None)
    nccl: dict[str, Any] = {"usable": None, "detail": "not checked: run `dltool env --tensorflow`"}
    build: dict[str, Any] = {k: v for k, v in build_info().items()  # the wheel's file: no TensorFlow import
                             if k in ("is_cuda_build", "cuda_version", "cudnn_version", "cuda_compute_capabilities")}
    if tensorflow or measure:
        if tensorflow:
            nccl = nccl_check_subprocess()
        tf_gpus, tf_build = tensorflow_gpus()
        by_name = {g["name"]: g for g in gpus}
        for g in tf_gpus:  # nvidia-smi has memory and driver; TensorFlow says what it can use
            g.update({k: v for k, v in by_name.get(g["name"], {}).items() if k in ("memory_mib", "driver")})
            g["compute_capability"] = g["compute_capability"] or by_name.get(g["name"], {}).get("compute_capability")
        smi_gpus = gpus
        gpus, source = tf_gpus, ("tensorflow" if tf_gpus else "TensorFlow sees none")
        build = {**build, **tf_build}
        if smi_gpus and not tf_gpus:  # the driver and nvidia-smi's GPUs still say why TensorFlow sees none
            warnings = gpu_warnings([dict(g) for g in smi_gpus], build, driver)
            if any("older than" in w for w in warnings):
                why = (f"driver {driver} is the likely reason, older than this TensorFlow build needs (see the "
                       "warnings): update the NVIDIA driver")
            elif any("no code it can run" in w for w in warnings):
                why = "this TensorFlow build carries no code for them (see the warnings)"
            else:
                why = "install tensorflow[and-cuda] (pip install -e '.[gpu]') with a matching driver"
            notes.append(f"nvidia-smi sees GPUs but TensorFlow does not: {why}")
    if gpus:
        warnings = gpu_warnings(gpus, build, driver)
    cpu = cpu_info()
    device_names = [cpu["peak_key"]] + [f"GPU {g['name']}" for g in gpus]
    if measure:
        peak.matmul_peak("fp32", "/cpu:0")
        peak.matmul_peak("bf16", "/cpu:0")
        for g in gpus:
            for precision in ("fp32", "bf16", "fp16"):
                peak.matmul_peak(precision, f"/gpu:{g['index']}")
    peaks = {name: peak.cached_peaks(name) for name in device_names}
    hint = None if all(peaks.values()) else ("not measured yet on this machine: run `dltool env --measure` "
                                              "(a few seconds per precision; cached in "
                                              f"{peak.cache_path()})")
    return Environment(dltool=__version__, python=platform.python_version(), platform=platform.platform(),
                       packages={name: _version(name) for name in PACKAGES}, cpu=cpu, gpus=gpus, gpu_source=source,
                       nccl=nccl, tensorflow_build=build, peaks=peaks, peak_hint=hint,
                       datasets=dataset_locations(), notes=notes,
                       build_compute_capabilities=list(build.get("cuda_compute_capabilities") or []),
                       driver_version=driver, warnings=warnings)


def nccl_check_subprocess(timeout: float = 180.0) -> dict[str, Any]:
    """:func:`nccl_check` in a fresh Python, so a crash or hang in NCCL cannot take ``dltool env`` down."""
    import json

    code = "import json; from dltool.envinfo import nccl_check; print(json.dumps(nccl_check()))"
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    except subprocess.TimeoutExpired:
        return {"usable": False, "detail": f"the NCCL check did not finish in {timeout:.0f} s"}
    lines = [row for row in out.stdout.splitlines() if row.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = " ".join((out.stderr or "").split())[-200:]
        return {"usable": False, "detail": f"the NCCL check exited {out.returncode}: {tail}"}
    return json.loads(lines[-1])
