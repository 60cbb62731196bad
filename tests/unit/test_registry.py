"""Optimizer registry and schedules: names, float learning rates, inverse-time decay α0/(1+δk)."""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from dltool.engine.optimizers import OPTIMIZERS, canonical, make_optimizer, schedule  # noqa: E402
from dltool.errors import UsageError  # noqa: E402


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_registered_optimizer_builds_with_an_integer_like_lr(name):
    optimizer = make_optimizer(name, 3)  # Keras rejects int 3; the registry passes 3.0
    assert float(optimizer.learning_rate) == 3.0


def test_momentum_and_nesterov_settings():
    assert make_optimizer("momentum", 0.1, momentum=0.4).momentum == 0.4
    nesterov = make_optimizer("nesterov", 0.1, momentum=0.6)
    assert nesterov.nesterov and nesterov.momentum == 0.6


def test_aliases_and_suggestions():
    assert canonical("SGD") == "gd"
    with pytest.raises(UsageError) as info:
        canonical("adamm")
    assert "did you mean 'adam'" in info.value.one_line()


@pytest.mark.parametrize("lr", [0, -0.1, float("nan")])
def test_bad_learning_rates(lr):
    with pytest.raises(UsageError):
        make_optimizer("gd", lr)


def test_inverse_time_schedule():
    decayed = schedule(0.1, "inverse-time", decay=0.1, decay_steps=1)
    for k in (0, 1, 10, 100):
        assert float(decayed(k)) == pytest.approx(0.1 / (1 + 0.1 * k))
    assert schedule(0.5) == 0.5
    with pytest.raises(UsageError):
        schedule(0.1, "cosine")
