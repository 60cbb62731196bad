"""MultiWorkerMirroredStrategy through the engine: two worker processes on 127.0.0.1 (free ports, RING) train in
sync and report the same loss; a worker killed mid-run ends the run with a RunError naming it, within 60 s."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from dltool.engine import workers
from dltool.errors import RunError

HERE = str(Path(__file__).resolve().parent)
MODULE = Path(__file__).stem


def train_tiny(config: dict) -> dict:
    """Worker target: a 2-class softmax regression on fixed data, RING collectives, 20 steps of batch 32."""
    from dltool.engine.devices import make_strategy

    strategy, setup = make_strategy("multiworker", communication=config["communication"], timeout_s=30)
    import keras
    import numpy as np

    from dltool.engine.loop import Engine, FitConfig, set_seed

    set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((640, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")
    engine = Engine(lambda: keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)]),
                    lambda: keras.optimizers.SGD(0.5), strategy=strategy)
    fit = engine.fit(x, y, FitConfig(epochs=0, steps=config["steps"], batch_size=32, steps_per_execution=1,
                                     shuffle=False, evaluate=False), hooks=workers.RemoteProgress())
    return {"losses": fit.losses, "replicas": strategy.num_replicas_in_sync, "label": setup.label,
            "task": setup.task_index,
            "weights": [float(v) for w in engine.model.get_weights() for v in np.ravel(w)]}


def test_two_workers_with_ring_report_the_same_loss():
    results = workers.launch(f"{MODULE}:train_tiny", {"communication": "ring", "steps": 20}, 2, python_path=[HERE])
    a, b = results
    assert (a["task"], b["task"]) == (0, 1)
    assert a["replicas"] == b["replicas"] == 2
    assert a["label"] == "2 × CPU, 2 workers"
    assert len(a["losses"]) == len(b["losses"]) == 20
    assert a["losses"] == pytest.approx(b["losses"], rel=1e-6, abs=1e-7)  # one all-reduced loss per step
    assert a["weights"] == pytest.approx(b["weights"], rel=1e-6, abs=1e-7)  # and the same model
    assert all(math.isfinite(v) for v in a["losses"])
    assert a["losses"][-1] < 0.6 * a["losses"][0]  # it learned (separable data)


def test_a_killed_worker_ends_the_run_with_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DLTOOL_FAULT", "worker=1,after_steps=3,action=kill")
    started = {}
    t0 = time.monotonic()
    with pytest.raises(RunError) as info:
        workers.launch(f"{MODULE}:train_tiny", {"communication": "ring", "steps": 100000}, 2, python_path=[HERE],
                       on_event=lambda i, e: started.setdefault(i, e) if e["event"] == "started" else None,
                       log_dir=tmp_path)
    elapsed = time.monotonic() - t0
    text = info.value.one_line()
    assert text.startswith("worker 1 of 2") and "was lost" in text and "SIGKILL" in text
    assert "worker 0 of 2" in text  # the survivor's own error (or its stop) is reported too
    assert elapsed < 60
    import os

    for event in started.values():
        with pytest.raises(ProcessLookupError):
            os.kill(event["pid"], 0)
