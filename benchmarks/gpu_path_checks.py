"""The smallest GPU reproduction of each defect of the GPU path (issue 16, items 1–8), one JSON line per check.

    python benchmarks/gpu_path_checks.py            # about 1–2 minutes on one GPU; ≈ 1 minute on CPU

Each line is ``{"check": name, "ok": true|false|null, "detail": text}``; ``null`` means skipped, with the reason
(most checks need a GPU; items 1, 2, 5 and 7 also run on CPU, on logical CPU devices). The exit status is 1 if
any check failed, else 0. Every check that starts TensorFlow's devices runs in its own process (logical devices
and memory settings are fixed once a process has started its devices), through the same launcher the tool uses.

1 fp16_replicas        MirroredStrategy, 2 replicas, fp16; replica 1's inputs ×1e4 overflow its fp16 gradients:
                       every replica must skip the step (weights unchanged and finite, loss scale halved).
1 fp16_workers         the same with 2 worker processes (MultiWorkerMirroredStrategy; NCCL on 2+ GPUs, else
                       RING on CPU): both skip, weights equal and finite, no collective hang (120 s bound).
2 xla_replicas         --xla with 2 replicas is refused before TensorFlow (exit 2); XLA on one device trains.
3 worker_gpus          each local worker sees exactly one GPU, the i-th of CUDA_VISIBLE_DEVICES; more workers
                       than GPUs is refused (exit 3).
4 memory_growth        a process that made one small tensor on the GPU holds < 2 GiB of any GPU (nvidia-smi), and
                       a launcher that hid its GPUs starts no GPU device.
5 nccl_virtual         NCCL on logical GPUs of one card is refused (scale and mnist devices, exit 2).
6 virtual_gpus         --virtual on a GPU: one card split into 2 logical GPUs with ≈ 45 % of its memory each,
                       the other cards hidden.
7 collective_timeout   no collective timeout unless asked (it also bounds start-up and the first step).
8 cuda_visible         TensorFlow sees the GPUs the driver reports; if not, the hint names pip install
                       'dltool[gpu]' and DLTOOL_TF_LOGS=1 and quotes TensorFlow's CUDA message.
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


def emit(check: str, ok: bool | None, detail: str) -> bool | None:
    print(json.dumps({"check": check, "ok": ok, "detail": detail}), flush=True)
    return ok


def sub(target: str, config: dict, **kwargs) -> dict:
    from dltool.engine import workers

    return workers.run_in_subprocess(f"{MODULE}:{target}", config, python_path=[HERE], timeout_s=150, **kwargs)


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


def t_virtual(config: dict) -> dict:
    import tensorflow as tf

    from dltool.engine import devices

    devices.configure_virtual_devices(2, "GPU")
    gpus = tf.config.list_physical_devices("GPU")
    limits = [c.memory_limit for c in (tf.config.get_logical_device_configuration(gpus[0]) or [])]
    logical = len(tf.config.list_logical_devices("GPU"))
    return {"limits_mib": limits, "logical": logical, "visible": len(tf.config.get_visible_devices("GPU")),
            "physical": len(gpus), "total_mib": devices.gpu_total_memory_mb(
                (devices.visible_gpu_ids() or ["0"])[0])}


# ---- checks (in this process) ----------------------------------------------------------------------------------

def check_fp16_replicas(gpus: int) -> bool | None:
    out = sub("t_fp16_mirrored", {})
    ok = out["status"] == "finished" and out["finite"] and out["unchanged"] and out["loss_scale"] == 2.0 ** 14
    return emit("fp16_replicas", ok, f"{out['label']}: overflow on replica 1 → status {out['status']}, weights "
                f"{'finite' if out['finite'] else 'NaN'}, {'unchanged (skipped)' if out['unchanged'] else 'changed'}"
                f", loss scale {out['loss_scale']:g} (want 16384)")


def check_fp16_workers(gpus: int) -> bool | None:
    from dltool.engine import devices, workers

    if gpus >= 2:
        comm, env = "nccl", devices.worker_gpu_env(2, gpus)
    else:
        comm, env = "ring", [{"CUDA_VISIBLE_DEVICES": ""}] * 2
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

    try:
        ScaleConfig(learners=[1, 2], xla=True).validate()
        refused = "not refused"
    except UsageError as err:
        refused = f"refused (exit {int(err.code)}): {err.message[:80]}"
    out = sub("t_xla_one", {})
    ok = refused.startswith("refused (exit 2)") and out["status"] == "finished" and out["last"] < out["first"]
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

    refused = []
    for name, cfg in (("scale", ScaleConfig(learners=[1, 2], virtual=True, cross_device_ops="nccl")),
                      ("mnist devices", DevicesConfig(virtual=True, cross_device_ops="nccl"))):
        try:
            cfg.validate()
        except UsageError as err:
            refused.append(f"{name}: exit {int(err.code)}")
    ok = refused == ["scale: exit 2", "mnist devices: exit 2"]
    return emit("nccl_virtual", ok, "; ".join(refused) or "not refused")


def check_virtual(gpus: int) -> bool | None:
    if gpus == 0:
        return emit("virtual_gpus", None, "skipped: no GPU to split")
    out = sub("t_virtual", {})
    total = out["total_mib"]
    want = int(total * 0.9 / 2) if total else 1024
    ok = out["logical"] == 2 and out["visible"] == 1 and out["limits_mib"] == [want, want]
    return emit("virtual_gpus", ok, f"{out['physical']} physical GPU(s), {out['visible']} visible, {out['logical']} "
                f"logical with {out['limits_mib']} MiB each (card {total} MiB; want {want} each)")


def check_timeout(gpus: int) -> bool | None:
    from dltool.engine.devices import communication_options
    from dltool.experiments.allreduce import AllreduceConfig
    from dltool.experiments.scale import ScaleConfig

    values = (ScaleConfig().collective_timeout_s, AllreduceConfig().collective_timeout_s,
              communication_options("ring").timeout_seconds)
    return emit("collective_timeout", values == (None, None, None),
                f"default collective timeouts (scale, allreduce, CommunicationOptions): {values}")


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


CHECKS = (check_fp16_replicas, check_fp16_workers, check_xla, check_worker_gpus, check_memory, check_nccl_virtual,
          check_virtual, check_timeout, check_cuda)


def main() -> int:
    from dltool.engine.devices import driver_gpu_count

    gpus = driver_gpu_count()  # the driver's GPUs within the user's CUDA_VISIBLE_DEVICES
    failed = False
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            ok = check(gpus)
        except Exception as err:  # noqa: BLE001 - one broken check must not hide the others
            ok = emit(name, False, f"{type(err).__name__}: {str(err)[:400]}")
        failed = failed or ok is False
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
