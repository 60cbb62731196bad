"""scale: the arithmetic (speedup, efficiency, cost, epoch time), the plan, the input adaptation, and real runs on
1 and 2 virtual devices and on 2 local worker processes with a tiny model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltool import models
from dltool.engine.throughput import plan
from dltool.errors import MissingError, UsageError
from dltool.experiments import scale


def _run(mode, n, step_time, batch):
    thr = batch / step_time
    return scale.LearnerRun(mode=mode, learners=n, devices=f"{n}", virtual=True, global_batch=batch,
                            per_learner_batch=batch // n, steps=10, timed_calls=8, step_time=step_time,
                            throughput=thr, throughput_sem=1.0, steps_per_epoch=60000 // batch,
                            epoch_seconds=(60000 // batch) * step_time, wall_seconds=12 * step_time, work_epochs=10,
                            work_steps=100, extrapolated_seconds=100 * step_time, training_seconds=100 * step_time,
                            training_time_measured=False, device_hours=n * 100 * step_time / 3600, cost=None,
                            final_loss=1.0, status="finished")


def test_strong_and_weak_efficiency_definitions():
    runs = [_run("strong", 1, 1.0, 256), _run("strong", 2, 0.6, 256), _run("strong", 4, 0.4, 256),
            _run("weak", 1, 0.25, 64), _run("weak", 2, 0.3, 128), _run("weak", 4, 0.5, 256)]
    base = scale._derive(runs)
    assert base == {"strong": 1, "weak": 1}
    strong = {r.learners: r for r in runs if r.mode == "strong"}
    assert strong[2].speedup == pytest.approx(1 / 0.6)  # X(2)/X(1) = t(1)/t(2) at a fixed global batch
    assert strong[2].efficiency == pytest.approx(1 / 0.6 / 2)
    assert strong[4].efficiency == pytest.approx(0.625)
    assert all(r.iteration_time_ratio is None for r in strong.values())  # the report defines it for weak only
    weak = {r.learners: r for r in runs if r.mode == "weak"}
    # the report's scaling efficiency: the increase in time to finish one iteration, t_iter(N)/t_iter(1)
    assert weak[1].iteration_time_ratio == pytest.approx(1.0)
    assert weak[2].iteration_time_ratio == pytest.approx(0.3 / 0.25)  # 1.2: 20 % longer per iteration
    assert weak[4].iteration_time_ratio == pytest.approx(2.0)  # 0.5 s against 0.25 s
    assert weak[2].efficiency == pytest.approx(0.25 / 0.3)  # conventional: t_iter(1)/t_iter(N)
    assert weak[4].efficiency == pytest.approx(0.5)
    assert weak[4].speedup == pytest.approx(4 * 0.5)  # X(4)/X(1) = 4·t(1)/t(4)


def test_speedups_relative_to_the_smallest_count_when_one_is_missing():
    runs = [_run("strong", 2, 0.5, 256), _run("strong", 4, 0.25, 256), _run("weak", 2, 0.2, 128),
            _run("weak", 4, 0.3, 256)]
    assert scale._derive(runs) == {"strong": 2, "weak": 2}
    assert runs[0].speedup == pytest.approx(2.0) and runs[0].efficiency == pytest.approx(1.0)
    assert runs[1].speedup == pytest.approx(4.0) and runs[1].efficiency == pytest.approx(1.0)
    assert runs[3].iteration_time_ratio == pytest.approx(1.5)  # relative to N0 = 2


def _measurement(steps, wall=7.0):
    return {"global_batch": 256, "steps": steps, "step_time": 0.5, "wall_seconds": wall,
            "throughput": {"mean": 512.0, "sem": 3.0, "n": 30}, "steps_per_epoch": 234, "final_loss": 2.0,
            "status": "finished"}


def test_record_extrapolated_training_time_when_only_some_steps_ran():
    cfg = scale.ScaleConfig(epochs=10, steps=14)
    r = scale._record(cfg, "strong", 4, {"label": "4 × GPU", "virtual": False}, _measurement(14), shared=False,
                      price=0.45)
    assert r.per_learner_batch == 64
    assert r.epoch_seconds == pytest.approx(117.0)  # 234 steps × 0.5 s
    assert r.wall_seconds == pytest.approx(7.0)  # measured, reported as it was
    assert r.work_steps == 2340 and r.extrapolated_seconds == pytest.approx(1170.0)  # 10 epochs × 234 × 0.5 s
    assert not r.training_time_measured and r.training_seconds == pytest.approx(1170.0)
    assert "extrapolated" in r.training_time_basis
    assert r.device_hours == pytest.approx(4 * 1170 / 3600)
    assert r.cost == pytest.approx(4 * 1170 / 3600 * 0.45)  # learners × hours × price per GPU-hour


def test_record_measured_wall_time_when_the_job_trained_every_epoch():
    cfg = scale.ScaleConfig(epochs=10)
    r = scale._record(cfg, "weak", 2, {"label": "2 × GPU"}, _measurement(2340, wall=1300.0), shared=True,
                      price=0.45)
    assert r.training_time_measured and r.training_time_basis == "measured wall time"
    assert r.training_seconds == pytest.approx(1300.0)  # the wall clock, not 2340 × 0.5 s
    assert r.extrapolated_seconds == pytest.approx(1170.0) and r.shared_measurement
    assert r.cost == pytest.approx(2 * 1300 / 3600 * 0.45)


def test_no_cost_without_a_price():
    r = scale._record(scale.ScaleConfig(steps=14), "strong", 2, {"label": "2 × CPU (virtual)", "virtual": True},
                      _measurement(14), shared=False, price=None)
    assert r.cost is None and r.device_hours == pytest.approx(2 * 1170 / 3600)


def test_price_only_for_real_gpus_unless_given():
    default = scale.ScaleConfig()
    assert scale.resolve_price(default, "CPU", False) == (None, scale.NO_PRICE)
    assert scale.resolve_price(default, "CPU", True)[0] is None
    assert scale.resolve_price(default, "GPU", True)[0] is None  # logical devices split from one GPU
    price, source = scale.resolve_price(default, "GPU", False)
    assert price == 0.45 and "K80" in source and "per GPU-hour" in source
    price, source = scale.resolve_price(scale.ScaleConfig(price_per_hour=0.1), "CPU", True)
    assert price == 0.1 and "your price" in source and "device-hour" in source
    assert scale.resolve_price(scale.ScaleConfig(price_per_hour=2.5), "GPU", False)[0] == 2.5


def test_defaults_are_the_reports_settings():
    cfg = scale.ScaleConfig()
    assert cfg.validate() == [1, 2, 4, 8, 16]
    assert (cfg.model, cfg.dataset, cfg.global_batch, cfg.per_learner_batch, cfg.epochs, cfg.mode) == (
        "resnet50", "fashion_mnist", 256, 64, 10, "both")
    assert scale.differences_from_report(cfg, [1, 2, 4, 8, 16], "GPU", False) == []
    for n in (1, 2, 4, 8, 16):  # strong: effective 256, 256/N each; weak: 64 each, effective 64·N
        plan = {mode: m["global_batch"] for m in cfg.measurements(n) for mode in m["modes"]}
        assert plan == {"strong": 256, "weak": 64 * n}
    quick = scale.ScaleConfig(learners=[1, 2], model="deep_mnist_cnn", dataset="synthetic", steps=8, virtual=True)
    quick.validate()
    diffs = " ".join(scale.differences_from_report(quick, [1, 2], "CPU", True))
    for words in ("deep_mnist_cnn", "synthetic", "learners 1, 2", "extrapolated", "virtual"):
        assert words in diffs
    assert "batch" not in diffs  # the quick preset keeps the report's batches


def test_default_counts_fit_the_machine_and_say_what_was_skipped():
    cfg = scale.ScaleConfig()
    counts = cfg.validate()
    fitted, note = scale.fit_default_learners(cfg, counts, gpus=8)
    assert fitted == [1, 2, 4, 8] and "16" in note and "multiworker" in note
    assert scale.fit_default_learners(cfg, counts, gpus=16) == (counts, None)
    assert scale.fit_default_learners(cfg, counts, gpus=0) == (counts, None)  # no GPUs: exit 3 later, hint --virtual
    explicit = scale.ScaleConfig(learners=[1, 2, 4, 8, 16])
    assert scale.fit_default_learners(explicit, explicit.validate(), gpus=8)[0] == [1, 2, 4, 8, 16]


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
    assert models.canonical("cifar_resnet", models.THROUGHPUT_MODELS) == "resnet20"
    assert models.canonical("ResNet-44", models.THROUGHPUT_MODELS) == "resnet44"
    assert plan(20, 234, None, None) == (2, 4)
    assert plan(2340, 234, None, None) == (50, 50)
    assert plan(8, 937, None, None) == (1, 1)


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

    model = models.build_uint8("resnet20", (28, 28, 1))
    assert model.output_shape == (None, 10)
    rgb = keras.Model(model.input, model.get_layer("grey_to_rgb").output)
    image = np.arange(28 * 28, dtype=np.int64).reshape(1, 28, 28, 1) % 256
    out = np.asarray(rgb(image.astype("uint8")))
    assert out.shape == (1, 32, 32, 3)
    assert np.all(out[:, :2] == 0) and np.all(out[:, -2:] == 0) and np.all(out[:, :, :2] == 0)
    for c in range(3):
        np.testing.assert_allclose(out[0, 2:30, 2:30, c], image[0, :, :, 0] / 255.0, rtol=1e-6)


@pytest.mark.slow  # ≈ 25 s on 2 cores
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
        # mean of per-call rates ≥ batch / mean step time (arithmetic ≥ harmonic mean), whatever the load
        assert r.throughput >= r.global_batch / r.step_time * (1 - 1e-9)
        assert r.epoch_seconds == pytest.approx(r.steps_per_epoch * r.step_time)
        # wall time measured: at least the timed steps, and it is not the step-time product
        assert r.wall_seconds >= (r.steps - 2) * r.step_time * 0.9
        assert not r.training_time_measured and r.work_steps == 10 * r.steps_per_epoch
        assert r.training_seconds == pytest.approx(r.work_steps * r.step_time)
        assert r.cost is None  # virtual CPU devices have no price
        assert r.efficiency == pytest.approx(r.speedup / r.learners) if r.mode == "strong" else True
    assert by[("strong", 1)].speedup == pytest.approx(1.0)
    assert by[("weak", 2)].efficiency == pytest.approx(by[("weak", 1)].step_time / by[("weak", 2)].step_time)
    assert result.parameters == 28 * 28 * 10 + 10  # softmax on 28×28×1
    assert any("VIRTUAL" in note for note in result.notes)
    assert result.price_per_hour is None and result.price_source == scale.NO_PRICE
    assert result.training_time_basis.startswith("extrapolated")
    assert by[("weak", 2)].iteration_time_ratio == pytest.approx(by[("weak", 2)].step_time / by[("weak", 1)].step_time)
    doc = result.to_dict()
    assert doc["runs"][0]["training_time_basis"].startswith("extrapolated") and "wall_seconds" in doc["definitions"]


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


def test_config_from_options_owns_the_flag_rules(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    cfg = scale.ScaleConfig.from_options(True)
    assert cfg.virtual and cfg.learners == [1, 2] and (cfg.model, cfg.dataset, cfg.steps) == ("deep_mnist_cnn",
                                                                                             "synthetic", 8)
    cfg = scale.ScaleConfig.from_options(True, strategy="multiworker")
    assert not cfg.virtual and cfg.learners == [1, 2] and not cfg.join  # virtual devices are mirrored's
    assert scale.ScaleConfig.from_options(False, strategy="multiworker").learners == [1, 2]
    assert scale.ScaleConfig.from_options(False).learners is None  # the report's, fitted to the machine by run()
    cfg = scale.ScaleConfig.from_options(True, gpus="4", model="mlp", cross_device_ops="Reduction_To_One_Device")
    assert cfg.learners == [1, 2, 4] and cfg.model == "mlp" and cfg.cross_device_ops == "reduction-to-one-device"
    for bad in (dict(strategy="multiworker", gpus="2"), dict(workers="2"), dict(cross_device_ops="foo"),
                dict(strategy="multiworker", communication="foo")):
        with pytest.raises(UsageError):
            scale.ScaleConfig.from_options(False, **bad)
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 0}}')
    assert scale.ScaleConfig.from_options(False, strategy="multiworker").join
    with pytest.raises(UsageError, match="TF_CONFIG"):
        scale.ScaleConfig.from_options(False, strategy="multiworker", workers="2")
