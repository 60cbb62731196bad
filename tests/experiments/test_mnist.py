"""The MNIST studies' numbers: parameter counts of the filters study, the report grid, the naive loss' NaN
(the report's 0.098 rows), engine reuse, time to a target accuracy, the MLP's sparsity measures, and the
pure helpers (curve thinning, one-cycle schedule, evaluation alignment). Real MNIST, tiny subsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltool.errors import UsageError
from dltool.experiments.mnist import cnn, common, filters, mlp, softmax
from dltool.experiments.mnist import devices as devices_study
from dltool.experiments.mnist import workers as workers_study

# ---- filters study: parameter counts ------------------------------------------------------------------------

EXPECTED_PARAMS = {8: 52_258, 16: 104_250, 32: 211_690, 64: 440_394, 128: 953_098, 256: 2_199_690}


def test_filters_parameter_counts_by_hand_and_by_keras():
    from dltool import models

    for f, expected in EXPECTED_PARAMS.items():
        assert filters.parameter_count(f) == expected
        assert 9 * f * f + 6283 * f + 1418 == expected
        assert models.filters_cnn(f).count_params() == expected
    assert common.FILTERS_PARAMS == EXPECTED_PARAMS


def test_filters_grid_trains_the_shared_run_once():
    cfg = filters.FiltersConfig()
    grid = cfg.grid()
    assert len(grid) == 4 + 6 - 1  # F = 16, lr 0.1 is in both sweeps
    assert (16, 0.1, "lr+filters") in grid
    with pytest.raises(UsageError):
        filters.FiltersConfig(filters=[], lrs=[]).validate()
    with pytest.raises(UsageError):
        filters.FiltersConfig(filters=[0]).validate()


def test_filters_tiny_run(mnist_dir):
    cfg = filters.FiltersConfig(filters=[8], lrs=[], epochs=1, subset=1_500, test_subset=500, validation=300)
    result = filters.run(cfg)
    (run,) = result.runs
    assert run.params == run.params_by_hand == run.reference_params == 52_258
    assert run.steps == 1_200 // 50 and len(run.epochs) == 1
    assert 0.2 < run.test_accuracy <= 1 and run.val_accuracy is not None
    assert run.train_seconds > 0 and run.images_per_second > 0


# ---- softmax --------------------------------------------------------------------------------------------------

def test_softmax_report_grid_has_19_rows_and_the_references():
    cfg = softmax.SoftmaxConfig(momentums=[])
    grid = cfg.grid()
    assert len(grid) == 19
    assert grid[0] == ("adagrad", 0.5, None) and ("adadelta", 9.0, None) in grid
    assert len(softmax.SoftmaxConfig().grid()) == 19 + 8  # plus momentum 0.2 … 0.8 × lr 0.01, 0.1
    assert common.SOFTMAX_REFERENCE[("adam", 0.1)] == common.SOFTMAX_REFERENCE[("rmsprop", 0.5)] == 0.098
    assert common.reference(common.SOFTMAX_REFERENCE, ("gd", 0.5), "fashion_mnist") is None


@pytest.mark.parametrize("kwargs", [dict(optimizers=["sgdx"]), dict(optimizers=["gd"], lrs=[-1.0]),
                                    dict(momentums=[1.5]), dict(loss="cheap"), dict(target_accuracy=1.5),
                                    dict(dataset="cifar10")])
def test_softmax_bad_config(kwargs):
    with pytest.raises(UsageError):
        softmax.SoftmaxConfig(**kwargs).validate()


def test_softmax_naive_loss_reproduces_the_reports_chance_rows(mnist_dir):
    """Adam 0.1 with −Σ y·log softmax turns NaN; argmax of NaN logits is class 0 for every test image."""
    cfg = softmax.SoftmaxConfig(settings=[("adam", 0.1), ("adam", 0.01), ("gd", 0.5)], momentums=[], steps=300,
                                loss="naive", subset=3_000, test_subset=1_000)
    seen = []
    result = softmax.run(cfg, on_run=seen.append)
    assert len(seen) == 3 and result.engines_built == 2  # Adam's two learning rates share one engine
    adam_big, adam, gd = result.runs
    data = common.load_arrays("mnist", subset=3_000, test_subset=1_000)
    zeros = float(np.mean(data.y_test == 0))
    assert adam_big.status == "diverged" and adam_big.outcome == "diverged"
    assert adam_big.test_accuracy == pytest.approx(zeros)
    assert adam_big.steps < 300 and all(math.isfinite(v) for v in adam_big.curve_loss)
    assert adam.outcome == "ok" and adam.test_accuracy > 0.8 and adam.reference == 0.9166
    assert gd.outcome == "ok" and gd.test_accuracy > 0.8 and gd.steps == 300


@pytest.mark.parametrize("kwargs", [dict(preset="report999"), dict(optimizer_defaults="tf2"), dict(init="he"),
                                    dict(holdout=-1)])
def test_softmax_bad_new_options(kwargs):
    with pytest.raises(UsageError):
        softmax.SoftmaxConfig(**kwargs).validate()


def test_softmax_report001_presets():
    grid = softmax.SoftmaxConfig(preset="report001-adam").grid()
    assert grid == [("adam", lr, None) for lr in (0.0001, 0.001, 0.01, 0.1)]
    momentum = softmax.SoftmaxConfig(preset="report001-momentum").grid()
    assert ("momentum", 0.1, 0.8) in momentum and len(momentum) == 8
    assert softmax.SoftmaxConfig(preset="report001-compare").grid() == [
        ("gd", 0.5, None), ("momentum", 0.1, 0.8), ("adam", 0.001, None)]


def test_softmax_defaults_reproduce_table_1_rows(mnist_dir):
    """The report's setting (one epoch of 55,000, W = 0, TF1 constants) lands within 0.01 of Table 1, and
    Adagrad equals FTRL as in the report."""
    cfg = softmax.SoftmaxConfig(settings=[("gd", 0.01), ("adagrad", 0.01), ("ftrl", 0.01), ("adadelta", 0.5)],
                                momentums=[])
    result = softmax.run(cfg)
    assert result.config.steps == 550 and result.data["train"] == 55_000
    for run in result.runs:
        assert run.reference_source == "report 000, Table 1"
        assert abs(run.test_accuracy - run.reference) <= 0.01, (run.optimizer, run.lr, run.test_accuracy)
    gd, adagrad, ftrl, _ = result.runs
    assert adagrad.test_accuracy == ftrl.test_accuracy and adagrad.curve_loss == pytest.approx(ftrl.curve_loss)


def test_softmax_reset_repeats_a_run_exactly(mnist_dir):
    cfg = softmax.SoftmaxConfig(settings=[("gd", 0.5), ("gd", 0.01), ("gd", 0.5)], momentums=[], steps=50,
                                subset=1_000, test_subset=500)
    first, slow, again = softmax.run(cfg).runs
    assert first.curve_loss == again.curve_loss and first.test_accuracy == again.test_accuracy
    assert slow.final_loss > first.final_loss


def test_softmax_target_accuracy_stops_early(mnist_dir):
    cfg = softmax.SoftmaxConfig(settings=[("gd", 0.5)], momentums=[], steps=1_000, subset=5_000, test_subset=1_000,
                                target_accuracy=0.8, eval_every=20)
    (run,) = softmax.run(cfg).runs  # 50 steps per epoch: evaluations at steps 20 and 40 of each epoch and at its end
    assert run.status == "target reached" and run.steps < 1_000 and run.steps % 10 == 0
    assert run.time_to_target is not None and 0 < run.time_to_target <= run.train_seconds
    assert run.test_accuracy >= 0.8


# ---- cnn ----------------------------------------------------------------------------------------------------

def test_cnn_presets_follow_the_reports():
    sweep = cnn.CnnConfig.from_options(preset="sweep")
    assert sweep.batch_sizes == [100, 50, 20, 10, 4] and sweep.lr == 1e-4 and sweep.epochs == 1
    assert sweep.model == "deep" and sweep.precision == "fp32"
    long = cnn.CnnConfig.from_options(preset="long")
    assert (long.batch_sizes, long.epochs) == ([50], 30)
    fast = cnn.CnnConfig.from_options(preset="fast99")
    assert fast.model == "fast" and fast.target_accuracy == 0.99 and fast.precision == "bf16"
    assert (fast.batch_sizes, fast.epochs, fast.lr, fast.schedule) == ([128], 1.5, 0.006, "onecycle")
    assert cnn.CnnConfig.from_options(preset="fast99", epochs=1).epochs == 1
    with pytest.raises(UsageError):
        cnn.CnnConfig.from_options(preset="fastest")
    with pytest.raises(UsageError):
        cnn.CnnConfig(model="vgg").validate()


def test_fast_cnn_size():
    from dltool import models

    assert models.fast_cnn().count_params() == 417_482


def test_one_cycle_schedule():
    from dltool.engine.optimizers import schedule

    sched = schedule(0.01, "one-cycle", total_steps=100, warmup=0.2)
    values = [float(sched(s)) for s in range(100)]
    assert values[19] == pytest.approx(0.01)
    assert max(values) == pytest.approx(0.01) and values[0] == pytest.approx(0.0005)
    assert values[99] == pytest.approx(0.01 / 80) and all(a <= b for a, b in zip(values[:20], values[1:20]))


def test_cnn_time_to_target(mnist_dir):
    cfg = cnn.CnnConfig.from_options(preset="fast99", epochs=1, batch_sizes=[100], subset=3_000, test_subset=1_000,
                                     target_accuracy=0.6, precision="fp32")
    (run,) = cnn.run(cfg).runs
    assert run.params == 417_482
    assert run.status == "target reached" and run.time_to_target is not None and run.epoch_of_target <= 1
    assert run.test_accuracy >= 0.6 and run.steps < 30 and run.reference == 0.992
    assert all(e["accuracy"] is not None for e in run.evals)
    # MFU: counted FLOPs × images/s ÷ the measured peak; a real fraction, shown in the table
    assert run.peak_flops > 1e9 and run.mfu > 0  # below 1 on a quiet machine; a peak measured under load reads low


# ---- mlp ----------------------------------------------------------------------------------------------------

def test_mlp_variants_share_the_base():
    runs = mlp.MlpConfig().variants()
    assert len(runs) == 8
    base, studies = runs[0]
    assert base.hidden == (100,) and studies == ["base", "schedule", "depth", "sparsity", "norm"]
    assert [v.hidden for v, _ in runs if "depth" in _] == [(100,), (50, 50), (25, 25, 25, 25)]
    with pytest.raises(UsageError):
        mlp.MlpConfig(studies=["width"]).validate()


def test_mlp_l1_makes_weights_small(mnist_dir):
    cfg = mlp.MlpConfig(studies=["sparsity"], epochs=1, subset=3_000, test_subset=500, gallery=4,
                        l1_definition="sum")
    result = mlp.run(cfg)
    base, l1, drop = result.runs
    assert (base.l2, l1.l1, l1.l2, drop.dropout) == (0.01, 0.05, 0.0, 0.2)
    assert l1.l1_definition == "sum" and base.l1_definition is None
    assert base.params == 784 * 100 + 100 + 100 * 10 + 10
    assert l1.mean_abs_weight < base.mean_abs_weight / 3
    assert l1.share_small > base.share_small
    assert base.test_accuracy > 0.6
    assert len(result.gallery["correct"]) == 4 and len(result.gallery["wrong"]) == 4
    assert all(g["label"] != g["prediction"] for g in result.gallery["wrong"])
    assert result.gallery_images["correct"].shape == (4, 28, 28)


# Every number report 003 gives for the MLP and workers studies, typed from the report: (section, quantity, value).
REPORT_003 = [
    ("Q1", "train_accuracy", 0.959), ("Q1", "test_accuracy", 0.956), ("Q1", "train_seconds", 133),
    ("Q2", "test_accuracy", 0.965), ("Q2", "train_seconds", 134),  # diminishing lr
    ("Q2", "test_accuracy", 0.961), ("Q2", "train_seconds", 141),  # Adagrad
    ("Q3 (model 1)", "train_seconds", 133), ("Q3 (model 2)", "train_seconds", 154),
    ("Q3 (model 3)", "train_seconds", 140),
    ("Q5", "test_accuracy", 0.941), ("Q5", "mean_abs_weight", 0.002),  # L1 λ 0.05
    ("Q5", "test_accuracy", 0.981), ("Q5", "mean_abs_weight", 0.06),  # dropout 20 %
    ("Q6 (vanilla)", "test_accuracy", 0.965), ("Q6", "test_accuracy", 0.971),
]


def test_mlp_defaults_are_report_003s():
    cfg = mlp.MlpConfig()
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.l2, cfg.decay, cfg.adagrad_lr, cfg.l1, cfg.dropout) == (
        50, 100, 0.1, 0.01, 0.1, 0.01, 0.05, 0.2)
    assert (cfg.decay_unit, cfg.l1_definition) == ("epoch", "report")
    for bad in (dict(decay_unit="hour"), dict(l1_definition="l0")):
        with pytest.raises(UsageError):
            mlp.MlpConfig(**bad).validate()


def test_every_report_003_number_has_a_reference():
    found = sorted((ref.source, ref.quantity, ref.value) for refs in mlp.REFERENCES.values() for ref in refs)
    expected = sorted((f"report 003, {section}", quantity, float(value)) for section, quantity, value in REPORT_003)
    assert found == expected  # none missing, none invented
    assert workers_study.REFERENCES[6] == (0.946, "report 003, Q4")
    # …and each reaches the run it belongs to at the report's setting (the l1 study adds the L1 candidates).
    cfg = mlp.MlpConfig(studies=list(mlp.STUDIES))
    attached = sorted((ref.source, ref.quantity, ref.value) for v, _ in cfg.variants()
                      if v.key != "l1" or v.l1_definition == "report"
                      for ref in cfg.references(v))
    assert attached == expected
    assert all(cfg.references(v) for v, _ in cfg.variants() if v.key == "l1")  # every candidate vs 94.1 %


def test_mlp_references_only_at_the_reports_setting():
    variants = dict((v.key, v) for v, _ in mlp.MlpConfig().variants())
    assert len(mlp.MlpConfig().references(variants["base"])) == 5
    assert mlp.MlpConfig(lr=0.5).references(variants["base"]) == []
    assert mlp.MlpConfig(l1=0.01).references(variants["l1"]) == []
    assert mlp.MlpConfig(dataset="fashion_mnist").references(variants["dropout"]) == []


def test_mlp_decay_unit():
    cfg = mlp.MlpConfig()
    variant = next(v for v, _ in cfg.variants() if v.key == "inverse-time")
    per_epoch = mlp.learning_rate(cfg, variant, 0.1, steps_per_epoch=600)
    per_step = mlp.learning_rate(mlp.MlpConfig(decay_unit="step"), variant, 0.1, steps_per_epoch=600)
    assert float(per_epoch(600)) == pytest.approx(0.1 / 1.1) and float(per_epoch(30_000)) == pytest.approx(0.1 / 6)
    assert float(per_step(600)) == pytest.approx(0.1 / 61)
    assert mlp.learning_rate(cfg, variant.__class__("c", "base"), 0.1, 600) == 0.1


@pytest.mark.parametrize("definition, divisor", [("sum", 1), ("report", 50), ("batch", 100), ("mean", 784 * 100),
                                                 ("dataset", 60_000)])
def test_l1_definitions(definition, divisor):
    from dltool import models

    model = models.mlp((28, 28, 1), (100,), 10, l2=0.01)
    mlp._l1_penalty(model, definition, 0.05, batch_size=100, n_train=60_000)
    kernel = model.get_layer("hidden1").kernel.numpy()
    (loss,) = [float(v) for v in model.losses]
    expected = 0.05 * np.abs(kernel).sum() / divisor + 0.01 * (kernel ** 2).sum()  # the L2 stays
    assert loss == pytest.approx(expected, rel=1e-5)


def test_l1_activity_definition():
    from dltool import models

    model = models.mlp((28, 28, 1), (100,), 10)
    mlp._l1_penalty(model, "activity", 0.05, batch_size=100, n_train=60_000)
    x = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32")
    model(x)
    hidden = np.maximum(x.reshape(8, -1) @ model.get_layer("hidden1").kernel.numpy()
                        + model.get_layer("hidden1").bias.numpy(), 0)
    (loss,) = [float(v) for v in model.losses]
    assert loss == pytest.approx(0.05 * np.abs(hidden).sum() / 8, rel=1e-4)


def test_mlp_l1_study_and_references(mnist_dir):
    cfg = mlp.MlpConfig(studies=["l1"], epochs=1, subset=2_000, test_subset=500, gallery=0)
    result = mlp.run(cfg)
    runs = {r.name: r for r in result.runs}
    assert [r.l1_definition for r in result.runs[1:]] == list(mlp.L1_DEFINITIONS) + ["sum"]
    assert runs["L1 0.05 (λ·Σ|w|) + L2 0.01"].l2 == 0.01
    # A stronger penalty leaves smaller weights: λ·Σ|w| ≫ λ·Σ|w|/50 ≫ λ·mean|w|.
    w = {r.l1_definition: r.mean_abs_weight for r in result.runs[1:6]}
    assert w["sum"] < w["report"] < w["mean"]
    rows = [row for row in result.references if row["run"] == "L1 0.05 (λ·Σ|w|/50)"]
    assert {(row["quantity"], row["reference"]) for row in rows} == {("test_accuracy", 0.941),
                                                                      ("mean_abs_weight", 0.002)}
    times = [row for row in result.references if row["quantity"] == "train_seconds"]
    assert times and all(row["delta"] is None for row in times)  # the report's times: no Δ, no ratio
    base = result.runs[0]
    assert {ref["source"] for ref in base.reference} == {"report 003, Q1", "report 003, Q3 (model 1)",
                                                         "report 003, Q6 (vanilla)"}


# ---- devices / workers: configuration -----------------------------------------------------------------------

def test_devices_config_checks_batch_split():
    devices_study.DevicesConfig().validate()
    with pytest.raises(UsageError):
        devices_study.DevicesConfig(devices=[1, 4], batch_sizes=[6]).validate()
    with pytest.raises(UsageError):
        devices_study.DevicesConfig(model="resnet").validate()


def test_workers_config():
    cfg = workers_study.WorkersConfig()
    cfg.validate()
    assert cfg.workers == [1, 6]
    # report 003, Q4: Q1's network (MLP 784-100-10, SGD 0.1, L2 0.01, batch 100) on 6 random shards.
    assert (cfg.model, cfg.optimizer, cfg.lr, cfg.l2, cfg.batch_size, cfg.shards, cfg.epochs) == (
        "mlp", "gd", 0.1, 0.01, 100, "random", 50)
    assert workers_study.WorkersConfig(model="softmax").l2 == 0.0
    for bad in (dict(workers=[0]), dict(communication="nccl2"), dict(shards="blocks"), dict(l2=-0.1),
                dict(l2=float("nan")), dict(model="softmax", l2=0.01)):
        with pytest.raises(UsageError):
            workers_study.WorkersConfig(**bad).validate()


def test_workers_reference():
    cfg = workers_study.WorkersConfig()
    assert cfg.reference(6) == (0.946, "report 003, Q4") and cfg.reference(1) == (0.956, "report 003, Q1")
    assert cfg.reference(2) is None
    assert workers_study.WorkersConfig(shards="strided").reference(6) is None  # the report's shards were random
    assert workers_study.WorkersConfig(shards="strided").reference(1) is not None  # one shard: no split
    assert workers_study.WorkersConfig(lr=0.5).reference(6) is None
    assert workers_study.WorkersConfig(dataset="fashion_mnist").reference(6) is None


def test_quick_presets_yield_to_what_was_given():
    quick = softmax.SoftmaxConfig.from_options(True)  # the four-row grid only when no grid was asked for
    assert quick.settings == softmax.QUICK_SETTINGS and (quick.momentums, quick.steps) == ([], 200)
    assert (quick.subset, quick.test_subset, quick.momentum_lrs) == (10_000, 2_000, [0.01, 0.1])
    assert softmax.SoftmaxConfig.from_options(True, optimizers=["adam"]).settings is None
    assert softmax.SoftmaxConfig.from_options(True, preset="report001-gd").settings is None
    assert softmax.SoftmaxConfig.from_options(True, momentums=[0.5]).momentums == [0.5]
    assert softmax.SoftmaxConfig.from_options(False).settings is None
    assert cnn.CnnConfig.from_options(True).preset == "quick"  # --quick alone: the quick preset
    fast = cnn.CnnConfig.from_options(True, preset="fast99")  # with another preset: that one, shrunk
    assert (fast.batch_sizes, fast.epochs, fast.subset, fast.test_subset) == ([128], 1, 2_000, 1_000)
    assert (fast.target_accuracy, fast.precision) == (0.99, "bf16")
    assert cnn.CnnConfig.from_options(True, preset="sweep", epochs=2).batch_sizes == [100, 50]
    assert cnn.CnnConfig.from_options(True, preset="sweep", epochs=2).epochs == 2
    assert filters.FiltersConfig.from_options(True).lr_filters == 8
    assert filters.FiltersConfig.from_options(True, lr_filters=16).lr_filters == 16  # given: kept, even 16
    filters.FiltersConfig.from_options(True).filters.append(32)  # the preset's lists are each config's own
    assert filters.FiltersConfig.from_options(True).filters == [8, 16]
    d = devices_study.DevicesConfig.from_options(True)
    assert (d.devices, d.batch_sizes, d.steps, d.model, d.subset) == ([1, 2], [4, 16], 10, "fast", 2_000)
    assert workers_study.WorkersConfig.from_options(True).workers == [1, 2]
    assert (mlp.MlpConfig.from_options(True).epochs, mlp.MlpConfig.from_options(True, epochs=3).epochs) == (1, 3)
    with pytest.raises(UsageError, match="larger than --subset 50"):
        softmax.SoftmaxConfig(subset=50).check_batches()


def test_thin_curve():
    steps, means = common.thin([1.0] * 10 + [3.0] * 10, points=2)
    assert steps == [10, 20] and means == [1.0, 3.0]
    steps, means = common.thin([1.0, float("nan"), 3.0], points=10)
    assert steps == [1, 3] and means == [1.0, 3.0]
