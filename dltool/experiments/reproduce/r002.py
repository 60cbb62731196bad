"""Report 002 (2017): a small CNN with F filters on MNIST — the learning-rate sweep at F = 16 and the filter
sweep F = 8 … 256 against parameters and runtime (Table 1, Figures 5–8)."""

from __future__ import annotations

from dltool.experiments.mnist import common
from dltool.experiments.mnist.filters import parameter_count
from dltool.experiments.reproduce.catalog import claim, numeric, runs
from dltool.experiments.reproduce.core import Study

R = "002"
STUDIES = [Study("filters", ("mnist", "filters", "--filters", "8,16,32,64"), "full", 1000)]
FL = ("filters",)
TEST_ERROR = {8: "0.013100028038", 16: "0.0120000243187", 32: "0.0113000273705", 64: "0.0113000273705"}
VAL = {8: "0.987", 16: "0.990", 32: "0.989", 64: "0.989"}
PARAMS = {8: "52258", 16: "104250", 32: "211690", 64: "440394", 128: "953098", 256: "2199690"}
CPU = {8: "133.91", 16: "160.65", 32: "277.25", 64: "697.42"}
GPU = {8: "48,83", 16: "65,97", 32: "78,77", 64: "144,25", 128: "278,69", 256: "623,43"}


def _f(d, f: int) -> dict:
    return next(r for r in runs(d, "filters") if r["filters"] == f and "filters" in r["sweeps"].split("+"))


def _lr(d) -> list[dict]:
    return sorted((r for r in runs(d, "filters") if "lr" in r["sweeps"].split("+")), key=lambda r: -r["lr"])


def _marginal(seconds: dict[int, float], params: dict[int, int]) -> list[float]:
    """Seconds per 1,000 extra parameters between consecutive F."""
    fs = sorted(seconds)
    return [(seconds[b] - seconds[a]) / ((params[b] - params[a]) / 1000) for a, b in zip(fs, fs[1:])]


def _fits(seconds: dict[int, float], params: dict[int, int]) -> dict[str, float]:
    """The largest misfit (seconds) of linear, quadratic and exponential least-squares fits of runtime on
    parameters."""
    import numpy as np

    fs = sorted(seconds)
    x = np.array([params[f] for f in fs], dtype=float) / 1e3
    t = np.array([seconds[f] for f in fs])
    linear = np.polyval(np.polyfit(x, t, 1), x)
    quadratic = np.polyval(np.polyfit(x, t, 2), x)
    exponential = np.exp(np.polyval(np.polyfit(x, np.log(t), 1), x))
    return {name: float(np.max(np.abs(fit - t))) for name, fit in
            (("linear", linear), ("quadratic", quadratic), ("exponential", exponential))}


