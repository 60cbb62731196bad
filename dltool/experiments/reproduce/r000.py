"""Report 000 (2019): optimizers on a line fit (§2), softmax regression on MNIST (§3, Table 1), the Deep-MNIST
CNN by batch size (§4) and training time on 1 / 2 / 4 GPUs (§4.1)."""

from __future__ import annotations

from dltool.experiments.mnist import common
from dltool.experiments.reproduce.catalog import claim, f4, find, numeric, runs
from dltool.experiments.reproduce.core import Study

R = "000"
NAIVE = ("mnist", "softmax", "--loss", "naive", "--momentums", "")
STUDIES = [
    Study("fit-line", ("fit-line",), "quick", 20),
    Study("softmax-table1", NAIVE, "quick", 30),
    # the candidates Table 1's open settings were chosen among (the report gives no epochs, init or constants)
    Study("softmax-table1-keras", (*NAIVE, "--optimizer-defaults", "keras"), "full", 30),
    Study("softmax-table1-glorot", (*NAIVE, "--init", "glorot"), "full", 30),
    Study("softmax-table1-2epochs", (*NAIVE, "--steps", "1100"), "full", 40),
    Study("softmax-stable", ("mnist", "softmax", "--optimizers", "adam,rmsprop", "--lrs", "0.1,0.5",
                             "--momentums", ""), "quick", 12),
    Study("softmax-adam-lower", ("mnist", "softmax", "--loss", "naive", "--optimizers", "adam", "--lrs",
                                 "0.005,0.001", "--momentums", ""), "quick", 12),
    Study("softmax-adadelta-beyond", ("mnist", "softmax", "--loss", "naive", "--optimizers", "adadelta",
                                      "--lrs", "15,27", "--momentums", ""), "quick", 12),
    Study("cnn-sweep", ("mnist", "cnn"), "full", 700),
    Study("cnn-keras-init", ("mnist", "cnn", "--batch-sizes", "100", "--init", "keras"), "full", 150),
    Study("fit-longer", ("fit-line", "--optimizers", "adam,adagrad,adadelta", "--lrs", "0.01", "--momentums", "",
                         "--iterations", "20000"), "full", 90),
    Study("devices", ("mnist", "devices", "--batch-sizes", "4,48", "--steps", "30"), "full", 400),
]
NAMES = {"gd": "Gradient Descent", "adagrad": "Adagrad", "adam": "Adam", "adadelta": "Adadelata",
         "rmsprop": "RMSProp", "ftrl": "FTRL"}
TABLE1_PRINTED = {  # Table 1 exactly as printed (0.908 and 0.85 have three and two decimals there)
    ("adagrad", 0.5): "0.9102", ("adagrad", 0.01): "0.8779", ("adagrad", 0.7): "0.908", ("adam", 0.01): "0.9166",
    ("adam", 0.1): "0.098", ("gd", 0.5): "0.9079", ("gd", 0.01): "0.85", ("gd", 0.9): "0.9095",
    ("adadelta", 0.5): "0.8535", ("adadelta", 0.01): "0.6922", ("adadelta", 0.9): "0.8741", ("adadelta", 3.0): "0.9023",
    ("adadelta", 9.0): "0.9117", ("rmsprop", 0.5): "0.098", ("rmsprop", 0.01): "0.9123", ("rmsprop", 0.001): "0.9053",
    ("ftrl", 0.5): "0.9102", ("ftrl", 0.01): "0.8779", ("ftrl", 0.7): "0.908",
}
CANDIDATES = {"softmax-table1": "one epoch (550 steps of 100), W = 0, TensorFlow 1's constants",
              "softmax-table1-keras": "the same with Keras 3's optimizer constants",
              "softmax-table1-glorot": "the same with Keras' Glorot initialisation",
              "softmax-table1-2epochs": "two epochs (1,100 steps)"}


def _fit(docs, name, lr, momentum=None):
    return find(runs(docs, "fit-line"), optimizer=name, lr=lr, momentum=momentum)


def _acc(docs, name, lr, study="softmax-table1"):
    return find(runs(docs, study), optimizer=name, lr=lr)["test_accuracy"]


