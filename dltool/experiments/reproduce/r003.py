"""Report 003 (2020): an MLP 784-100-10 on MNIST — SGD (Q1), learning-rate schedules (Q2), depth vs width (Q3),
six workers on disjoint shards (Q4), L1 vs dropout (Q5) and layer normalisation (Q6)."""

from __future__ import annotations

from statistics import pstdev

from dltool.experiments.mnist import mlp, workers
from dltool.experiments.reproduce.catalog import claim, f4, find, numeric, runs
from dltool.experiments.reproduce.core import Study
from dltool.models.penalties import L1_DEFINITIONS

R = "003"
STUDIES = [
    # the report's questions 1–3, 5, 6 and every L1 definition (the candidates of Q5's calibration) in one run
    Study("mlp", ("mnist", "mlp", "--studies", "schedule,depth,sparsity,norm,l1"), "full", 750),
    # Q2's other reading of k (iterations, as the report writes it): the candidate not taken
    Study("mlp-step", ("mnist", "mlp", "--studies", "schedule", "--decay-unit", "step"), "full", 150),
    Study("workers", ("mnist", "workers"), "full", 340),
]
ML = ("mlp",)
PRINTED = {  # (run key, quantity, section) → the value as the report prints it
    ("base", "train_accuracy", "Q1"): "95.9%", ("base", "test_accuracy", "Q1"): "95.6%",
    ("base", "train_seconds", "Q1"): "133", ("base", "train_seconds", "Q3 (model 1)"): "133",
    ("base", "test_accuracy", "Q6 (vanilla)"): "96.5%",
    ("inverse-time", "test_accuracy", "Q2"): "96.5%", ("inverse-time", "train_seconds", "Q2"): "134",
    ("adagrad", "test_accuracy", "Q2"): "96.1%", ("adagrad", "train_seconds", "Q2"): "141",
    ("depth-2", "train_seconds", "Q3 (model 2)"): "154", ("depth-4", "train_seconds", "Q3 (model 3)"): "140",
    ("l1", "test_accuracy", "Q5"): "94.1%", ("l1", "mean_abs_weight", "Q5"): "0.002",
    ("dropout", "test_accuracy", "Q5"): "98.1%", ("dropout", "mean_abs_weight", "Q5"): "0.06",
    ("layer-norm", "test_accuracy", "Q6"): "97.1%",
}
SETTINGS = {"base": "784-100-10, SGD 0.1, L2 0.01, batch 100, 50 epochs", "inverse-time": "α₀/(1 + 0.1k), α₀ 0.1",
            "adagrad": "Adagrad 0.01", "depth-2": "784-50-50-10", "depth-4": "784-25-25-25-25-10",
            "l1": "L1 λ 0.05 (no L2)", "dropout": "dropout 0.2 (no L2)",
            "layer-norm": "layer norm after the hidden layer"}


def run_of(d, key: str, study: str = "mlp") -> dict:
    """The run of that key with the report's setting (for L1: the chosen definition, without L2)."""
    for r in runs(d, study):
        if r["key"] == key and (key != "l1" or (r["l1_definition"] == "report" and not r["l2"])):
            return r
    raise KeyError(key)


def _report_models(d) -> list[dict]:
    """The runs that are models of the report (the L1 candidates other than the chosen one are not)."""
    return [run_of(d, k) for k in ("base", "inverse-time", "adagrad", "depth-2", "depth-4", "l1", "dropout",
                                   "layer-norm")]


def _curve(r: dict, field: str = "test_accuracy") -> list[float]:
    return [e[field] for e in r.get("epochs", []) if e.get(field) is not None]


def _jitter(values: list[float]) -> float:
    """Spread of the epoch-to-epoch changes: how erratic a curve is."""
    steps = [b - a for a, b in zip(values, values[1:])]
    return pstdev(steps) if len(steps) > 1 else 0.0


def _l1_candidates(d) -> str:
    parts = []
    for r in runs(d, "mlp"):
        if r["key"] == "l1" and not r["l2"]:
            parts.append(f"{L1_DEFINITIONS[r['l1_definition']]}: {r['test_accuracy']:.4f}, mean |w| "
                         f"{r['mean_abs_weight']:.4f}")
    return "; ".join(parts)


def _k_candidates(d) -> str:
    epoch = run_of(d, "inverse-time")["test_accuracy"]
    if "mlp-step" not in d:
        return f"k in epochs: {epoch:.4f}; k in iterations: not run"
    step = run_of(d, "inverse-time", "mlp-step")["test_accuracy"]
    return f"k in epochs: {epoch:.4f}; k in iterations (as the report writes it): {step:.4f}"


