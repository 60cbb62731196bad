"""eggholder: the function, the network grid under the budget, bundles == alone, RMSE in f's units."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from dltool.data.synthetic import eggholder as f
from dltool.errors import UsageError
from dltool.experiments import eggholder as exp

# ---- the function and the data ---------------------------------------------------------------------------

def test_global_minimum_value():
    assert float(f(512.0, 404.2319)) == pytest.approx(-959.6407, abs=1e-3)


def test_constant_predictor_rmse_is_about_298():
    data = exp.make_data(exp.EggholderConfig(samples=100_000, noise_std=0.3))
    assert len(data.y_train) == 80_000 and len(data.y_test) == 20_000
    # the standard deviation of f over [−512, 512]² is ≈ 298; a 20,000-sample test set lands within ±5
    assert data.constant_rmse == pytest.approx(298, abs=5)
    assert data.constant_rmse == pytest.approx(float(np.std(data.y_test)), rel=1e-3)


def test_standardizer_round_trip_and_rmse_units():
    data = exp.make_data(exp.EggholderConfig(samples=2_000))
    s = data.scaler
    assert abs(float(np.mean(s.y(data.y_train)))) < 1e-5 and float(np.std(s.y(data.y_train))) == pytest.approx(1, 1e-4)
    assert np.abs(s.x(data.x_train)).max() <= 1.0
    np.testing.assert_allclose(s.unscale(s.y(data.y_test)), data.y_test, atol=1e-3)
    # predicting 0 on the standardised scale is predicting the training mean: the constant predictor, in f's units
    zero = s.unscale(np.zeros((len(data.y_test), 1)))
    assert exp.rmse(zero, data.y_test)[0] == pytest.approx(data.constant_rmse, rel=1e-9)
    # an error of one standardised unit is y_std in f's units
    assert exp.rmse(s.unscale(s.y(data.y_test) + 1.0), data.y_test)[0] == pytest.approx(s.y_std, rel=1e-5)


# ---- the grid --------------------------------------------------------------------------------------------

def test_default_grid_counts_ordered_sequences():
    nets = exp.enumerate_networks(exp.WIDTHS, exp.LAYERS, 512)
    by_depth = {d: [n for n in nets if len(n) == d] for d in (1, 2, 3)}
    assert [len(by_depth[d]) for d in (1, 2, 3)] == [6, 25, 112]
    assert len(nets) == 143 == len(set(nets))
    assert all(sum(n) <= 512 for n in nets)
    assert (16, 32) in nets and (32, 16) in nets  # ordered: different networks
    assert (512,) in nets and (256, 256) in nets and (256, 128, 128) in nets
    assert (512, 16) not in nets and (256, 256, 16) not in nets
    # exactly the sequences a brute force keeps
    brute = [c for d in (1, 2, 3) for c in itertools.product(exp.WIDTHS, repeat=d) if sum(c) <= 512]
    assert sorted(nets) == sorted(brute)


def test_non_increasing_grid_has_one_network_per_multiset():
    nets = exp.enumerate_networks(exp.WIDTHS, exp.LAYERS, 512, orders="non-increasing")
    assert [len([n for n in nets if len(n) == d]) for d in (1, 2, 3)] == [6, 15, 30]
    assert (32, 16) in nets and (16, 32) not in nets
    assert len({tuple(sorted(n)) for n in nets}) == len(nets) == 51


def test_widths_layers_and_budget_restrict_the_grid():
    assert len(exp.enumerate_networks([32, 128], [1, 2, 3], 512)) == 2 + 4 + 8
    assert exp.enumerate_networks([16, 64], [2], 80) == [(16, 16), (16, 64), (64, 16)]
    # sum ≤ 96: 16-16-16, 32-32-32 and three orders each of 16-16-32, 16-32-32, 16-16-64
    assert len(exp.enumerate_networks(exp.WIDTHS, [3], 96)) == 1 + 1 + 3 + 3 + 3
    cfg = exp.EggholderConfig(widths=[16, 32], layers=[1], max_networks=1)
    assert cfg.networks() == [(16,)]


@pytest.mark.parametrize("kwargs", [dict(widths=[600], layers=[1], budget=512),
                                    dict(widths=[16], layers=[3], budget=40),
                                    dict(widths=[0, 16], layers=[1], budget=512),
                                    dict(widths=[16], layers=[0], budget=512),
                                    dict(widths=[16], layers=[1], budget=512, orders="random")])
def test_empty_or_bad_grid_is_a_usage_error(kwargs):
    with pytest.raises(UsageError):
        exp.enumerate_networks(**kwargs)


def test_parameter_counts_match_keras():
    for widths in [(16,), (512,), (16, 32), (256, 128, 128)]:
        model = exp.build_bundle([widths], seed=0)
        trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
        assert exp.parameters(widths) == trainable
    assert exp.parameters((512,)) == 2 * 512 + 512 + 512 + 1 == 2049
    assert exp.parameters((16, 256)) == (2 * 16 + 16 + 32) + (16 * 256 + 256 + 512) + 257 == 5201


def test_bundle_plans():
    nets = exp.EggholderConfig().networks()
    assert [len(b) for b in exp.plan_bundles(nets[:10], 4)] == [4, 4, 2]
    auto = exp.plan_bundles(nets, None)
    assert sum(len(b) for b in auto) == 143 and [n for b in auto for n in b] == nets
    for group in auto:
        assert len(group) <= exp.AUTO_BUNDLE_MAX
        assert len(group) == 1 or sum(exp.multiply_adds(n) for n in group) <= exp.AUTO_BUNDLE_COST
    assert [len(b) for b in exp.plan_bundles(nets, 1)] == [1] * 143


# ---- training --------------------------------------------------------------------------------------------

def _sub_weights(model, k):
    return [v.numpy() for layer in model.layers if layer.name.startswith(f"net{k}_") for v in layer.weights]


def test_bundled_networks_train_exactly_as_alone():
    cfg = exp.EggholderConfig(samples=3_000, epochs=4, batch_size=500, lr=0.01, bn_recalibrate=False)
    data = exp.make_data(cfg)
    nets = [(16,), (32, 16), (16, 16, 16)]
    bundle_engine, bundle_fit = exp.train_bundle(nets, data, cfg)
    assert bundle_fit.status == "finished" and bundle_fit.steps == 4 * 4
    for k, widths in enumerate(nets):
        alone, fit = exp.train_bundle([widths], data, cfg)
        initial = alone._initial_weights
        got, want = _sub_weights(bundle_engine.model, k), _sub_weights(alone.model, 0)
        assert len(got) == len(want) > 0
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        # and training moved them: the comparison is not between two untouched initialisations
        assert any(not np.allclose(w0, v.numpy()) for w0, v in zip(initial, alone.model.variables))
    # the bundle's loss is the sum of the networks' MSEs, so its first loss equals the sum of theirs
    one_epoch = dataclasses.replace(cfg, epochs=1)
    firsts = [exp.train_bundle([w], data, one_epoch)[1].losses[0] for w in nets]
    assert bundle_fit.losses[0] == pytest.approx(sum(firsts), rel=1e-5)


def test_batch_norm_recalibration_makes_inference_match_the_batch_statistics():
    cfg = exp.EggholderConfig(samples=2_000, epochs=3, batch_size=500, bn_recalibrate=False)
    data = exp.make_data(cfg)
    engine, _ = exp.train_bundle([(32, 32, 32)], data, cfg)
    x = data.scaler.x(data.x_train[:1_000])
    train_mode = np.asarray(engine.model(x, training=True))
    before = exp.predict(engine.model, x)
    assert np.abs(before - train_mode).max() > 1e-2  # the moving averages lag after 9 steps
    assert exp.recalibrate_batch_norm(engine.model, x) == 3
    np.testing.assert_allclose(exp.predict(engine.model, x), train_mode, rtol=1e-3, atol=1e-3)


def test_run_reports_rmse_in_function_units_and_learns():
    cfg = exp.EggholderConfig(samples=4_000, epochs=40, widths=[32], layers=[1, 3], seed=0, time_alone=10)
    seen = []
    result = exp.run(cfg, on_run=seen.append)
    assert [r.name for r in seen] == [r.name for r in result.networks] == ["32", "32-32-32"]
    assert len(result.bundles) == 1 and result.bundles[0].status == "finished"
    assert result.noise_floor == 0.3 and result.n_train == 3_200 and result.n_test == 800
    assert 270 < result.constant_rmse < 330
    shallow, deep = result.networks
    for r in result.networks:
        assert r.status == "finished" and r.bundle_size == 2
        # f's units: an RMSE near the constant predictor's, not ≈ 1 as on the standardised scale
        assert 0.5 * result.constant_rmse < r.test_rmse < 1.2 * result.constant_rmse
        assert r.params == exp.parameters(r.widths)
        # timed on its own as well: ms per step, and that × the run's 40 epochs × 3 steps
        assert 0 < r.own_step_ms < 1_000 and r.own_timed_steps == 10
        assert r.own_train_seconds == pytest.approx(r.own_step_ms / 1e3 * 40 * 3)
        # the bundle's share is the same number for both networks: the bundle's seconds ÷ 2
        assert r.bundle_share_seconds == pytest.approx(result.bundles[0].train_seconds / 2)
    assert result.run_steps == 120 and result.timing_seconds > 0
    assert "extrapolated from 10 timed steps" in result.time_definitions["own_train_seconds"]
    assert set(result.time_definitions) == {"own_step_ms", "own_train_seconds", "bundle_share_seconds"}
    # 160 steps: the 3-layer BN network beats the constant predictor; the 1-layer one has not started yet
    assert deep.test_rmse < 0.95 * result.constant_rmse
    assert result.best["3"]["name"] == "32-32-32"
    assert result.best["3"]["vs_constant"] == pytest.approx(deep.test_rmse / result.constant_rmse)
    assert result.surfaces["truth"].shape == (exp.SURFACE_GRID, exp.SURFACE_GRID)
    assert set(result.surfaces["best"]) == {"1", "3"}
    assert result.networks_per_hour > 0


def test_own_step_time_grows_with_the_network():
    """The time-vs-parameters plot needs per-network times: timed alone, a 1-layer 16-unit network and a
    3-layer 128-unit one (8 µs vs 1 ms of maths per example) must not come out equal, as a bundle's share does."""
    cfg = exp.EggholderConfig(samples=3_000, batch_size=1000)
    assert cfg.time_alone == exp.TIME_ALONE_STEPS == 50  # on by default
    data = exp.make_data(cfg)
    small = exp.time_alone((16,), data, cfg)
    big = exp.time_alone((128, 128, 128), data, cfg)
    assert 0 < small < big
    # 33,537 vs 65 multiply-adds per example forward, BN on three layers: measured ≈ 20× here; 2× is a safe floor
    assert big > 2 * small, (small, big)