def _table1_candidates(docs) -> str:
    parts = []
    for key, text in CANDIDATES.items():
        if key not in docs:
            parts.append(f"{text}: not run in this tier")
            continue
        rs = runs(docs, key)
        within = sum(1 for r in rs if r.get("reference") is not None and r["test_accuracy"] is not None
                     and abs(r["test_accuracy"] - r["reference"]) <= 0.01)
        parts.append(f"{text}: {within}/{len(rs)} rows within ±0.01")
    return "; ".join(parts)


def _cnn(docs, batch):
    return find(runs(docs, "cnn-sweep"), batch_size=batch)


def _cnn_candidates(docs) -> str:
    chosen = f"one epoch, the tutorial's initial values: batch 100 → {f4(_cnn(docs, 100)['test_accuracy'])}"
    if "cnn-keras-init" not in docs:
        return chosen + "; Keras' Glorot initialisation: not run"
    other = find(runs(docs, "cnn-keras-init"), batch_size=100)["test_accuracy"]
    return chosen + f"; Keras' Glorot initialisation: batch 100 → {f4(other)}"


def rows():
    out = []
    fl = ("fit-line",)
    out.append(claim("000-2-gd-001", R, "§2", "GD lr 0.01, 1,000 iterations", "a good linear model is obtained",
                     lambda d: (_fit(d, "gd", 0.01)["status"] == "converged",
                                f"GD 0.01: {_fit(d, 'gd', 0.01)['status']}"), fl))
    out.append(claim("000-2-gd-0001", R, "§2", "GD lr 0.001 vs 0.01", "slower ... not as good as previous one",
                     lambda d: (_fit(d, "gd", 0.001)["status"] == "slow"
                                and _fit(d, "gd", 0.001)["final_loss"] > _fit(d, "gd", 0.01)["final_loss"],
                                f"0.001: {_fit(d, 'gd', 0.001)['status']}, final MSE "
                                f"{_fit(d, 'gd', 0.001)['final_loss']:.4f} vs {_fit(d, 'gd', 0.01)['final_loss']:.4f}"),
                     fl))
    out.append(claim("000-2-gd-00001", R, "§2", "GD lr 0.0001 vs 0.01, 1,000 iterations",
                     "similar to the learning rate being 0.01, but much slower",
                     lambda d: (_fit(d, "gd", 0.0001)["status"] == "converged",
                                f"0.0001 after 1,000 iterations: {_fit(d, 'gd', 0.0001)['status']}, |w − w*| "
                                f"{_fit(d, 'gd', 0.0001)['w_error']:.3f} (0.01: {_fit(d, 'gd', 0.01)['status']}, "
                                f"{_fit(d, 'gd', 0.01)['w_error']:.4f})"), fl,
                     explain=lambda d, holds: "" if holds else "Much slower, yes, but within the report's 1,000 "
                     "iterations 0.0001 does not reach a model similar to 0.01's (|w − w*| above 0.01); that would "
                     "take about 100× more steps."))
    out.append(claim("000-2-local-minima", R, "§2", "GD at low learning rates",
                     "with low learning rate, the model will get stuck in the local minima",
                     lambda d: (False, f"GD 0.0001: {_fit(d, 'gd', 0.0001)['status']} (loss still falling)"), fl,
                     reason="A least-squares line has one minimum (the loss is a convex quadratic): a run with a "
                            "small rate is slow, never stuck."))
    out.append(claim("000-2-gd-03", R, "§2", "GD lr 0.3 (the text says 0.03)",
                     "optimal is never reached ... the increase of the loss for every iteration",
                     lambda d: (_fit(d, "gd", 0.3)["status"] == "diverged", f"GD 0.3: {_fit(d, 'gd', 0.3)['status']}"),
                     fl, reason="The text says 0.03 where its list says 0.3; on these points GD is stable below "
                                "2/λmax ≈ 0.029, so 0.03 would diverge too, barely."))
    out.append(claim("000-2-adam", R, "§2", "Adam lr 0.01, 1,000 iterations", "it obtained not so good",
                     lambda d: (_fit(d, "adam", 0.01)["status"] == "slow",
                                f"Adam 0.01: {_fit(d, 'adam', 0.01)['status']}, |b − b*| "
                                f"{_fit(d, 'adam', 0.01)['b_error']:.3f}"), fl))
    out.append(claim("000-2-adagrad-adadelta", R, "§2", "Adagrad, Adadelta lr 0.01", "the obtained model is very bad",
                     lambda d: (all(_fit(d, n, 0.01)["status"] == "slow" and _fit(d, n, 0.01)["w_error"] > 0.5
                                    for n in ("adagrad", "adadelta")),
                                ", ".join(f"{n} |w − w*| {_fit(d, n, 0.01)['w_error']:.2f}"
                                          for n in ("adagrad", "adadelta"))), fl))
    out.append(claim("000-2-rmsprop", R, "§2", "RMSProp lr 0.01", "clearly got stuck at the local minima",
                     lambda d: (_fit(d, "rmsprop", 0.01)["status"] != "converged",
                                f"RMSProp 0.01: {_fit(d, 'rmsprop', 0.01)['status']} "
                                f"(|w − w*| {_fit(d, 'rmsprop', 0.01)['w_error']:.4f})"), fl,
                     reason="The problem is convex, so there is no local minimum to be stuck in; RMSProp's steps of "
                            "≈ η·sign(g) hover within ≈ η of the optimum, which counts as converged here."))
    out.append(claim("000-2-adagrad-ftrl", R, "§2", "Adagrad vs FTRL lr 0.01, one batch", "behaved identically",
                     lambda d: (_curve_gap(_fit(d, "adagrad", 0.01), _fit(d, "ftrl", 0.01)) <= 1e-5,
                                f"largest relative gap between their loss curves over 1,000 iterations (identical: "
                                f"≤ 1e-5, float32 rounding): "
                                f"{_curve_gap(_fit(d, 'adagrad', 0.01), _fit(d, 'ftrl', 0.01)):.1e}; final w "
                                f"{_fit(d, 'adagrad', 0.01)['w']:.7f} vs {_fit(d, 'ftrl', 0.01)['w']:.7f}"), fl))
    out.append(claim("000-2-adam-local-optima", R, "§2", "Adam lr 0.01, first iterations",
                     "for initial iterations, it got stuck in the local optima and eventually got out",
                     lambda d: (False, f"Adam 0.01: {_fit(d, 'adam', 0.01)['status']}; the loss has one minimum"), fl,
                     basis="computed", reason="A least-squares line has no local optima (a convex quadratic); a "
                     "slow start of Adam is its step-size adaptation, not an escape from a local optimum."))
    out.append(claim("000-2-more-iterations", R, "§2", "Adam, Adagrad, Adadelta lr 0.01: 1,000 → 20,000 iterations",
                     "there is hope of reaching the optimal by increasing the number of iterations",
                     lambda d: (all(find(runs(d, "fit-longer"), optimizer=n)["status"] == "converged"
                                    for n in ("adam", "adagrad", "adadelta")),
                                "after 20,000 iterations: " + ", ".join(
                                    f"{n} {find(runs(d, 'fit-longer'), optimizer=n)['status']} (|w − w*| "
                                    f"{find(runs(d, 'fit-longer'), optimizer=n)['w_error']:.2g})"
                                    for n in ("adam", "adagrad", "adadelta"))), ("fit-longer",),
                     reason="The report names no longer run; 20,000 iterations were chosen here."))
    # §3, Table 1: the report gives no epochs, batch, initialisation or optimizer constants — calibrated
    t1 = ("softmax-table1",)
    candidates = ("softmax-table1-keras", "softmax-table1-glorot", "softmax-table1-2epochs")
    for (name, lr), printed in TABLE1_PRINTED.items():
        out.append(numeric(f"000-t1-{name}-{lr:g}", R, "Table 1", f"{NAMES[name]} lr {lr:g}", "test accuracy",
                           printed, (lambda d, n=name, x=lr: _acc(d, n, x)), t1, basis="calibrated", extra=candidates,
                           tol=0.0005 if printed == "0.098" else 0.01,  # 0.098: NaN → class 0; half a printed unit
                           value=common.SOFTMAX_REFERENCE[(name, lr)], calibrate=_table1_candidates,
                           reason="The report gives no training length, batch, initialisation or optimizer "
                                  "constants; the setting was chosen among the candidates as the one matching "
                                  "most rows."))
    tb = ("softmax-table1",)
    out.append(numeric("000-41-mnist-size", R, "§4.1", "MNIST training set", "images", "50000",
                       lambda d: 60_000, (), tol=0, basis="computed", source="the MNIST files' headers",
                       reason="MNIST has 60,000 training images (55,000 in TensorFlow 1's train split, which the "
                              "runs here use); 50,000 is neither."))
    out.append(claim("000-3-gd-09", R, "§3", "GD lr 0.5 → 0.9", "no significant improvement in the accuracy",
                     lambda d: (abs(_acc(d, "gd", 0.9) - _acc(d, "gd", 0.5)) <= 0.01,
                                f"0.5: {f4(_acc(d, 'gd', 0.5))}, 0.9: {f4(_acc(d, 'gd', 0.9))}"), tb))
    out.append(claim("000-3-gd-down", R, "§3", "GD lr 0.5 → 0.01", "the test accuracy is decreased",
                     lambda d: (_acc(d, "gd", 0.01) < _acc(d, "gd", 0.5),
                                f"0.5: {f4(_acc(d, 'gd', 0.5))}, 0.01: {f4(_acc(d, 'gd', 0.01))}"), tb))
    out.append(claim("000-3-best", R, "§3", "best of Table 1",
                     "Accuracy of 91.66% is obtained using Adam and 0.01 learning rate",
                     lambda d: (max(runs(d, "softmax-table1"), key=lambda r: r["test_accuracy"])["optimizer"] == "adam",
                                "best: " + "{optimizer} {lr:g} {test_accuracy:.4f}".format(
                                    **max(runs(d, "softmax-table1"), key=lambda r: r["test_accuracy"]))), tb))
    out.append(claim("000-3-adam-up", R, "§3", "Adam lr 0.01 → 0.1 (the report's loss)",
                     "not reaching the optimal at all, resulting in a very low accuracy",
                     lambda d: (_acc(d, "adam", 0.1) <= common_chance(),
                                f"Adam 0.1: {f4(_acc(d, 'adam', 0.1))} (RMSProp 0.5: {f4(_acc(d, 'rmsprop', 0.5))}); "
                                f"the same two with a numerically stable loss: "
                                f"{f4(_acc(d, 'adam', 0.1, 'softmax-stable'))} and "
                                f"{f4(_acc(d, 'rmsprop', 0.5, 'softmax-stable'))}"),
                     ("softmax-table1", "softmax-stable"),
                     reason="Holds at the report's setting, for another cause than it gives: 0.098 = 980/10,000 is "
                            "the share of zeros in the test set, argmax of NaN logits. Its loss −Σ y·log(softmax) "
                            "turned NaN once a probability underflowed; with a stable loss both rates train."))
    out.append(claim("000-3-adagrad-best", R, "§3", "Adagrad lr 0.01 / 0.5 / 0.7", "leaving out 0.5 as best",
                     lambda d: (_acc(d, "adagrad", 0.5) > max(_acc(d, "adagrad", 0.01), _acc(d, "adagrad", 0.7)),
                                ", ".join(f"{x:g}: {f4(_acc(d, 'adagrad', x))}" for x in (0.01, 0.5, 0.7))), tb))
    out.append(claim("000-3-adadelta-up", R, "§3", "Adadelta lr 0.01 … 9",
                     "on increasing the learning rate, the accuracy increased",
                     lambda d: (all(_acc(d, "adadelta", a) < _acc(d, "adadelta", b)
                                    for a, b in ((0.01, 0.5), (0.5, 0.9), (0.9, 3.0), (3.0, 9.0))),
                                ", ".join(f"{x:g}: {f4(_acc(d, 'adadelta', x))}" for x in (0.01, 0.5, 0.9, 3.0, 9.0))),
                     tb))
    lower = ("softmax-table1", "softmax-adam-lower")
    out.append(claim("000-3-adam-lower", R, "§3", "Adam lr 0.01 → 0.005, 0.001",
                     "When the learning rate is further decreased, the model didn't improve",
                     lambda d: (max(_acc(d, "adam", x, "softmax-adam-lower") for x in (0.005, 0.001))
                                <= _acc(d, "adam", 0.01) + 0.01,
                                f"0.01: {f4(_acc(d, 'adam', 0.01))}, 0.005: "
                                f"{f4(_acc(d, 'adam', 0.005, 'softmax-adam-lower'))}, 0.001: "
                                f"{f4(_acc(d, 'adam', 0.001, 'softmax-adam-lower'))}"), lower,
                     reason="The report names no lower rate; 0.005 and 0.001 were chosen here."))
    beyond = ("softmax-table1", "softmax-adadelta-beyond")
    out.append(claim("000-3-adadelta-beyond", R, "§3", "Adadelta lr 9 → 15, 27",
                     "Further increase in learning rate didn't improve the model",
                     lambda d: (max(_acc(d, "adadelta", x, "softmax-adadelta-beyond") for x in (15.0, 27.0))
                                <= _acc(d, "adadelta", 9.0) + 0.01,
                                f"9: {f4(_acc(d, 'adadelta', 9.0))}, 15: "
                                f"{f4(_acc(d, 'adadelta', 15.0, 'softmax-adadelta-beyond'))}, 27: "
                                f"{f4(_acc(d, 'adadelta', 27.0, 'softmax-adadelta-beyond'))}"), beyond,
                     reason="The report names no rate above 9; 15 and 27 were chosen here."))
    out.append(claim("000-3-rmsprop-adam", R, "§3", "RMSProp vs Adam across Table 1's rates",
                     "RMSProp ... is similar to Adam",
                     lambda d: (_acc(d, "rmsprop", 0.5) <= common_chance() and _acc(d, "adam", 0.1) <= common_chance()
                                and min(_acc(d, "rmsprop", 0.01), _acc(d, "adam", 0.01)) >= 0.9,
                                f"high rate: RMSProp 0.5 {f4(_acc(d, 'rmsprop', 0.5))}, Adam 0.1 "
                                f"{f4(_acc(d, 'adam', 0.1))}; 0.01: RMSProp {f4(_acc(d, 'rmsprop', 0.01))}, Adam "
                                f"{f4(_acc(d, 'adam', 0.01))}"), tb))
    out.append(claim("000-3-ftrl-adagrad", R, "§3", "FTRL vs Adagrad at 0.5, 0.01, 0.7",
                     "FTRL ... is similar to Adagrad",
                     lambda d: (all(abs(_acc(d, "ftrl", x) - _acc(d, "adagrad", x)) <= 1e-4 for x in (0.5, 0.01, 0.7)),
                                ", ".join(f"{x:g}: {f4(_acc(d, 'ftrl', x))} vs {f4(_acc(d, 'adagrad', x))}"
                                          for x in (0.5, 0.01, 0.7))), tb))

    # §4: the Deep-MNIST CNN, one epoch per batch size (the report's five batch sizes)
    cnn = ("cnn-sweep",)
    for batch, printed in ((100, "95.4%"), (50, "96.35%"), (4, "98.27%")):
        out.append(numeric(f"000-4-cnn-{batch}", R, "§4", f"Deep-MNIST CNN, Adam 1e-4, batch {batch}, one epoch",
                           "test accuracy", printed, (lambda d, b=batch: _cnn(d, b)["test_accuracy"]), cnn,
                           value=common.CNN_BATCH_REFERENCE[batch], basis="calibrated",
                           extra=("cnn-keras-init",), calibrate=_cnn_candidates,
                           reason="The report gives no training length or initialisation; one epoch of TensorFlow "
                                  "1's 55,000-image split from the tutorial's initial values was chosen because it "
                                  "matches (one epoch of Adam at 1e-4 is far from converged)."))
    out.append(claim("000-4-small-batch", R, "§4", "batch 100 → 50 → 4, one epoch",
                     "lower batch sizes allows the model to learn better at the cost of more computational time",
                     lambda d: (_cnn(d, 4)["test_accuracy"] > _cnn(d, 50)["test_accuracy"]
                                > _cnn(d, 100)["test_accuracy"]
                                and _cnn(d, 4)["train_seconds"] > _cnn(d, 100)["train_seconds"],
                                ", ".join(f"{b}: {f4(_cnn(d, b)['test_accuracy'])} in "
                                          f"{_cnn(d, b)['train_seconds']:.0f} s"
                                          for b in (100, 50, 4))), cnn))
    out.append(claim("000-4-batch-20-10", R, "§4", "batch 50 → 20 → 10, one epoch",
                     "Further decreasing to 20 and 10 didn't give any significant results",
                     lambda d: (max(_cnn(d, b)["test_accuracy"] for b in (20, 10))
                                <= _cnn(d, 50)["test_accuracy"] + 0.01,
                                ", ".join(f"{b}: {f4(_cnn(d, b)['test_accuracy'])}" for b in (50, 20, 10))), cnn,
                     explain=lambda d, holds: "" if holds else "A smaller batch takes more steps in one epoch, and "
                     "at Adam 1e-4 more steps raise the accuracy well beyond ±0.01."))

    out.append(claim("000-4-b4-best", R, "§4", "batch 4 vs 100, 50, 20, 10, one epoch",
                     "when the batch size is reduced to 4, a test accuracy of **98.27%** is obtained",
                     lambda d: (max(runs(d, "cnn-sweep"), key=lambda r: r["test_accuracy"])["batch_size"] == 4,
                                "best: batch {batch_size}, {test_accuracy:.4f}".format(
                                    **max(runs(d, "cnn-sweep"), key=lambda r: r["test_accuracy"]))), cnn))
    # §4.1: GPU seconds beside our CPU seconds — never divided
    dv = ("devices",)
    printed_s = {(1, 4): "59", (2, 4): "65", (4, 4): "71", (1, 48): "8.44", (2, 48): "7.22", (4, 48): "7.02"}
    for (n, b), printed in printed_s.items():
        out.append(numeric(f"000-41-{n}gpu-b{b}", R, "§4.1", f"{n} device(s), batch {b}",
                           "s per epoch (report: GPU; ours: CPU, virtual for 2 and 4)", printed,
                           (lambda d, n=n, b=b: find(runs(d, "devices"), devices=n, batch_size=b)["seconds_per_epoch"]),
                           dv, basis="timing", value=common.DEVICES_GPU_SECONDS[(n, b)], tol=None,
                           reason="The report's seconds are a GPU's; ours are this CPU's (virtual devices for 2 and "
                                  "4), extrapolated from 30 timed steps. No ratio is taken."))
    sec = lambda d, n, b: find(runs(d, "devices"), devices=n, batch_size=b)["seconds_per_epoch"]  # noqa: E731
    out.append(claim("000-41-b4-slower", R, "§4.1", "batch 4 on 1 → 2 → 4 GPUs",
                     "using 4 GPU's took 71 seconds (clearly more time",
                     lambda d: (sec(d, 4, 4) > sec(d, 1, 4), f"ours: {sec(d, 1, 4):.1f} s → {sec(d, 4, 4):.1f} s; the "
                                "report's own numbers: 59 → 65 → 71 s"), dv, basis="virtual",
                     reason="Virtual CPU devices share the same 2 cores and add no compute, so more of them are "
                            "slower at any batch; this cannot test the GPU claim. The report's own times agree with "
                            "it."))
    out.append(claim("000-41-b48-faster", R, "§4.1", "batch 48 on 1 → 2 → 4 GPUs",
                     "multiple GPU's have shown clear improvement in the training time",
                     lambda d: (sec(d, 4, 48) < sec(d, 1, 48), f"ours: {sec(d, 1, 48):.1f} s → {sec(d, 4, 48):.1f} s; "
                                "the report's own numbers: 8.44 → 7.22 → 7.02 s (−17 %)"), dv, basis="virtual",
                     reason="Needs real GPUs: virtual CPU devices cannot add compute. In the report's own numbers "
                            "4 GPUs save 17 %, a modest 'clear improvement'."))
    out.append(claim("000-5-only-large", R, "§5", "1 → 4 devices at batch 4 and 48",
                     "Using multiple GPU's can significantly decrease the training time only when the demand for "
                     "computation is large",
                     lambda d: (sec(d, 4, 48) / sec(d, 1, 48) < sec(d, 4, 4) / sec(d, 1, 4),
                                f"ours (4 ÷ 1 devices): batch 4 ×{sec(d, 4, 4) / sec(d, 1, 4):.2f}, batch 48 "
                                f"×{sec(d, 4, 48) / sec(d, 1, 48):.2f}; the report's: ×1.20 and ×0.83"), dv,
                     basis="virtual", reason="Virtual CPU devices add no compute; the report's own GPU times agree "
                                             "with it (4 GPUs: 20 % slower at batch 4, 17 % faster at batch 48)."))
    return out


def _curve_gap(a: dict, b: dict) -> float:
    """The largest relative difference between two runs' loss curves (1.0 when their lengths differ)."""
    la, lb = a["losses"], b["losses"]
    if len(la) != len(lb) or not la:
        return 1.0
    return max(abs(x - y) / max(abs(x), 1e-12) for x, y in zip(la, lb))


def common_chance() -> float:
    return 0.15  # at or below: at chance for 10 classes (softmax.CHANCE)
