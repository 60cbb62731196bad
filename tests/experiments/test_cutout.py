"""cutout: the ResNet-44 parameter count, the engine's batch-augmentation hook (M copies, loss still a mean),
`show` on real sample images, resuming an interrupted study, and a tiny real training run."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from dltool.data import augment as A  # noqa: E402
from dltool.errors import UsageError  # noqa: E402
from dltool.experiments import cutout as exp  # noqa: E402


def test_resnet44_parameter_count():
    """Counted by hand: 3×3 convolutions without bias, BatchNorm after each, dense 64 → 10."""
    convs = 3 * 3 * 3 * 16  # stem
    convs += 14 * (3 * 3 * 16 * 16)  # stage 1: 7 blocks × 2 convs
    convs += 3 * 3 * 16 * 32 + 13 * (3 * 3 * 32 * 32)  # stage 2: the first conv halves the size
    convs += 3 * 3 * 32 * 64 + 13 * (3 * 3 * 64 * 64)  # stage 3
    bn_channels = 16 + 14 * 16 + 14 * 32 + 14 * 64  # one BatchNorm per conv
    dense = 64 * 10 + 10
    trainable = convs + 2 * bn_channels + dense  # γ, β
    total = trainable + 2 * bn_channels  # + moving mean, moving variance
    assert (convs, trainable, total) == (654_768, 658_586, 661_754)
    assert exp.resnet_parameters(44) == (total, trainable) == (exp.RESNET44_PARAMS, exp.RESNET44_TRAINABLE)
    assert exp.resnet_parameters(20) == (271_098, 269_722)
    assert exp.resnet_parameters(8) == (75_770, 75_290)  # the --quick model


def test_engine_batch_multiplier_keeps_the_loss_a_mean():
    """M identical copies of each batch (no augmentation) must train exactly like M = 1: the engine averages
    the loss over M·B examples, so the gradient and the SGD steps are the same."""
    from dltool.engine.loop import Engine, FitConfig, set_seed

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    weights, losses = {}, {}
    for m in (1, 4):
        set_seed(0)
        engine = Engine(lambda: keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)]),
                        lambda: keras.optimizers.SGD(0.5))
        def copies(xb, yb, m=m):
            return A.batch_copies(xb, yb, m)
        fit = engine.fit(x, y, FitConfig(epochs=3, batch_size=16, map_fn=copies, batch_multiplier=m,
                                         evaluate=False))
        weights[m] = [v.numpy() for v in engine.model.trainable_variables]
        losses[m] = fit.losses
        assert fit.steps == 12  # 64 // 16 steps per epoch: an epoch is still N / B steps
    assert np.allclose(losses[1], losses[4], rtol=1e-5)
    assert all(np.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(weights[1], weights[4]))
    assert losses[1][-1] < losses[1][0]


def test_show_on_two_real_images(cifar_dir):
    result = exp.show(exp.ShowConfig(n=2, seed=0))
    assert len(result.images) == 2 and result.original.shape == result.cut.shape == (2, 32, 32, 3)
    for k, info in enumerate(result.images):
        y1, y2, x1, x2 = info.box
        assert info.box == A.cutout_box(*info.centre, 32, 32, 16)
        inside = np.zeros((32, 32), bool)
        inside[y1:y2, x1:x2] = True
        assert np.all(result.cut[k][inside] == 0)
        assert np.array_equal(result.cut[k][~inside], result.original[k][~inside])
        assert info.zeroed_pixels <= inside.sum() and inside.sum() >= 64
        assert info.class_name in ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                                   "truck")
    with pytest.raises(UsageError):
        exp.show(exp.ShowConfig(n=0))


def test_config_checks():
    exp.CutoutConfig().validate()
    for kwargs in (dict(ms=[]), dict(ms=[0, 2]), dict(ms=[2, 2]), dict(target=0.0), dict(target=1.5),
                   dict(lr=-0.1), dict(momentum=1.0), dict(cutout_size=0), dict(depth=45), dict(validation=0),
                   dict(lr_schedule="cosine")):
        with pytest.raises(UsageError):
            exp.CutoutConfig(**kwargs).validate()


def test_setup_gaps_name_every_difference_from_the_assignment():
    assert exp.setup_gaps(exp.CutoutConfig(), 45_000) == []  # the defaults are the assignment's set-up
    quick = exp.CutoutConfig(**exp.CutoutConfig.QUICK)
    assert exp.setup_gaps(quick, 1_500) == [
        "ResNet-8, not ResNet-44", "1,500 training images, not 45,000", "2 epochs, not up to 100",
        "constant η, not ÷10 at 50 % and 75 % of the epochs", "without M = 4, 8, 16, 32"]
    assert exp.setup_gaps(exp.CutoutConfig(batch_size=128, target=0.5), 45_000) == [
        "batch 128, not 64", "target 50 %, not 94 %"]


def _fake_run(m: int) -> exp.CutoutRun:
    return exp.CutoutRun(m=m, images_per_step=64 * m, augmentation=exp.augmentation_label(m, 16),
                         status="finished", epochs_run=2, epoch_of_target=None, time_to_target=None,
                         final_val_accuracy=0.3, best_val_accuracy=0.31, test_accuracy=0.29, train_seconds=12.5,
                         wall_seconds=14.0, seconds_per_epoch=6.25, images_per_second=100.0,
                         val_errors=[0.8, 0.7], train_losses=[2.3, 2.0])


def test_load_resume_and_mismatch(tmp_path):
    cfg = exp.CutoutConfig(ms=[1, 2], subset=200, max_epochs=2)
    doc = {"command": "cutout train", "config": json.loads(json.dumps(asdict(cfg), default=str)),
           "runs": [asdict(_fake_run(1))], "status": "interrupted"}
    (tmp_path / "results.json").write_text(json.dumps(doc))
    stored, runs = exp.load_resume(tmp_path)
    assert stored.ms == [1, 2] and stored.subset == 200 and stored.max_epochs == 2
    assert runs == [_fake_run(1)]
    exp.check_resume(stored, cfg)
    with pytest.raises(UsageError, match="max_epochs"):
        exp.check_resume(exp.CutoutConfig(ms=[1, 2], subset=200, max_epochs=3), stored)
    with pytest.raises(UsageError, match="lr_schedule"):
        exp.check_resume(exp.CutoutConfig(ms=[1, 2], subset=200, max_epochs=2, lr_schedule="constant"), stored)
    doc["command"] = "fit-line"
    (tmp_path / "results.json").write_text(json.dumps(doc))
    with pytest.raises(UsageError, match="not 'cutout train'"):
        exp.load_resume(tmp_path)
    with pytest.raises(UsageError, match="no results.json"):
        exp.load_resume(tmp_path / "nowhere")


def test_tiny_training_resumes_after_the_finished_m(cifar_dir):
    """M = 1 comes from an 'interrupted' run; only M = 2 trains (ResNet-8, 128 images, one epoch)."""
    cfg = exp.CutoutConfig(ms=[1, 2], max_epochs=1, depth=8, subset=192, validation=64, test_subset=100,
                           target=0.01)
    seen = []
    result = exp.train(cfg, on_run=seen.append, done=[_fake_run(1)])
    assert [r.m for r in result.runs] == [1, 2] and result.resumed == [1]
    assert result.runs[0] == _fake_run(1) and [r.m for r in seen] == [2]
    run = result.runs[1]
    assert run.images_per_step == 128 and run.augmentation.startswith("2 copies")
    assert run.epochs_run == 1 and len(run.val_errors) == 1 and len(run.train_losses) == 1
    # a 1 % target is reached at the first evaluation: the epoch and training time to the target are recorded
    assert run.status == "target reached" and run.epoch_of_target == 1.0
    assert 0 < run.time_to_target <= run.train_seconds
    assert run.final_val_accuracy >= 0.01 and 0 <= run.test_accuracy <= 1
    assert result.parameters == 75_770 and result.dataset["validation"] == 64 and result.dataset["train"] == 128
    assert result.setup_gaps[:2] == ["ResNet-8, not ResNet-44", "128 training images, not 45,000"]


def test_quick_preset_yields_to_every_given_value():
    cfg = exp.CutoutConfig.from_options(True, validation=0.1, depth=44)
    assert (cfg.validation, cfg.depth, cfg.ms, cfg.subset, cfg.max_epochs) == (0.1, 44, [1, 2], 2_000, 2)
    assert exp.CutoutConfig.from_options(False, validation=5000.0).validation == 5000  # a count of images: int
    assert exp.CutoutConfig.from_options(False) == exp.CutoutConfig()