def rows():
    out = []
    out.append(claim("002-2-lr-down", R, "§2", "F = 16, GD lr 0.1 → 0.01 → 0.001 → 0.0001, 10 epochs",
                     "If we decrease our Learning Rate, the validation/training error increases",
                     lambda d: (all(a["val_accuracy"] >= b["val_accuracy"] for a, b in zip(_lr(d), _lr(d)[1:])),
                                ", ".join(f"{r['lr']:g}: val {r['val_accuracy']:.4f}" for r in _lr(d))), FL))
    out.append(claim("002-2-lr-best", R, "§2", "F = 16, GD lr 0.1 … 0.0001, 10 epochs",
                     "our experiment works better with an appropriate Learning Rate ... of 0.1",
                     lambda d: (max(_lr(d), key=lambda r: r["val_accuracy"])["lr"] == 0.1,
                                "best: lr {lr:g}, val {val_accuracy:.4f}".format(
                                    **max(_lr(d), key=lambda r: r["val_accuracy"]))), FL))
    for f in (8, 16, 32, 64):
        out.append(numeric(f"002-t1-params-{f}", R, "Table 1", f"F = {f}", "parameters", PARAMS[f],
                           (lambda d, f=f: _f(d, f)["params"]), FL, tol=0, basis="computed",
                           source="the built Keras model's count_params()"))
        out.append(numeric(f"002-fig-testerr-{f}", R, "Fig. 5–8", f"F = {f}, lr 0.1, 10 epochs", "test error",
                           TEST_ERROR[f], (lambda d, f=f: 1 - _f(d, f)["test_accuracy"]), FL, tol=0.005))
        out.append(numeric(f"002-fig-val-{f}", R, "Fig. 5–8", f"F = {f}, lr 0.1, 10 epochs", "validation accuracy",
                           VAL[f], (lambda d, f=f: _f(d, f)["val_accuracy"]), FL, tol=0.005))
        out.append(numeric(f"002-t1-cpu-{f}", R, "Table 1", f"F = {f}", "runtime, s (report: its laptop CPU)",
                           CPU[f], (lambda d, f=f: _f(d, f)["train_seconds"]), FL, basis="timing", tol=None,
                           reason="A different CPU (the report's laptop); the trend with F is what carries over."))
    for f in (128, 256):
        out.append(numeric(f"002-t1-params-{f}", R, "Table 1", f"F = {f}", "parameters", PARAMS[f],
                           (lambda d, f=f: parameter_count(f)), (), tol=0, basis="computed",
                           source="by hand: 9F² + 6,283F + 1,418 (the same formula gives F = 8 … 64's built "
                                  "counts); not trained"))
    for f, printed in GPU.items():
        out.append(numeric(f"002-t1-gpu-{f}", R, "Table 1", f"F = {f}", "runtime, s (report: a GPU)", printed,
                           (lambda d: None), (), basis="timing", tol=None,
                           reason="A GPU time; this machine has no GPU, and a CPU time is never set against it."))
    out.append(claim("002-runtime-grows", R, "§2 Runtime", "F = 8 → 16 → 32 → 64, 10 epochs, on a CPU",
                     "a larger number of filters increases the training runtime",
                     lambda d: (all(_f(d, a)["train_seconds"] < _f(d, b)["train_seconds"]
                                    for a, b in ((8, 16), (16, 32), (32, 64))),
                                "ours: " + " → ".join(f"{_f(d, f)['train_seconds']:.0f} s" for f in (8, 16, 32, 64))
                                + "; the report's CPU: 133.91 → 160.65 → 277.25 → 697.42 s"), FL))
    out.append(claim("002-increment-grows", R, "§2 Runtime", "F = 8 → 16 → 32 → 64, 10 epochs, on a CPU",
                     "This increment is even more, when the number of filters reaches large values",
                     lambda d: ((lambda t: t[1] - t[0] < t[2] - t[1] < t[3] - t[2])(
                         [_f(d, f)["train_seconds"] for f in (8, 16, 32, 64)]),
                         "ours, added seconds per doubling of F: " + ", ".join(
                             f"{_f(d, b)['train_seconds'] - _f(d, a)['train_seconds']:+.0f} s"
                             for a, b in ((8, 16), (16, 32), (32, 64)))), FL))
    rep_cpu = common.FILTERS_CPU_SECONDS
    gpu = common.FILTERS_GPU_SECONDS
    params = common.FILTERS_PARAMS
    out.append(claim("002-not-linear", R, "§2 Runtime", "runtime vs parameters, CPU",
                     "the relation is not linear",
                     lambda d: ((lambda m: all(a < b for a, b in zip(m, m[1:])))(_marginal(rep_cpu, params)),
                                "its own Table 1: " + " → ".join(f"{v:.2f}" for v in _marginal(rep_cpu, params))
                                + " s per 1,000 added parameters"), (), basis="computed",
                     source="the report's own Table 1",
                     reason="Decided from the report's own numbers: the cost of each added parameter grows."))
    out.append(claim("002-exponential", R, "§2 Runtime", "runtime vs parameters, CPU", "(even becomes exponential)",
                     lambda d: (lambda fits: (min(fits, key=fits.get) == "exponential",
                                              "its own Table 1, largest misfit of a least-squares fit: "
                                              + ", ".join(f"{k} {v:.1f} s" for k, v in fits.items())))(
                         _fits(rep_cpu, params)), (), basis="computed", source="the report's own Table 1",
                     reason="Four points cannot establish an exponential; a quadratic in the parameters (the "
                            "convolutions' cost grows with F²) fits them better than an exponential does."))
    out.append(claim("002-gpu-reduced", R, "§2 Runtime", "growth of the runtime with F, GPU vs CPU",
                     "This problem is significantly reduced, when we train on GPU",
                     lambda d: ((lambda c, g: all(x < y for x, y in zip(g, c)))(
                         _marginal(rep_cpu, params), _marginal({f: gpu[f] for f in rep_cpu}, params)),
                         "its own Table 1, seconds per 1,000 added parameters: CPU " + " → ".join(
                             f"{v:.2f}" for v in _marginal(rep_cpu, params)) + ", GPU " + " → ".join(
                             f"{v:.2f}" for v in _marginal({f: gpu[f] for f in rep_cpu}, params))), (),
                     basis="computed", source="the report's own Table 1"))
    out.append(claim("002-gpu-drastic", R, "§2 Runtime", "GPU vs CPU, F = 8 … 64",
                     "reduce it drastically for every filter configuration",
                     lambda d: (all(rep_cpu[f] / gpu[f] >= 2 for f in rep_cpu),
                                "its own Table 1, CPU ÷ GPU: " + ", ".join(f"F {f}: {rep_cpu[f] / gpu[f]:.1f}×"
                                                                          for f in rep_cpu)), (), basis="computed",
                     source="the report's own Table 1",
                     reason="No GPU here: decided from the report's own two columns."))
    out.append(claim("002-64cpu-256gpu", R, "§2 Runtime", "64 filters on the CPU vs 256 on the GPU",
                     "approx. the same than the one required for 256 filters on GPU",
                     lambda d: (abs(rep_cpu[64] / gpu[256] - 1) <= 0.15,
                                f"its own Table 1: {rep_cpu[64]:g} s vs {gpu[256]:g} s "
                                f"({rep_cpu[64] / gpu[256] - 1:+.0%})"), (), basis="computed",
                     source="the report's own Table 1",
                     reason="Decided from the report's own numbers (within 15 %)."))
    out.append(claim("002-gpu-grows", R, "§2 Runtime", "GPU, F = 8 … 256", "also the runtime increases",
                     lambda d: (all(gpu[a] < gpu[b] for a, b in zip(sorted(gpu), sorted(gpu)[1:])),
                                "its own Table 1: " + " → ".join(f"{gpu[f]:g}" for f in sorted(gpu)) + " s"), (),
                     basis="computed", source="the report's own Table 1"))
    return out


