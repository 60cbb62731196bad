"""The smallest GPU reproduction of each defect of the GPU path (issues 16 and 25), one JSON line per check.

    python benchmarks/gpu_path_checks.py                 # at most 145 s on one GPU (LIMITS); most skip on CPU
    python benchmarks/gpu_path_checks.py --list          # each check, what it asserts, its limit (no TensorFlow)
    python benchmarks/gpu_path_checks.py --only a,b      # just those checks
    python benchmarks/gpu_path_checks.py --warmup        # one untimed first use of the GPU kernels (PTX JIT)

Each line is ``{"check": name, "ok": true|false|null, "detail": text}``; ``null`` means skipped, and its detail
starts with "skipped:" and the reason (no GPU, one GPU for a 2-GPU check). A check asserts the thing it names
on the box it runs on, or skips: none passes on a machine that cannot show it. The exit status is 1 if any check
failed, else 0. Every check that starts TensorFlow's devices runs in its own process (logical devices and memory
settings are fixed once a process has started its devices), through the same launcher the tool uses.

Each check has its own time limit (:data:`LIMITS`, seconds on one GPU: a TensorFlow process starts its devices
in ≈ 5-10 s, and each check does a few seconds of work after that); ``gpu_check.sh`` runs every check in its own
process under that limit, so a check that hangs is named and the others still run. The limits are estimates
until the first GPU run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
MODULE = Path(__file__).stem

from dltool import quiet_tf  # noqa: E402

quiet_tf.install()

ASSERTS = {
    "ops_on_gpu": "a training step's tensors live on the GPU: its variables are on GPU:0 and the step's peak GPU "
                  "memory (tf.config.experimental.get_memory_info) holds its activations",
    "fp16_loss_scale": "fp16 training moves the loss scale: with growth every 5 finite steps, 12 steps take it "
                       "from 2^15 to 2^17, and an overflowing batch halves it",
    "fp16_replicas": "2 replicas in fp16 on 2 GPUs (or 2 logical GPUs of one card), replica 1 overflows: every "
                     "replica skips the step (weights unchanged, finite) and the loss scale halves",
    "fp16_workers": "2 worker processes, one GPU each, NCCL: both skip an overflowed step, weights agree and "
                    "finite, no hang (skipped below 2 GPUs: not on CPU ring workers)",
    "xla_replicas": "XLA on one GPU trains (loss falls); --xla with 2 replicas is refused with exit 2",
    "worker_gpus": "each local worker sees exactly one GPU, its own; more workers than GPUs exits 3",
    "memory_growth": "a process that made one small tensor holds < 2 GiB of the GPU (nvidia-smi); a launcher that "
                     "hid its GPUs starts none",
    "nccl_virtual": "NCCL on 2 logical GPUs of one card is refused with exit 2 (scale, mnist devices), and NCCL "
                    "run anyway on those 2 ranks gives no sum (an error, or no answer): the refusal is needed",
    "virtual_gpus": "one card split into 2 logical GPUs, each filled until its allocator refuses: it held at "
                    "least half its limit and at most the limit (get_memory_info), and the limits fit the card",
    "collective_timeout": "a configuration check, skipped: no collective timeout unless asked (scale, "
                          "allreduce, CommunicationOptions); a timeout firing needs a withheld replica, which one "
                          "process cannot show (a default that sets one fails)",
    "cuda_visible": "TensorFlow sees the GPUs the driver reports; if not, the hint names pip install 'dltool[gpu]'",
}

# seconds each check may take on one GPU (gpu_check.sh runs each in its own process under its limit); on one GPU
# fp16_workers skips, and the others add up to 145 s
LIMITS = {"ops_on_gpu": 15, "fp16_loss_scale": 15, "fp16_replicas": 15, "fp16_workers": 60, "xla_replicas": 15,
          "worker_gpus": 15, "memory_growth": 20, "nccl_virtual": 15, "virtual_gpus": 15, "collective_timeout": 10,
          "cuda_visible": 10}  # the last two import TensorFlow in this process
NCCL_VIRTUAL_WAIT_S = 10  # NCCL on 2 ranks of one card: no answer within this is a hang (evidence, not a failure)


def emit(check: str, ok: bool | None, detail: str) -> bool | None:
    print(json.dumps({"check": check, "ok": ok, "detail": detail}), flush=True)
    return ok


def sub(target: str, config: dict, timeout_s: float = 150, **kwargs) -> dict:
    from dltool.engine import workers

    return workers.run_in_subprocess(f"{MODULE}:{target}", config, python_path=[HERE], timeout_s=timeout_s,
                                     **kwargs)


# ---- worker targets (each in a fresh process) ----------------------------------------------------------------

def _overflow_model(strategy):
    import keras

    from dltool.engine.loop import Engine

    return Engine(lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(
                      2, kernel_initializer=keras.initializers.Constant(0.01))]),
                  lambda: keras.optimizers.SGD(0.1), strategy=strategy, precision="fp16")


def t_fp16_mirrored(config: dict) -> dict:
    import numpy as np
    import tensorflow as tf

    from dltool.engine import devices
    from dltool.engine.loop import FitConfig, set_seed

    gpus = len(tf.config.list_physical_devices("GPU"))
    virtual = gpus < 2
    if virtual:
        devices.configure_virtual_devices(2, "GPU" if gpus else "CPU", gpu_memory_mb=2048 if gpus else None)
    strategy, setup = devices.make_strategy("mirrored", devices=2, virtual=virtual,
                                            cross_device_ops="hierarchical-copy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    x[16:32] *= 1e4  # replica 1's half of the first global batch of 32
    set_seed(0)
    engine = _overflow_model(strategy)
    before = [v.numpy().copy() for v in engine.model.trainable_variables]
    fit = engine.fit(x, y, FitConfig(epochs=0, steps=1, batch_size=32, steps_per_execution=1, shuffle=False,
                                     evaluate=False, input="tfdata"))
    after = [v.numpy() for v in engine.model.trainable_variables]
    return {"label": setup.label, "status": fit.status,
            "finite": bool(all(np.isfinite(w).all() for w in after)),
            "unchanged": bool(all(np.array_equal(a, b) for a, b in zip(before, after))),
            "loss_scale": float(engine.optimizer.dynamic_scale.numpy())}


def t_fp16_worker(config: dict) -> dict:
    import numpy as np

    from dltool.engine import devices, workers
    from dltool.engine.loop import FitConfig, set_seed

    strategy, setup = devices.make_strategy("multiworker", communication=config["communication"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    if workers.worker_info().index == 1:
        x[:128] *= 1e4
    set_seed(0)
    engine = _overflow_model(strategy)
    fit = engine.fit(x, y, FitConfig(epochs=0, steps=3, batch_size=32, steps_per_execution=1, shuffle=False,
                                     evaluate=False))
    return {"label": setup.label, "status": fit.status,
            "weights": [float(v) for w in engine.model.get_weights() for v in np.ravel(w)],
            "loss_scale": float(engine.optimizer.dynamic_scale.numpy())}


def t_xla_one(config: dict) -> dict:
    import keras
    import numpy as np

    from dltool.engine import devices
    from dltool.engine.loop import Engine, FitConfig, set_seed

    strategy, setup = devices.make_strategy("default")
    set_seed(0)
    x = np.random.default_rng(0).normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    engine = Engine(lambda: keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)]),
                    lambda: keras.optimizers.SGD(0.5), strategy=strategy, jit_compile=True)
    fit = engine.fit(x, y, FitConfig(epochs=0, steps=20, batch_size=32, evaluate=False))
    return {"label": setup.label, "first": fit.losses[0], "last": fit.losses[-1], "status": fit.status}


def t_visible(config: dict) -> dict:
    import tensorflow as tf

    return {"mask": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
            "details": [tf.config.experimental.get_device_details(d).get("device_name", "")
                        for d in tf.config.list_physical_devices("GPU")]}


def t_memory(config: dict) -> dict:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if config.get("hide"):
        from dltool.engine.devices import hide_gpus

        hidden = hide_gpus()
        tf.constant([1.0, 2.0]) * 2  # starts the devices, as a tfds load would
        return {"hidden": hidden, "logical_gpus": len(tf.config.list_logical_devices("GPU"))}
    growth = [bool(tf.config.experimental.get_memory_growth(g)) for g in gpus]
    with tf.device("/GPU:0"):
        (tf.ones((1024, 1024)) @ tf.ones((1024, 1024))).numpy()
    used, how = None, "this process (nvidia-smi)"
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=30).stdout
        mine = [int(float(m)) for p, m in (ln.split(",") for ln in out.splitlines() if ln.strip())
                if int(p) == os.getpid()]
        used = max(mine) if mine else None  # one row per GPU this process has a context on: the largest
        if used is None:  # a container's PID namespace hides our pid: the card's used memory instead
            ids = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0] or "0"
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i",
                                  ids], capture_output=True, text=True, timeout=30).stdout
            used, how = int(float(out.strip().splitlines()[0])), "the whole card (nvidia-smi)"
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        pass
    return {"growth": growth, "used_mib": used, "how": how}


def t_ops_on_gpu(config: dict) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    from dltool.engine.loop import Engine, FitConfig

    batch, size, channels = 256, 32, 64  # one conv's activations: 256·32·32·64·4 B = 64 MiB in fp32
    engine = Engine(lambda: keras.Sequential([keras.Input((size, size, 3)),
                                              keras.layers.Conv2D(channels, 3, padding="same", activation="relu"),
                                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)]),
                    lambda: keras.optimizers.SGD(0.01), seed=0)
    x = np.random.default_rng(0).normal(size=(batch * 2, size, size, 3)).astype("float32")
    y = np.arange(batch * 2) % 10
    tf.config.experimental.reset_memory_stats("GPU:0")
    fit = engine.fit(x, y, FitConfig(epochs=0, steps=2, batch_size=batch, evaluate=False, shuffle=False))
    peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    return {"status": fit.status, "variables": sorted({v.value.device for v in engine.model.trainable_variables}),
            "peak_bytes": int(peak), "activation_bytes": batch * size * size * channels * 4}


def t_fp16_loss_scale(config: dict) -> dict:
    import keras
    import numpy as np

    from dltool.engine.loop import Engine, FitConfig

    engine = Engine(lambda: keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                                              keras.layers.Dense(2)]),
                    lambda: keras.optimizers.SGD(0.01), precision="fp16", seed=0)
    engine.optimizer.dynamic_growth_steps = 5  # read when the step is traced: before the first fit
    x = np.random.default_rng(0).normal(size=(32 * 12, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    start = float(engine.optimizer.dynamic_scale.numpy())
    fit = engine.fit(x, y, FitConfig(epochs=0, steps=12, batch_size=32, steps_per_execution=1, shuffle=False,
                                     evaluate=False, input="tfdata"))
    grown = float(engine.optimizer.dynamic_scale.numpy())
    big = np.full((32, 8), 6e4, dtype="float32")  # fp16 overflows (max 65504) in the forward pass
    engine.fit(big, y[:32], FitConfig(epochs=0, steps=1, batch_size=32, steps_per_execution=1, shuffle=False,
                                      evaluate=False, input="tfdata"))
    halved = float(engine.optimizer.dynamic_scale.numpy())
    return {"status": fit.status, "start": start, "grown": grown, "halved": halved,
            "compute_dtype": engine.model.layers[0].compute_dtype}


def t_virtual_alloc(config: dict) -> dict:
    """Fill each logical GPU with 256 MiB blocks until its allocator refuses (or 1.25 × its limit was asked):
    what it held then, measured by get_memory_info, must be at least half its limit and at most its limit.
    Blocks of 2^26 float32 (no kernel near int32 indexing limits), none copied to the host."""
    import tensorflow as tf

    from dltool.engine import devices

    devices.configure_virtual_devices(2, "GPU")
    gpus = tf.config.list_physical_devices("GPU")
    limits = [int(c.memory_limit) for c in (tf.config.get_logical_device_configuration(gpus[0]) or [])]
    logical = [d.name for d in tf.config.list_logical_devices("GPU")]
    block_mib = 256
    held, peaks, refused = [], [], []
    for name, limit in zip(logical, limits):
        short = name.split("device:")[-1]  # "GPU:0"
        blocks, oom = [], False
        try:
            with tf.device(name):
                for _ in range(int(limit * 1.25) // block_mib + 1):
                    blocks.append(tf.zeros([block_mib * 2**20 // 4], tf.float32))
                    blocks[-1][:1].numpy()  # the allocation happened (only one element comes to the host)
        except tf.errors.ResourceExhaustedError:
            oom = True
        info = tf.config.experimental.get_memory_info(short)
        held.append(len(blocks) * block_mib * 2**20)
        peaks.append(int(info["peak"]))
        refused.append(oom)
        del blocks
    return {"limits_mib": limits, "logical": len(logical), "held_bytes": held, "peak_bytes": peaks,
            "refused": refused, "visible": len(tf.config.get_visible_devices("GPU")), "physical": len(gpus),
            "total_mib": devices.gpu_total_memory_mb((devices.visible_gpu_ids() or ["0"])[0])}


def t_nccl_two_logical(config: dict) -> dict:
    import tensorflow as tf

    from dltool.engine import devices

    devices.configure_virtual_devices(2, "GPU", gpu_memory_mb=1024)
    names = [d.name for d in tf.config.list_logical_devices("GPU")]
    try:
        strategy = tf.distribute.MirroredStrategy(names, cross_device_ops=tf.distribute.NcclAllReduce())
        values = strategy.run(lambda: tf.ones([4]))
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None).numpy()
        return {"ran": True, "detail": f"sum {total.tolist()}"}
    except Exception as err:  # noqa: BLE001 - the error is the evidence
        return {"ran": False, "detail": f"{type(err).__name__}: {' '.join(str(err).split())[:160]}"}


# ---- checks (in this process) ----------------------------------------------------------------------------------

def check_fp16_replicas(gpus: int) -> bool | None:
    if gpus == 0:  # on CPU logical devices it would pass without showing the GPU path
        return emit("fp16_replicas", None, "skipped: no GPU (fp16 replicas on CPU logical devices are covered by "
                    "the CPU tests)")
    out = sub("t_fp16_mirrored", {})
    ok = out["status"] == "finished" and out["finite"] and out["unchanged"] and out["loss_scale"] == 2.0 ** 14
    return emit("fp16_replicas", ok, f"{out['label']}: overflow on replica 1 → status {out['status']}, weights "
                f"{'finite' if out['finite'] else 'NaN'}, {'unchanged (skipped)' if out['unchanged'] else 'changed'}"
                f", loss scale {out['loss_scale']:g} (want 16384)")


def check_ops_on_gpu(gpus: int) -> bool | None:
    if gpus == 0:
        return emit("ops_on_gpu", None, "skipped: no GPU")
    out = sub("t_ops_on_gpu", {})
    on_gpu = bool(out["variables"]) and all("GPU" in d for d in out["variables"])
    ok = out["status"] == "finished" and on_gpu and out["peak_bytes"] >= out["activation_bytes"]
    return emit("ops_on_gpu", ok, f"variables on {out['variables']}; peak GPU memory in the step "
                f"{out['peak_bytes'] / 2**20:.0f} MiB (its conv activations alone: "
                f"{out['activation_bytes'] / 2**20:.0f} MiB)")


def check_fp16_loss_scale(gpus: int) -> bool | None:
    if gpus == 0:
        return emit("fp16_loss_scale", None, "skipped: no GPU (fp16 is a GPU precision; CPU tests cover the step)")
    out = sub("t_fp16_loss_scale", {})
    ok = (out["status"] == "finished" and out["compute_dtype"] == "float16" and out["start"] == 2.0 ** 15
          and out["grown"] == 2.0 ** 17 and out["halved"] == 2.0 ** 16)
    return emit("fp16_loss_scale", ok, f"compute dtype {out['compute_dtype']}; loss scale {out['start']:g} → "
                f"{out['grown']:g} after 12 finite steps (want 131072) → {out['halved']:g} after an overflow "
                "(want 65536)")


def check_fp16_workers(gpus: int) -> bool | None:
    from dltool.engine import devices, workers

    if gpus < 2:  # on fewer GPUs the workers would run on the CPU (RING): that is not the GPU path
        return emit("fp16_workers", None, f"skipped: needs ≥ 2 GPUs (one per worker), this box has {gpus}; "
                    "CPU ring workers are covered by the CPU tests")
    comm, env = "nccl", devices.worker_gpu_env(2, gpus)
    t0 = time.monotonic()
    try:
        a, b = workers.launch(f"{MODULE}:t_fp16_worker", {"communication": comm}, 2, python_path=[HERE],
                              worker_env=env, timeout_s=120)
    except Exception as err:  # noqa: BLE001 - a hang or a collective error is the defect
        return emit("fp16_workers", False, f"2 workers ({comm}): {type(err).__name__}: {str(err)[:300]}")
    import math

    ok = (a["status"] == b["status"] == "finished" and all(math.isfinite(v) for v in a["weights"] + b["weights"])
          and max(abs(p - q) for p, q in zip(a["weights"], b["weights"])) < 1e-5
          and a["loss_scale"] == b["loss_scale"] < 2.0 ** 15)
    return emit("fp16_workers", ok, f"{a['label']} ({comm}): statuses {a['status']}/{b['status']}, loss scales "
                f"{a['loss_scale']:g}/{b['loss_scale']:g}, weights agree and finite: {ok}, "
                f"{time.monotonic() - t0:.0f} s")


def check_xla(gpus: int) -> bool | None:
    from dltool.errors import UsageError
    from dltool.experiments.scale import ScaleConfig

    if gpus == 0:
        return emit("xla_replicas", None, "skipped: no GPU (XLA on the CPU and the refusal are covered by the CPU "
                    "tests)")
    try:
        ScaleConfig(learners=[1, 2], xla=True).validate()
        refused = "not refused"
    except UsageError as err:
        refused = f"refused (exit {int(err.code)}): {err.message[:80]}"
    out = sub("t_xla_one", {})
    ok = (refused.startswith("refused (exit 2)") and out["status"] == "finished" and out["last"] < out["first"]
          and "GPU" in str(out["label"]))
    return emit("xla_replicas", ok, f"--xla with 2 replicas {refused}; XLA on {out['label']}: loss "
                f"{out['first']:.3f} → {out['last']:.3f}")


def check_worker_gpus(gpus: int) -> bool | None:
    from dltool.engine import devices, workers
    from dltool.errors import MissingError

    if gpus == 0:
        return emit("worker_gpus", None, "skipped: no GPU (CPU tests cover the environment each worker gets)")
    count = min(gpus, 2)
    env = devices.worker_gpu_env(count, gpus)
    outs = workers.launch(f"{MODULE}:t_visible", {}, count, cluster=False, python_path=[HERE], worker_env=env,
                          timeout_s=120)
    each_one = all(len(o["gpus"]) == 1 for o in outs)
    masks = [o["mask"] for o in outs]
    try:
        devices.worker_gpu_env(gpus + 1, gpus)
        refused = False
    except MissingError as err:
        refused = int(err.code) == 3
    ok = each_one and len(set(masks)) == count and refused
    return emit("worker_gpus", ok, f"{count} workers see {[len(o['gpus']) for o in outs]} GPU(s), masks {masks}; "
                f"{gpus + 1} workers on {gpus} GPUs refused with exit 3: {refused}")


def check_memory(gpus: int) -> bool | None:
    if gpus == 0:
        return emit("memory_growth", None, "skipped: no GPU (CPU tests check the calls made before device start)")
    out = sub("t_memory", {})
    hidden = sub("t_memory", {"hide": True})
    used = out["used_mib"]
    ok = bool(out["growth"]) and all(out["growth"]) and (used is None or used < 2048) and hidden["logical_gpus"] == 0
    return emit("memory_growth", ok, f"memory growth {out['growth']}; process holds "
                f"{'?' if used is None else used} MiB of {out['how']} after one 1024² matmul (want < 2048); "
                f"launcher with hidden GPUs started {hidden['logical_gpus']} GPU devices (want 0)")


def check_nccl_virtual(gpus: int) -> bool | None:
    from dltool.errors import UsageError
    from dltool.experiments.mnist.devices import DevicesConfig
    from dltool.experiments.scale import ScaleConfig

    if gpus == 0:
        return emit("nccl_virtual", None, "skipped: no GPU (NCCL has no CPU kernel; the refusal itself is "
                    "covered by the CPU tests)")
    refused = []
    for name, cfg in (("scale", ScaleConfig(learners=[1, 2], virtual=True, cross_device_ops="nccl")),
                      ("mnist devices", DevicesConfig(virtual=True, cross_device_ops="nccl"))):
        try:
            cfg.validate()
        except UsageError as err:
            refused.append(f"{name}: exit {int(err.code)}")
    try:  # a hang or a crash of NCCL is evidence too: no sum
        nccl = sub("t_nccl_two_logical", {}, timeout_s=NCCL_VIRTUAL_WAIT_S)
    except Exception as err:  # noqa: BLE001
        nccl = {"ran": False, "detail": f"the process did not finish: {type(err).__name__}: {str(err)[:120]}"}
    # both halves of the claim: refused with exit 2, and NCCL really gives no sum there (else the refusal is wrong)
    ok = refused == ["scale: exit 2", "mnist devices: exit 2"] and not nccl["ran"]
    why = ("NCCL on 2 logical GPUs of one card " + ("ran, so the refusal is not needed: " if nccl["ran"]
                                                     else "gives no sum, as the refusal expects: ") + nccl["detail"])
    return emit("nccl_virtual", ok, ("; ".join(refused) or "not refused") + "; " + why)


def check_virtual(gpus: int) -> bool | None:
    if gpus == 0:
        return emit("virtual_gpus", None, "skipped: no GPU to split")
    out = sub("t_virtual_alloc", {})
    total, limits, held, peaks = out["total_mib"], out["limits_mib"], out["held_bytes"], out["peak_bytes"]
    within = (len(held) == len(peaks) == len(limits) == 2
              and all(lim * 2**20 // 2 <= h <= p <= lim * 2**20 for h, p, lim in zip(held, peaks, limits)))
    fits = bool(total) and sum(limits) <= total
    ok = out["logical"] == 2 and out["visible"] == 1 and within and out["refused"] == [True, True] and fits
    return emit("virtual_gpus", ok, f"{out['physical']} physical GPU(s), {out['visible']} visible, {out['logical']} "
                f"logical with limits {limits} MiB (card {total} MiB, want their sum within it); filled in 256 MiB "
                f"blocks: held {[round(h / 2**20) for h in held]} MiB, peak {[round(p / 2**20) for p in peaks]} "
                f"MiB (want ≥ half the limit, ≤ the limit), refused past the limit {out['refused']}")


def check_timeout(gpus: int) -> bool | None:
    from dltool.engine.devices import communication_options
    from dltool.experiments.allreduce import AllreduceConfig
    from dltool.experiments.scale import ScaleConfig

    values = (ScaleConfig().collective_timeout_s, AllreduceConfig().collective_timeout_s,
              communication_options("ring").timeout_seconds)
    said = f"default collective timeouts (scale, allreduce, CommunicationOptions): {values}"
    if values != (None, None, None):  # a configuration that sets a timeout nobody asked for is wrong anywhere
        return emit("collective_timeout", False, f"{said} (want none unless asked)")
    return emit("collective_timeout", None, f"skipped: cannot be shown in one process (a timeout firing needs a "
                f"withheld replica); a configuration check only: {said}, as wanted")


def check_cuda(gpus: int) -> bool | None:
    import tensorflow as tf

    from dltool.engine.devices import no_gpu_hint

    seen = len(tf.config.list_physical_devices("GPU"))
    if gpus == 0:
        return emit("cuda_visible", None, "skipped: no NVIDIA driver on this machine")
    hint = no_gpu_hint("(no driver)")
    if seen == 0:
        return emit("cuda_visible", False, f"the driver reports {gpus} GPU(s), TensorFlow sees 0; the user is told: "
                    f"{hint}")
    return emit("cuda_visible", seen == gpus, f"the driver reports {gpus} GPU(s), TensorFlow sees {seen}")


CHECKS = (check_ops_on_gpu, check_fp16_loss_scale, check_fp16_replicas, check_fp16_workers, check_xla,
          check_worker_gpus, check_memory, check_nccl_virtual, check_virtual, check_timeout, check_cuda)
NAMES = {"check_xla": "xla_replicas", "check_memory": "memory_growth", "check_virtual": "virtual_gpus",
         "check_timeout": "collective_timeout", "check_cuda": "cuda_visible"}


def check_name(check) -> str:
    return NAMES.get(check.__name__, check.__name__.removeprefix("check_"))


def warmup() -> int:
    """One untimed first use of the GPU kernels a training run needs (conv, dense, softmax cross-entropy, the
    optimizer; fp32, fp16, bf16): on a GPU whose code the build carries only as PTX the driver JIT-compiles them
    here, once (cached for later processes). Prints how long the first call took against a warm one."""
    from dltool import envinfo

    smi, _ = envinfo.nvidia_smi_gpus()
    arches = envinfo.build_info().get("cuda_compute_capabilities") or []
    kinds = sorted({f"{g.get('compute_capability')} {envinfo.code_kind(g.get('compute_capability'), arches)[0]}"
                    for g in smi})
    if not smi:
        emit("warm-up", None, "skipped: no GPU")
        return 0
    t0 = time.monotonic()
    import keras
    import numpy as np
    import tensorflow as tf

    from dltool.engine.loop import Engine, FitConfig

    start = time.monotonic() - t0
    x = np.random.default_rng(0).normal(size=(256, 28, 28, 1)).astype("float32")
    y = np.arange(256) % 10
    parts = []
    for precision in ("fp32", "fp16", "bf16"):
        engine = Engine(lambda: keras.Sequential([keras.Input((28, 28, 1)),
                                                  keras.layers.Conv2D(16, 5, activation="relu"),
                                                  keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                                                  keras.layers.Dense(10)]),
                        lambda: keras.optimizers.Adam(1e-3), precision=precision, seed=0)
        cfg = FitConfig(epochs=0, steps=2, batch_size=128, evaluate=False, shuffle=False)
        t1 = time.monotonic()
        engine.fit(x, y, cfg)
        first = time.monotonic() - t1
        t2 = time.monotonic()
        engine.fit(x, y, cfg)
        parts.append(f"{precision} first {first:.1f} s, warm {time.monotonic() - t2:.2f} s")
    on = "GPU" if tf.config.list_logical_devices("GPU") else "CPU (TensorFlow sees no GPU)"
    emit("warm-up", on == "GPU", f"on {on}; GPUs (capability, code): {', '.join(kinds)}; TensorFlow start "
         f"{start:.1f} s; {'; '.join(parts)} (the first call traces and, for PTX, JIT-compiles)")
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="each check and what it asserts; runs nothing")
    parser.add_argument("--only", default="", help="comma-separated check names")
    parser.add_argument("--warmup", action="store_true", help="only the untimed first use of the GPU kernels")
    args = parser.parse_args(argv)
    if args.list:
        for check in CHECKS:
            print(f"{check_name(check)}\t{ASSERTS[check_name(check)]}\t{LIMITS[check_name(check)]}")
        return 0
    if args.warmup:
        return warmup()
    wanted = [n for n in args.only.split(",") if n]
    unknown = sorted(set(wanted) - {check_name(c) for c in CHECKS})
    if unknown:
        print(f"gpu_path_checks.py: error: unknown check(s) {', '.join(unknown)}; --list names them", file=sys.stderr)
        return 2
    return _run_checks(wanted)


def _run_checks(wanted: list[str]) -> int:
    from dltool.engine.devices import driver_gpu_count

    gpus = driver_gpu_count()  # the driver's GPUs within the user's CUDA_VISIBLE_DEVICES
    failed = False
    for check in CHECKS:
        name = check_name(check)
        if wanted and name not in wanted:
            continue
        try:
            ok = check(gpus)
        except Exception as err:  # noqa: BLE001 - one broken check must not hide the others
            ok = emit(name, False, f"{type(err).__name__}: {str(err)[:400]}")
        failed = failed or ok is False
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