def rows():
    out = []
    for key, refs in mlp.REFERENCES.items():
        for ref in refs:
            section = ref.source.replace(f"{mlp.REPORT}, ", "")
            printed = PRINTED[(key, ref.quantity, section)]
            quantity = ref.quantity.replace("_", " ")
            where_id = "".join(c for c in section.lower() if c.isalnum())  # "Q3 (model 1)" → q3model1
            rid = f"003-{where_id}-{key}-{ref.quantity.replace('_', '-')}"

            def get(d, k=key, q=ref.quantity):
                return run_of(d, k)[q]

            setting = SETTINGS[key]
            if ref.quantity == "train_seconds":
                out.append(numeric(rid, R, section, setting, "training seconds (report: its machine)", printed, get,
                                   ML, basis="timing", tol=None, value=ref.value,
                                   reason="The report's machine (GPU or CPU not stated); never divided into ours."))
                continue
            tol = 0.0005 if printed == "0.002" else 0.005 if printed == "0.06" else 0.01
            basis, calibrate, reason, extra = "report", None, ref.note, ()
            studies = ML
            if key == "l1":
                basis, calibrate = "calibrated", _l1_candidates
                reason = ("The report writes the penalty as λ·Σ|w| (eq. 5) but not how it meets the batch-mean loss; "
                          "λ·Σ|w|/50 was chosen among the definitions run because it matches both numbers.")
            elif key == "inverse-time":
                basis, calibrate, extra = "calibrated", _k_candidates, ("mlp-step",)
                reason = ("The report calls k the iteration; k counted in epochs matches its 96.5 %, k in "
                          "iterations decays the rate 550× faster per epoch.")
            elif key == "base" and section.startswith("Q6"):
                reason = "The same network as Q1, whose test accuracy the report gives as 95.6 %."
            out.append(numeric(rid, R, section, setting, quantity, printed, get, studies, tol=tol, value=ref.value,
                               basis=basis, calibrate=calibrate, reason=reason, extra=extra))

    # Q1
    base = lambda d: run_of(d, "base")  # noqa: E731
    out.append(claim("003-q1-erratic", R, "Q1", SETTINGS["base"],
                     "training dataset follows a steady increase while the test accuracy is more erratic",
                     lambda d: (_jitter(_curve(base(d))) > _jitter(_curve(base(d), "train_accuracy")),
                                f"spread of epoch-to-epoch changes: test {_jitter(_curve(base(d))):.4f}, train "
                                f"{_jitter(_curve(base(d), 'train_accuracy')):.4f}"), ML))
    out.append(claim("003-q1-generalise", R, "Q1", SETTINGS["base"],
                     "the test accuracy is oscillating around the training accuracy",
                     lambda d: (abs(base(d)["train_accuracy"] - base(d)["test_accuracy"]) <= 0.01,
                                f"train {f4(base(d)['train_accuracy'])}, test {f4(base(d)['test_accuracy'])}"), ML))
    # Q2
    inv = lambda d: run_of(d, "inverse-time")  # noqa: E731
    ada = lambda d: run_of(d, "adagrad")  # noqa: E731
    out.append(claim("003-q2-time", R, "Q2", "constant vs diminishing vs Adagrad (about the same: within 25 %)",
                     "the total time to train these models are about the same as question 1",
                     lambda d: (all(abs(r["train_seconds"] / base(d)["train_seconds"] - 1) <= 0.25
                                    for r in (inv(d), ada(d))),
                                f"ours: {base(d)['train_seconds']:.1f} / {inv(d)['train_seconds']:.1f} / "
                                f"{ada(d)['train_seconds']:.1f} s; the report's: 133 / 134 / 141 s"), ML))
    out.append(claim("003-q2-similar", R, "Q2", "constant vs diminishing, per epoch",
                     "The convergence rates for constant and diminishing learning rate are very similar",
                     lambda d: ((lambda a, b: sum(abs(x - y) for x, y in zip(a, b)) / max(1, len(a)) <= 0.005)(
                         _curve(base(d)), _curve(inv(d))),
                         "mean |Δ test accuracy| over epochs: " + f"{sum(abs(x - y) for x, y in zip(_curve(base(d)), _curve(inv(d)))) / max(1, len(_curve(base(d)))):.4f}"),  # noqa: E501
                     ML))
    out.append(claim("003-q2-adagrad-slower", R, "Q2", "Adagrad 0.01 vs constant 0.1, per epoch",
                     "adagrad experiences a significantly slower rate",
                     lambda d: (sum(a < b for a, b in zip(_curve(ada(d)), _curve(base(d))))
                                > len(_curve(base(d))) / 2,
                                "Adagrad below constant on "
                                f"{sum(a < b for a, b in zip(_curve(ada(d)), _curve(base(d))))}"
                                f" of {len(_curve(base(d)))} epochs; after epoch 1: {f4(_curve(ada(d))[0])} vs "
                                f"{f4(_curve(base(d))[0])}"), ML))
    out.append(claim("003-q2-one-point", R, "Q2", "diminishing vs constant, final",
                     "96.5% on the test data, which is 1% higher than constant learning rate",
                     lambda d: (inv(d)["test_accuracy"] - base(d)["test_accuracy"] >= 0.005,
                                f"diminishing {f4(inv(d)['test_accuracy'])} vs constant {f4(base(d)['test_accuracy'])}"
                                f" ({inv(d)['test_accuracy'] - base(d)['test_accuracy']:+.4f})"), ML))
    out.append(claim("003-q2-luck", R, "Q2", "constant vs diminishing, per epoch",
                     "there are many epochs for which constant learning rate was better",
                     lambda d: (sum(a > b for a, b in zip(_curve(base(d)), _curve(inv(d)))) >= 5,
                                f"constant ahead on {sum(a > b for a, b in zip(_curve(base(d)), _curve(inv(d))))} of "
                                f"{len(_curve(base(d)))} epochs"), ML))
    out.append(claim("003-q2-smoother", R, "Q2", "Adagrad vs constant, per epoch",
                     "Adagrad had the advantage of experiencing a much smoother progression on test data accuracy",
                     lambda d: (_jitter(_curve(ada(d))) < _jitter(_curve(base(d))),
                                f"spread of epoch-to-epoch changes: Adagrad {_jitter(_curve(ada(d))):.4f}, constant "
                                f"{_jitter(_curve(base(d))):.4f}"), ML))
    out.append(claim("003-q2-improving", R, "Q2", "Adagrad at epoch 50", "still improving even at epoch 50",
                     lambda d: (max(_curve(ada(d))[-5:]) > max(_curve(ada(d))[-15:-5]),
                                f"best of epochs 36–45: {max(_curve(ada(d))[-15:-5]):.4f}, of 46–50: "
                                f"{max(_curve(ada(d))[-5:]):.4f}"), ML))
    out.append(claim("003-q2-adagrad-better", R, "Q2", "Adagrad 0.01 vs constant 0.1, final",
                     "The results are better than for constant learning rate with 96.1%",
                     lambda d: (ada(d)["test_accuracy"] > base(d)["test_accuracy"],
                                f"Adagrad {f4(ada(d)['test_accuracy'])} vs constant {f4(base(d)['test_accuracy'])}"),
                     ML, reason="The report's own numbers disagree with the sentence only through its Q1 value: "
                                "96.1 % is above Q1's 95.6 % but below the 96.5 % it gives the same network in Q6."))
    # Q3
    d2 = lambda d: run_of(d, "depth-2")  # noqa: E731
    d4 = lambda d: run_of(d, "depth-4")  # noqa: E731
    out.append(claim("003-q3-longer", R, "Q3", "(100) vs (50, 50) vs (25, 25, 25, 25)",
                     "The training takes longer time",
                     lambda d: (min(d2(d)["train_seconds"], d4(d)["train_seconds"]) > base(d)["train_seconds"],
                                f"ours: {base(d)['train_seconds']:.1f} / {d2(d)['train_seconds']:.1f} / "
                                f"{d4(d)['train_seconds']:.1f} s; the report's: 133 / 154 / 140 s"), ML))
    out.append(claim("003-q3-slower", R, "Q3", "(100) vs (50, 50) vs (25, 25, 25, 25), epoch 1",
                     "the convergence per iteration is slower",
                     lambda d: (_curve(base(d))[0] > max(_curve(d2(d))[0], _curve(d4(d))[0]),
                                f"test accuracy after epoch 1: {f4(_curve(base(d))[0])} / {f4(_curve(d2(d))[0])} / "
                                f"{f4(_curve(d4(d))[0])}"), ML))
    out.append(claim("003-q3-worse", R, "Q3", "(100) vs (50, 50) vs (25, 25, 25, 25), final",
                     "using a deeper network was strictly worse ... the final accuracy both on training and test",
                     lambda d: (all(base(d)[q] > max(d2(d)[q], d4(d)[q]) for q in ("train_accuracy", "test_accuracy")),
                                "train " + " / ".join(f4(r["train_accuracy"]) for r in (base(d), d2(d), d4(d)))
                                + "; test " + " / ".join(f4(r["test_accuracy"]) for r in (base(d), d2(d), d4(d)))),
                     ML))
    # Q4
    wk = ("workers",)
    k = lambda d, n: find(runs(d, "workers"), workers=n)  # noqa: E731
    out.append(numeric("003-q4-k6", R, "Q4", "6 workers, random disjoint shards, MultiWorkerMirroredStrategy",
                       "test accuracy", "94.6%", lambda d: k(d, 6)["test_accuracy"], wk,
                       value=workers.REFERENCES[6][0]))
    out.append(numeric("003-q4-k1", R, "Q1 (for Q4)", "1 worker, the same network", "test accuracy", "95.6%",
                       lambda d: k(d, 1)["test_accuracy"], wk, value=workers.REFERENCES[1][0]))
    out.append(claim("003-q4-worse", R, "Q4", "6 workers vs 1", "The results are slightly worse than question 1",
                     lambda d: (0 < k(d, 1)["test_accuracy"] - k(d, 6)["test_accuracy"] <= 0.02,
                                f"K = 1: {f4(k(d, 1)['test_accuracy'])}, K = 6: {f4(k(d, 6)['test_accuracy'])}"), wk))
    out.append(claim("003-q4-identical", R, "Q4", "6 workers", "the model weights are identical for every worker",
                     lambda d: (len(set(k(d, 6)["worker_test_accuracy"])) == 1,
                                "every worker's test accuracy: " + ", ".join(
                                    f4(a) for a in k(d, 6)["worker_test_accuracy"])), wk))
    # Q5
    l1 = lambda d: run_of(d, "l1")  # noqa: E731
    dr = lambda d: run_of(d, "dropout")  # noqa: E731
    out.append(claim("003-q5-dropout-best", R, "Q5", "dropout 0.2 vs every other model",
                     "outperforming every other model in this computer assignment",
                     lambda d: (dr(d)["test_accuracy"] > max(r["test_accuracy"] for r in _report_models(d)
                                                             if r["key"] != "dropout"),
                                f"dropout {f4(dr(d)['test_accuracy'])}; best other: "
                                + "{name} {test_accuracy:.4f}".format(**max(
                                    (r for r in _report_models(d) if r["key"] != "dropout"),
                                    key=lambda r: r["test_accuracy"]))), ML))
    out.append(claim("003-q5-l1-worse", R, "Q5", "L1 vs the base",
                     "The l_1 regularized model performed significantly worse",
                     lambda d: (l1(d)["test_accuracy"] < base(d)["test_accuracy"] - 0.01,
                                f"L1 {f4(l1(d)['test_accuracy'])} vs base {f4(base(d)['test_accuracy'])}"), ML))
    out.append(claim("003-q5-sparser", R, "Q5", "L1 vs dropout, hidden-layer weights",
                     "we have a sparser weight vector",
                     lambda d: (l1(d)["share_small"] > dr(d)["share_small"],
                                f"|w| < 1e-3: L1 {l1(d)['share_small']:.1%}, dropout {dr(d)['share_small']:.1%}"), ML))
    out.append(claim("003-q5-dropout-large", R, "Q5", "dropout vs the base, hidden-layer weights",
                     "training in this way causes the weights to be very large",
                     lambda d: (dr(d)["mean_abs_weight"] > base(d)["mean_abs_weight"],
                                f"mean |w|: dropout {dr(d)['mean_abs_weight']:.4f}, base (with L2) "
                                f"{base(d)['mean_abs_weight']:.4f}"), ML,
                     reason="The dropout model is trained without L2 (the report's setting), so part of the "
                            "difference is the missing weight decay."))
    out.append(claim("003-q5-tiny", R, "Q5", "L1 model, hidden-layer weights",
                     "several weights of a size of 10^{-7} or less",
                     lambda d: (l1(d)["share_tiny"] > 0,
                                f"|w| ≤ 1e-7: {l1(d)['share_tiny']:.2%} of the weights "
                                f"({round(l1(d)['share_tiny'] * 78_400):,} of 78,400)"), ML,
                     explain=lambda d, holds: "" if holds else "Plain (sub)gradient descent on λ|w| steps over zero "
                     "rather than landing on it, so weights end near ±η·λ, not at 1e-7; the report's code may have "
                     "used a proximal or clipped update it does not describe."))
    # Q6
    ln = lambda d: run_of(d, "layer-norm")  # noqa: E731
    out.append(claim("003-q6-majority", R, "Q6", "layer norm vs vanilla, per epoch",
                     "ourperforms the vanilla version on a majority of epochs",
                     lambda d: (sum(a > b for a, b in zip(_curve(ln(d)), _curve(base(d)))) > len(_curve(base(d))) / 2,
                                f"layer norm ahead on {sum(a > b for a, b in zip(_curve(ln(d)), _curve(base(d))))} of "
                                f"{len(_curve(base(d)))} epochs"), ML))
    out.append(claim("003-q6-final", R, "Q6", "layer norm vs vanilla, final",
                     "96.5% on the test dataset and 97.1% for the layer normalization version",
                     lambda d: (ln(d)["test_accuracy"] > base(d)["test_accuracy"],
                                f"layer norm {f4(ln(d)['test_accuracy'])}, vanilla {f4(base(d)['test_accuracy'])}"),
                     ML))
    return out
