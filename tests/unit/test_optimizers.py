"""RMSProp with Nesterov momentum (dltool.engine.optimizers) against NumPy references of its equations:

- the registry's equations, step by step: r ← ρr + (1−ρ)g²;  v ← μv + η·g/√(r+ε);  θ ← θ − (μv + η·g/√(r+ε));
- Goodfellow et al., Algorithm 8.6 (gradient at the interim point θ + αv): the stored variable is that
  look-ahead point, so the two trajectories agree;
- μ = 0 reduces it to Keras' own RMSprop.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from dltool.engine.optimizers import OPTIMIZERS, make_optimizer  # noqa: E402

# A convex quadratic with very different curvatures per coordinate plus a quartic term, so that r, v and the
# gradient all change from step to step: f(θ) = Σ a·θ²/2 + b·θ + c·θ⁴/4.
A = np.array([0.5, 2.0, 10.0, 0.1, 4.0])
B = np.array([1.0, -0.5, 0.3, 2.0, 0.0])
C = np.array([0.1, 0.0, 0.2, 0.05, 1.0])
THETA0 = np.array([1.5, -2.0, 0.7, 3.0, -1.0])


def grad(theta: np.ndarray) -> np.ndarray:
    return A * theta + B + C * theta ** 3


def keras_trajectory(optimizer, steps: int) -> np.ndarray:
    """θ after each step when the optimizer is fed the gradient at its current variable."""
    var = keras.Variable(THETA0.astype("float32"))
    optimizer.build([var])
    out = []
    for _ in range(steps):
        g = grad(np.asarray(var.numpy(), np.float64)).astype("float32")
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
        out.append(np.asarray(var.numpy(), np.float64))
    return np.array(out)


def registry_equations(steps: int, lr: float, rho: float, mu: float, eps: float) -> np.ndarray:
    """The equations of OPTIMIZERS['rmsprop-nesterov'], in float64."""
    theta, r, v = THETA0.copy(), np.zeros(5), np.zeros(5)
    out = []
    for _ in range(steps):
        g = grad(theta)
        r = rho * r + (1 - rho) * g ** 2
        step = lr * g / np.sqrt(r + eps)
        v = mu * v + step
        theta = theta - (mu * v + step)
        out.append(theta.copy())
    return np.array(out)


def goodfellow_8_6(steps: int, lr: float, rho: float, alpha: float, eps: float) -> np.ndarray:
    """Algorithm 8.6 (RMSProp with Nesterov momentum); returns the interim points θ + αv where it evaluates g."""
    theta, r, v = THETA0.copy(), np.zeros(5), np.zeros(5)
    out = []
    for _ in range(steps):
        interim = theta + alpha * v
        g = grad(interim)
        r = rho * r + (1 - rho) * g ** 2
        v = alpha * v - lr * g / np.sqrt(r + eps)
        theta = theta + v
        out.append(theta + alpha * v)  # the next interim point
    return np.array(out)


@pytest.mark.parametrize("lr,mu", [(0.01, 0.9), (0.05, 0.5), (0.001, 0.99)])
def test_rmsprop_nesterov_follows_the_registry_equations(lr, mu):
    steps = 40
    got = keras_trajectory(make_optimizer("rmsprop-nesterov", lr, momentum=mu), steps)
    want = registry_equations(steps, lr, rho=0.9, mu=mu, eps=1e-7)
    assert np.allclose(got, want, rtol=2e-5, atol=2e-6)
    assert not np.allclose(got[-1], THETA0)  # it moved
    # The first step by hand: r = 0.1·g², so the step is (1 + μ)·η·g/√(0.1·g² + ε) ≈ (1 + μ)·η·√10·sign(g).
    g0 = grad(THETA0)
    first = THETA0 - (1 + mu) * lr * g0 / np.sqrt(0.1 * g0 ** 2 + 1e-7)
    assert np.allclose(got[0], first, rtol=1e-5, atol=1e-6)


def test_rmsprop_nesterov_is_goodfellow_algorithm_8_6_in_look_ahead_form():
    steps = 60
    got = keras_trajectory(make_optimizer("rmsprop-nesterov", 0.01, momentum=0.9), steps)
    want = goodfellow_8_6(steps, 0.01, rho=0.9, alpha=0.9, eps=1e-7)
    assert np.allclose(got, want, rtol=5e-5, atol=5e-6)


def test_rmsprop_nesterov_with_zero_momentum_is_keras_rmsprop():
    steps = 30
    ours = keras_trajectory(make_optimizer("rmsprop-nesterov", 0.02, momentum=0.0), steps)
    theirs = keras_trajectory(keras.optimizers.RMSprop(learning_rate=0.02), steps)
    assert np.allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_nesterov_momentum_differs_from_plain_rmsprop_momentum():
    """Keras' RMSprop(momentum=μ) is heavy-ball (θ ← θ − v); ours adds the look-ahead μv + step."""
    steps = 20
    ours = keras_trajectory(make_optimizer("rmsprop-nesterov", 0.01, momentum=0.9), steps)
    heavy = keras_trajectory(keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.9), steps)
    assert np.abs(ours - heavy).max() > 1e-3


