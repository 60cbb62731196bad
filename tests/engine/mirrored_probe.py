"""Run by test_loop.py in a fresh process: train a tiny model on N logical CPU devices, print the result."""

import json
import sys

import numpy as np


def main(devices: int) -> None:
    from dltool.engine import devices as dev

    if devices > 1:
        dev.configure_virtual_devices(devices, "CPU")
    import keras

    from dltool.engine.loop import Engine, FitConfig, set_seed
    from dltool.engine.optimizers import make_optimizer

    strategy, setup = dev.make_strategy("mirrored" if devices > 1 else "default",
                                        devices=devices if devices > 1 else None, virtual=devices > 1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")
    set_seed(3)
    engine = Engine(lambda: keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                                              keras.layers.Dense(2)]),
                    lambda: make_optimizer("momentum", 0.1, momentum=0.9), strategy=strategy)
    result = engine.fit(x, y, FitConfig(epochs=2, batch_size=32, shuffle=False), eval_data=(x, y))
    print(json.dumps({"label": setup.label, "virtual": setup.virtual, "replicas": engine.num_replicas,
                      "losses": result.losses, "eval": result.evals[-1],
                      "weights": [v.numpy().ravel().tolist() for v in engine.model.trainable_variables]}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
