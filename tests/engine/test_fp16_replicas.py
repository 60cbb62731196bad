"""fp16 on more than one replica: an overflow on any replica skips the step on every replica.

Keras 3's LossScaleOptimizer checks each replica's gradients before they are summed and takes replica 0's
answer; without the engine's agreement (dltool.engine.loss_scale) an overflow on replica 1 alone was applied
(weights NaN, run "diverged") and, across worker processes, one worker entered the gradient all-reduce while the
other skipped it (both died at the collective timeout).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from dltool.engine import workers

HERE = str(Path(__file__).resolve().parent)
MODULE = Path(__file__).stem


def _probe(bad_replica: int) -> dict:
    script = Path(__file__).with_name("fp16_probe.py")
    done = subprocess.run([sys.executable, str(script), str(bad_replica)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # 10–90 s on 2 cores
@pytest.mark.parametrize("bad_replica", [0, 1])
def test_an_overflow_on_either_replica_skips_the_step_on_both(bad_replica):
    out = _probe(bad_replica)
    assert out["status"] == "finished"
    assert out["finite"], out
    assert out["unchanged"], out  # the step was skipped: no replica applied its gradients
    assert out["loss_scale"] == 2.0 ** 14  # halved once from Keras' initial 2**15
    assert out["iterations"] == 0  # the inner optimizer did not count a step


def train_fp16_overflow(config: dict) -> dict:
    """Worker target: fp16, RING; worker 1's first rows are ×1e4 (its first batches overflow), worker 0's not."""
    from dltool.engine.devices import make_strategy

    strategy, _ = make_strategy("multiworker", communication="ring", timeout_s=config["timeout_s"])
    import keras
    import numpy as np

    from dltool.engine.loop import Engine, FitConfig, set_seed

    set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    if workers.worker_info().index == 1:
        x[:128] *= 1e4  # whichever rows the auto-shard gives worker 1 first, they overflow
    engine = Engine(lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(
                        2, kernel_initializer=keras.initializers.Constant(0.01))]),
                    lambda: keras.optimizers.SGD(0.1), strategy=strategy, precision="fp16")
    fit = engine.fit(x, y, FitConfig(epochs=0, steps=config["steps"], batch_size=32, steps_per_execution=1,
                                     shuffle=False, evaluate=False))
    weights = [float(v) for w in engine.model.get_weights() for v in np.ravel(w)]
    return {"status": fit.status, "losses": fit.losses, "weights": weights,
            "loss_scale": float(engine.optimizer.dynamic_scale.numpy())}


def test_two_workers_agree_to_skip_an_overflow_on_one_of_them():
    a, b = workers.launch(f"{MODULE}:train_fp16_overflow", {"steps": 3, "timeout_s": 20}, 2,
                          python_path=[HERE], timeout_s=120)
    assert a["status"] == b["status"] == "finished"
    assert all(math.isfinite(v) for v in a["weights"] + b["weights"])
    assert a["weights"] == pytest.approx(b["weights"], rel=1e-6)
    assert a["loss_scale"] == b["loss_scale"] < 2.0 ** 15  # both skipped the same steps
