"""Run by test_fp16_replicas.py in a fresh process (logical devices are fixed once TensorFlow starts).

fp16 (mixed_float16, dynamic loss scaling) on 2 logical CPU devices with MirroredStrategy. The first global batch
has one half whose inputs are ×1e4: that replica's fp16 gradients overflow, the other replica's do not. Every
replica must skip that step together (weights unchanged, loss scale halved), whichever replica overflowed.
Prints one JSON line.
"""

import json
import sys

import numpy as np

SCALE = 1e4  # inputs ×1e4 stay < 65504 in fp16; with the initial loss scale 2**15 the kernel gradient overflows


def data(bad_replica: int, n: int = 64, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    half = batch // 2  # MirroredStrategy gives replica r rows [r·half, (r+1)·half) of each global batch
    x[bad_replica * half:(bad_replica + 1) * half] *= SCALE  # first global batch only
    return x, y


def main(bad_replica: int) -> None:
    from dltool.engine import devices as dev

    dev.configure_virtual_devices(2, "CPU")
    import keras

    from dltool.engine.loop import Engine, FitConfig, set_seed

    strategy, _ = dev.make_strategy("mirrored", devices=2, virtual=True)
    x, y = data(bad_replica)
    set_seed(0)
    engine = Engine(lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(
                        2, kernel_initializer=keras.initializers.Constant(0.01))]),  # logits stay < 65504
                    lambda: keras.optimizers.SGD(0.1), strategy=strategy, precision="fp16")
    before = [v.numpy().copy() for v in engine.model.trainable_variables]
    fit = engine.fit(x, y, FitConfig(epochs=0, steps=1, batch_size=32, steps_per_execution=1, shuffle=False,
                                     evaluate=False, input="tfdata"))
    after = [v.numpy() for v in engine.model.trainable_variables]
    print(json.dumps({
        "status": fit.status, "losses": fit.losses,
        "finite": bool(all(np.isfinite(w).all() for w in after)),
        "unchanged": bool(all(np.array_equal(a, b) for a, b in zip(before, after))),
        "loss_scale": float(engine.optimizer.dynamic_scale.numpy()),
        "iterations": int(engine.optimizer.iterations.numpy()),
    }))


if __name__ == "__main__":
    main(int(sys.argv[1]))
