"""scale: the arithmetic (speedup, efficiency, cost, epoch time), the plan, the input adaptation, and real runs on
1 and 2 virtual devices and on 2 local worker processes with a tiny model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltool.errors import MissingError, UsageError
from dltool.experiments import scale


def _run(mode, n, step_time, batch):
    thr = batch / step_time
    return scale.LearnerRun(mode=mode, learners=n, devices=f"{n}", virtual=True, global_batch=batch,
                            per_learner_batch=batch // n, steps=10, timed_calls=8, step_time=step_time,
                            throughput=thr, throughput_sem=1.0, steps_per_epoch=60000 // batch,
                            epoch_seconds=(60000 // batch) * step_time, train_steps=100,
                            train_seconds=100 * step_time, cost=0.0, final_loss=1.0, status="finished")


def test_strong_and_weak_efficiency_definitions():
    runs = [_run("strong", 1, 1.0, 256), _run("strong", 2, 0.6, 256), _run("strong", 4, 0.4, 256),
            _run("weak", 1, 0.25, 64), _run("weak", 2, 0.3, 128), _run("weak", 4, 0.5, 256)]
    base = scale._derive(runs)
    assert base == {"strong": 1, "weak": 1}
    strong = {r.learners: r for r in runs if r.mode == "strong"}
    assert strong[2].speedup == pytest.approx(1 / 0.6)  # X(2)/X(1) = t(1)/t(2) at a fixed global batch
    assert strong[2].efficiency == pytest.approx(1 / 0.6 / 2)
    assert strong[4].efficiency == pytest.approx(0.625)
    weak = {r.learners: r for r in runs if r.mode == "weak"}
    assert weak[2].efficiency == pytest.approx(0.25 / 0.3)  # t_iter(1)/t_iter(N)
    assert weak[4].efficiency == pytest.approx(0.5)
    assert weak[4].speedup == pytest.approx(4 * 0.5)  # X(4)/X(1) = 4·t(1)/t(4)


def test_speedups_relative_to_the_smallest_count_when_one_is_missing():
    runs = [_run("strong", 2, 0.5, 256), _run("strong", 4, 0.25, 256)]
    assert scale._derive(runs) == {"strong": 2}
    assert runs[0].speedup == pytest.approx(2.0) and runs[0].efficiency == pytest.approx(1.0)
    assert runs[1].speedup == pytest.approx(4.0) and runs[1].efficiency == pytest.approx(1.0)


def test_record_epoch_time_training_time_and_cost():
    cfg = scale.ScaleConfig(epochs=10, price_per_hour=0.45)
    m = {"global_batch": 256, "steps": 40, "step_time": 0.5, "throughput": {"mean": 512.0, "sem": 3.0, "n": 30},
         "steps_per_epoch": 234, "final_loss": 2.0, "status": "finished"}
    r = scale._record(cfg, "strong", 4, {"label": "4 × GPU", "virtual": False}, m, shared=False)
    assert r.per_learner_batch == 64
    assert r.epoch_seconds == pytest.approx(117.0)  # 234 steps × 0.5 s
    assert r.train_steps == 2340 and r.train_seconds == pytest.approx(1170.0)
    assert r.cost == pytest.approx(4 * 1170 / 3600 * 0.45)  # learners × hours × price
    cfg_steps = scale.ScaleConfig(steps=100)
    r = scale._record(cfg_steps, "weak", 2, {"label": "2"}, m, shared=True)
    assert r.train_steps == 100 and r.train_seconds == pytest.approx(50.0) and r.shared_measurement


def test_plan_shares_equal_batches_and_validates():
    cfg = scale.ScaleConfig(learners=[1, 2, 4, 8])
    assert cfg.validate() == [1, 2, 4, 8]
    assert cfg.measurements(4) == [{"modes": ["strong", "weak"], "global_batch": 256}]  # 256/4 = 64 per learner
    assert cfg.measurements(2) == [{"modes": ["strong"], "global_batch": 256}, {"modes": ["weak"], "global_batch": 128}]
    with pytest.raises(UsageError, match="does not split evenly over 3"):
        scale.ScaleConfig(learners=[1, 3], global_batch=256).validate()
    with pytest.raises(UsageError, match="unknown model"):
        scale.ScaleConfig(model="vgg16").validate()
    with pytest.raises(UsageError):
        scale.ScaleConfig(mode="sideways").validate()
    with pytest.raises(UsageError):
        scale.ScaleConfig(price_per_hour=-1).validate()
    with pytest.raises(UsageError):
        scale.ScaleConfig(steps=1).validate()
    assert scale.canonical_model("cifar_resnet") == "resnet20"
    assert scale.canonical_model("ResNet-44") == "resnet44"
    assert scale.schedule(20, 234, None, None) == (2, 4)
    assert scale.schedule(2340, 234, None, None) == (50, 50)
    assert scale.schedule(8, 937, None, None) == (1, 1)


def test_more_learners_than_devices_is_exit_3_with_a_hint_to_virtual(monkeypatch):
    monkeypatch.setattr(scale, "_physical_gpus", lambda: 0)
    with pytest.raises(MissingError) as info:
        scale.check_devices(scale.ScaleConfig(), [1, 2])
    assert "--virtual" in info.value.hint
    assert scale.check_devices(scale.ScaleConfig(virtual=True), [1, 8]) == 0
    monkeypatch.setattr(scale, "_physical_gpus", lambda: 2)
    with pytest.raises(MissingError, match="this machine has 2"):
        scale.check_devices(scale.ScaleConfig(), [1, 2, 4])


def test_fashion_mnist_is_padded_and_repeated_to_32x32x3():
    import keras

    model = scale.build_model("resnet20", (28, 28, 1))
    assert model.output_shape == (None, 10)
    rgb = keras.Model(model.input, model.get_layer("grey_to_rgb").output)
    image = np.arange(28 * 28, dtype=np.int64).reshape(1, 28, 28, 1) % 256
    out = np.asarray(rgb(image.astype("uint8")))
    assert out.shape == (1, 32, 32, 3)
    assert np.all(out[:, :2] == 0) and np.all(out[:, -2:] == 0) and np.all(out[:, :, :2] == 0)
    for c in range(3):
        np.testing.assert_allclose(out[0, 2:30, 2:30, c], image[0, :, :, 0] / 255.0, rtol=1e-6)


def test_scale_on_one_and_two_virtual_devices():
    cfg = scale.ScaleConfig(learners=[1, 2], virtual=True, model="softmax", dataset="synthetic", steps=10,
                            global_batch=64, per_learner_batch=32)
    recorded = []
    result = scale.run(cfg, on_run=recorded.append)
    assert [(r.mode, r.learners) for r in result.runs] == [("strong", 1), ("weak", 1), ("strong", 2), ("weak", 2)]
    assert recorded == result.runs  # each run handed over as it finished
    by = {(r.mode, r.learners): r for r in result.runs}
    assert by[("strong", 1)].devices == "1 × CPU (virtual)" and by[("strong", 2)].devices == "2 × CPU (virtual)"
    assert all(r.virtual for r in result.runs) and result.virtual
    assert by[("strong", 2)].per_learner_batch == 32 and by[("weak", 2)].global_batch == 64
    assert by[("strong", 2)].shared_measurement and by[("weak", 2)].step_time == by[("strong", 2)].step_time
    for r in result.runs:
        assert r.status == "finished" and r.steps == 10 and r.timed_calls >= 5
        assert r.throughput > 0 and r.throughput_sem >= 0
        assert r.throughput == pytest.approx(r.global_batch / r.step_time, rel=0.5)
        assert r.epoch_seconds == pytest.approx(r.steps_per_epoch * r.step_time)
        assert r.efficiency == pytest.approx(r.speedup / r.learners) if r.mode == "strong" else True
    assert by[("strong", 1)].speedup == pytest.approx(1.0)
    assert by[("weak", 2)].efficiency == pytest.approx(by[("weak", 1)].step_time / by[("weak", 2)].step_time)
    assert result.parameters == 28 * 28 * 10 + 10  # softmax on 28×28×1
    assert any("VIRTUAL" in note for note in result.notes)


def test_scale_on_two_local_workers():
    cfg = scale.ScaleConfig(strategy="multiworker", learners=[2], model="softmax", dataset="synthetic", steps=10,
                            global_batch=64, per_learner_batch=32, mode="strong")
    result = scale.run(cfg)
    (run,) = result.runs
    assert run.learners == 2 and run.devices == "2 × CPU, 2 workers" and not run.virtual
    assert run.per_learner_batch == 32 and run.status == "finished" and run.throughput > 0
    assert math.isfinite(run.final_loss)
    assert "worker process" in result.device_kind


@pytest.mark.slow
def test_resnet_on_real_fashion_mnist_through_the_adaptation(data_dir):
    cfg = scale.ScaleConfig(learners=[1], virtual=True, model="resnet20", dataset="fashion-mnist", steps=4,
                            global_batch=32, mode="strong")
    result = scale.run(cfg)
    (run,) = result.runs
    assert result.dataset["name"] == "fashion_mnist" and result.dataset["train"] == 60000
    assert result.input_adaptation and "zero-pad 2 px" in result.input_adaptation
    assert result.parameters == 271_098  # ResNet-20 at 32×32×3; the adaptation layers have no weights
    assert run.steps_per_epoch == 60000 // 32 and run.status == "finished" and math.isfinite(run.final_loss)