def test_no_timing_alone_leaves_only_the_bundle_share():
    cfg = exp.EggholderConfig(samples=2_000, epochs=2, batch_size=500, widths=[16], layers=[1, 2], time_alone=0)
    result = exp.run(cfg)
    assert all(r.own_step_ms is None and r.own_train_seconds is None for r in result.networks)
    assert result.timing_seconds == 0 and set(result.time_definitions) == {"bundle_share_seconds"}


def test_a_diverging_bundle_is_retrained_one_network_at_a_time():
    cfg = exp.EggholderConfig(samples=2_000, epochs=5, batch_size=500, widths=[64], layers=[2, 3], lr=50.0,
                              time_alone=0)
    result = exp.run(cfg)
    assert [r.status for r in result.networks] == ["diverged", "diverged"]
    assert [r.bundle_size for r in result.networks] == [1, 1]  # retrained alone after the bundle diverged
    assert all(r.test_rmse is None for r in result.networks) and result.best == {}


@pytest.mark.parametrize("kwargs", [dict(samples=5), dict(samples=1_200, batch_size=1_000),
                                    dict(noise_std=-0.1), dict(test_fraction=1.0), dict(lr=0.0),
                                    dict(momentum=1.0), dict(bundle=0), dict(epochs=0), dict(time_alone=-1)])
def test_bad_config_is_a_usage_error(kwargs):
    with pytest.raises(UsageError):
        exp.EggholderConfig(**kwargs).validate()


def test_config_defaults_quick_preset_and_bundle_option():
    cfg = exp.EggholderConfig.from_options(False)
    assert (cfg.samples, cfg.epochs, cfg.time_alone, cfg.widths) == (100_000, 2000, 50, None)
    cfg = exp.EggholderConfig.from_options(True, epochs=3)
    assert (cfg.samples, cfg.epochs, cfg.time_alone, cfg.widths) == (5_000, 3, 20, [32, 128])
    assert exp.parse_bundle(None) is None and exp.parse_bundle(" Auto ") is None and exp.parse_bundle("8") == 8
    with pytest.raises(UsageError, match="--bundle"):
        exp.parse_bundle("many")
    with pytest.raises(UsageError, match="budget"):  # the grid is checked with the options, before any folder
        exp.EggholderConfig.from_options(False, widths=[512], layers=[2])
