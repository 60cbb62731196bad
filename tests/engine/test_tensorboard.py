"""TensorBoard events written through the engine's hooks, read back from the event files."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from dltool.engine.loop import Engine, FitConfig, set_seed  # noqa: E402
from dltool.engine.optimizers import make_optimizer  # noqa: E402
from dltool.report.tensorboard import TensorBoardHooks, read_scalars  # noqa: E402


class Recorder:
    """Stands in for the progress bar: records what the wrapper forwards."""

    def __init__(self):
        self.calls = []

    def start_run(self, label):
        self.calls.append(("start_run", label))

    def end_run(self, summary=""):
        self.calls.append(("end_run", summary))

    def log(self, message):
        self.calls.append(("log", message))

    def on_fit_start(self, total):
        self.calls.append(("on_fit_start", total))

    def on_steps(self, done, loss):
        self.calls.append(("on_steps", done))

    def on_epoch_end(self, log):
        self.calls.append(("on_epoch_end", log.epoch))


def _fit(hooks, lr=0.05, epochs=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    set_seed(0)
    engine = Engine(lambda: keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)]),
                    lambda: make_optimizer("gd", lr))
    hooks.start_run("gd lr=0.05")
    fit = engine.fit(x, y, FitConfig(epochs=epochs, batch_size=32, steps_per_execution=4), eval_data=(x, y),
                     hooks=hooks)
    hooks.end_run("done")
    return fit


def test_events_hold_loss_accuracy_lr_and_throughput(tmp_path):
    inner = Recorder()
    hooks = TensorBoardHooks(inner, tmp_path / "tb", {"optimizer": "gd", "lr": 0.05, "nested": {"batch": 32}})
    fit = _fit(hooks)
    hooks.log("bye")
    scalars = read_scalars(tmp_path / "tb")
    assert list(scalars) == ["01-gd_lr=0.05"]
    tags = next(iter(scalars.values()))
    # one loss point per compiled call of 4 steps: 8 steps an epoch → steps 4, 8, … 24
    steps = [s for s, _ in tags["train/loss"]]
    assert steps == list(range(4, 25, 4))
    np.testing.assert_allclose([v for _, v in tags["train/loss"]], [fit.losses[s - 1] for s in steps], rtol=1e-6)
    assert [s for s, _ in tags["eval/accuracy"]] == [1, 2, 3]
    np.testing.assert_allclose([v for _, v in tags["eval/accuracy"]], [e.eval_accuracy for e in fit.epochs],
                               rtol=1e-6)
    np.testing.assert_allclose([v for _, v in tags["train/epoch_loss"]], [e.train_loss for e in fit.epochs],
                               rtol=1e-6)
    np.testing.assert_allclose([v for _, v in tags["train/learning_rate"]], [0.05] * 3, rtol=1e-6)
    expected_ips = [e.steps * 32 / e.seconds for e in fit.epochs]
    np.testing.assert_allclose([v for _, v in tags["perf/images_per_second"]], expected_ips, rtol=1e-5)
    # everything reached the progress bar too, in order
    kinds = [c[0] for c in inner.calls]
    assert kinds[0] == "start_run" and kinds[1] == "on_fit_start" and kinds[-1] == "log"
    assert kinds.count("on_steps") == 6 and kinds.count("on_epoch_end") == 3 and ("end_run", "done") in inner.calls


def test_config_is_written_as_text_and_hparams_when_tensorboard_is_installed(tmp_path):
    import tensorflow as tf

    hooks = TensorBoardHooks(Recorder(), tmp_path / "tb", {"optimizer": "gd", "lr": 0.05})
    _fit(hooks, epochs=1)
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert len(events) == 1
    plugins = {}
    for event in tf.compat.v1.train.summary_iterator(str(events[0])):
        for value in event.summary.value:
            plugins.setdefault(value.metadata.plugin_data.plugin_name, []).append(value)
    text = tf.make_ndarray(plugins["text"][0].tensor).item().decode()
    assert '"optimizer": "gd"' in text and '"lr": 0.05' in text and '"run": "gd lr=0.05"' in text
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        pytest.skip("the tensorboard package is not installed (pip install -e '.[tensorboard]'): no hparams plugin")
    assert "hparams" in plugins


def test_a_second_run_gets_its_own_folder(tmp_path):
    hooks = TensorBoardHooks(Recorder(), tmp_path / "tb")
    _fit(hooks, epochs=1)
    _fit(hooks, epochs=1)
    assert sorted(read_scalars(tmp_path / "tb")) == ["01-gd_lr=0.05", "02-gd_lr=0.05"]


def test_a_worker_runs_epoch_records_reach_tensorboard_through_the_launcher(tmp_path, monkeypatch):
    """In `mnist workers` and `scale --strategy multiworker` the engine runs in worker processes and its hooks
    are RemoteProgress events replayed by forward_to: the chief's end-of-epoch records must reach the TensorBoard
    writer too (they used to stop at the launcher, leaving only train/loss). A worker's records are not written:
    its losses and accuracies are the same all-reduced numbers as the chief's."""
    import json

    from dltool.engine import workers

    events = []
    monkeypatch.delenv(workers.ENV_DIR, raising=False)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.setattr(workers, "_local_sink", lambda index, event: events.append(json.loads(json.dumps(event))))
    fit = _fit(workers.RemoteProgress())

    inner = Recorder()
    forward = workers.forward_to(TensorBoardHooks(inner, tmp_path / "tb"))
    for event in events:
        forward(0, event)
        forward(1, dict(event, label="worker 1"))  # the same run seen by a second worker: not written
    scalars = read_scalars(tmp_path / "tb")
    assert list(scalars) == ["01-gd_lr=0.05"]
    tags = scalars["01-gd_lr=0.05"]
    assert [s for s, _ in tags["train/loss"]] == list(range(4, 25, 4))
    for tag, field in (("train/epoch_loss", "train_loss"), ("train/accuracy", "train_accuracy"),
                       ("eval/loss", "eval_loss"), ("eval/accuracy", "eval_accuracy"),
                       ("train/learning_rate", "learning_rate")):
        assert [s for s, _ in tags[tag]] == [1, 2, 3], tag
        np.testing.assert_allclose([v for _, v in tags[tag]], [getattr(e, field) for e in fit.epochs], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in tags["perf/images_per_second"]],
                               [e.examples / e.seconds for e in fit.epochs], rtol=1e-5)
    assert [c for c in inner.calls if c[0] == "on_epoch_end"] == [("on_epoch_end", e) for e in (1, 2, 3)]