def test_registry_describes_the_equations_and_defaults():
    info = OPTIMIZERS["rmsprop-nesterov"]
    assert "v ← μv + η·g/√(r+ε)" in info.equations and "θ ← θ − (μv + η·g/√(r+ε))" in info.equations
    opt = make_optimizer("rmsprop-nesterov", 0.01)
    assert (opt.rho, opt.momentum, opt.epsilon) == (0.9, 0.9, 1e-7)
    assert "ρ=0.9" in info.defaults and "ε=1e-7" in info.defaults


# ---- TensorFlow 1 constants (--optimizer-defaults tf1) ------------------------------------------------------

def test_tf1_and_keras_constants():
    from dltool.engine.optimizers import TF1_DEFAULTS

    assert make_optimizer("adam", 0.1, defaults="tf1").epsilon == 1e-8
    assert make_optimizer("adadelta", 0.1, defaults="tf1").epsilon == 1e-8
    assert make_optimizer("rmsprop", 0.1, defaults="tf1").epsilon == 1e-10
    assert make_optimizer("adagrad", 0.1, defaults="tf1").epsilon == 0.0
    assert make_optimizer("adam", 0.1).epsilon == 1e-7  # Keras' own stays the default of the registry
    assert set(TF1_DEFAULTS) == {"adam", "adadelta", "rmsprop", "adagrad"}
    assert make_optimizer("adam", 0.1, defaults="tf1", epsilon=1e-3).epsilon == 1e-3  # explicit wins


def test_tf1_rmsprop_mean_square_starts_at_one():
    g = np.array([0.1, -2.0, 0.5])
    for defaults, r0, eps in (("tf1", 1.0, 1e-10), ("keras", 0.0, 1e-7)):
        opt = make_optimizer("rmsprop", 0.01, defaults=defaults)
        var = keras.Variable(np.ones(3, "float32"))
        opt.apply_gradients([(g.astype("float32"), var)])
        r = 0.9 * r0 + 0.1 * g ** 2
        np.testing.assert_allclose(var.numpy(), 1 - 0.01 * g / np.sqrt(r + eps), rtol=1e-5)


def test_tf1_adagrad_equals_ftrl_from_zero_weights():
    """Unregularised FTRL-Proximal and Adagrad without ε take the same steps from θ = 0 (report 000 saw its
    Adagrad and FTRL rows agree to the last digit)."""
    trajectories = {}
    for name in ("adagrad", "ftrl"):
        opt = make_optimizer(name, 0.5, defaults="tf1")
        var = keras.Variable(np.zeros(5, "float32"))
        for _ in range(20):
            opt.apply_gradients([(grad(var.numpy()).astype("float32"), var)])
        trajectories[name] = var.numpy()
    np.testing.assert_allclose(trajectories["adagrad"], trajectories["ftrl"], rtol=1e-4, atol=1e-6)


def test_unknown_defaults_is_a_usage_error():
    from dltool.errors import UsageError

    with pytest.raises(UsageError, match="optimizer defaults"):
        make_optimizer("adam", 0.1, defaults="tf2")
