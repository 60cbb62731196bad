"""Report 004 (a 2020 homework): it asks for quantities more than it states results. The numbers it prints (the
cells of its VGG19 table) are checked against the architecture counts; the values it asks for are computed and
labelled so; published values beside them are references from elsewhere; its training problems run at each
command's short preset (the full settings take days on a CPU) and are labelled short runs."""

from __future__ import annotations

from dltool.experiments.reproduce.catalog import claim, numeric, runs
from dltool.experiments.reproduce.core import Study

R = "004"
STUDIES = [
    Study("alexnet", ("archcalc", "alexnet"), "quick", 1),
    Study("vgg19-nobias", ("archcalc", "vgg19", "--no-bias"), "quick", 1),
    Study("vgg19", ("archcalc", "vgg19"), "quick", 1),
    Study("receptive", ("archcalc", "receptive-field", "--layers", "3", "--kernel", "5"), "quick", 1),
    Study("inception", ("archcalc", "inception"), "quick", 1),
    Study("googlenet-3a", ("archcalc", "inception", "--preset", "googlenet-3a"), "quick", 1),
    Study("cifar-adaptive", ("cifar-adaptive", "--quick"), "full", 60),
    Study("cutout", ("cutout", "train", "--quick"), "full", 90),
    Study("scale", ("scale", "--quick"), "full", 60),
    Study("allreduce", ("allreduce", "--quick"), "full", 60),
    Study("eggholder", ("eggholder", "--quick"), "full", 60),
]
SHORT = "the command's --quick preset (the homework's 200 / 10 / 100 / 2,000 epochs take hours to days here)"
# VGG19 table cells the homework fills in: row index in archcalc's VGG19 → (activations as printed, weights)
VGG_CELLS = {0: ("150K", "0"), 1: ("3.2M", "1,728"), 2: ("3.2M", "36,864"), 3: ("800K", "0"), 6: ("400K", "0"),
             8: ("800K", "589,824"), 11: (None, "0"), 12: ("400K", "1,179,648"), 14: ("400K", None),
             16: (None, "0"), 21: (None, "0"), 22: ("4096", None), 23: ("4096", "16,777,216"), 24: ("1000", None)}


def _num(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


def _weighted(doc: dict) -> int:
    return sum(1 for r in doc["rows"] if r.get("weights"))


def rows():
    out = []
    vg = ("vgg19-nobias",)
    for i, (acts, weights) in VGG_CELLS.items():
        if acts is None:  # a pooling row whose activations the homework leaves for the student
            acts_row = None
        else:
            value = float(acts.rstrip("KM")) * (1e3 if acts.endswith("K") else 1e6 if acts.endswith("M") else 1)
            rounded = acts[-1] in "KM"
            acts_row = numeric(
                f"004-vgg-{i}-acts", R, "P3.2 Table 1", f"VGG19 row {i}", "activations per image", acts,
                (lambda d, i=i: runs(d, "vgg19-nobias", "rows")[i]["activations"]), vg,
                tol=(5e4 if acts.endswith("M") else 5e3) if rounded else 0, value=value, basis="computed",
                source="archcalc's layer-by-layer count",
                reason="The table prints two significant figures (224·224·3 = 150,528 as 150K): half a unit of "
                       "the second figure counts." if rounded else "")
        if acts_row is not None:
            out.append(acts_row)
        if weights is not None:
            out.append(numeric(f"004-vgg-{i}-weights", R, "P3.2 Table 1", f"VGG19 row {i}", "parameters, no biases",
                               weights, (lambda d, i=i: runs(d, "vgg19-nobias", "rows")[i]["weights"]), vg, tol=0,
                               basis="computed", source="archcalc's layer-by-layer count"))
    out.append(numeric("004-vgg-total-params", R, "P3.2 Table 1", "VGG19 TOTAL (a cell the homework leaves empty)",
                       "parameters, no biases", None, lambda d: d["vgg19-nobias"]["total_params"], vg, basis="computed",
                       tol=None, source="archcalc",
                       reason="The homework heads this column \"Parameters (Compute)\": it holds weights, i.e. "
                              "memory; VGG19's compute is its multiply-adds (19.6 G per image)."))
    out.append(numeric("004-vgg-total-acts", R, "P3.2 Table 1", "VGG19 TOTAL", "activations per image (input counted)",
                       None, lambda d: d["vgg19-nobias"]["total_activations"], vg, basis="computed", tol=None,
                       source="archcalc"))
    out.append(numeric("004-alexnet", R, "P3.1", "AlexNet as in the paper (two GPU groups, 227×227)", "parameters",
                       None, lambda d: d["alexnet"]["total_params"], ("alexnet",), tol=0, value=60_965_224,
                       basis="elsewhere", source="Caffe's bvlc_alexnet (the paper says \"60 million\"); the homework "
                                                 "asks for the number and prints none"))
    out.append(numeric("004-vgg19-bias", R, "P3.2", "VGG19 with biases", "parameters", None,
                       lambda d: d["vgg19"]["total_params"], ("vgg19",), tol=0, value=143_667_240, basis="elsewhere",
                       source="the Keras Applications table (VGG19: 143,667,240); the homework prints no total"))
    out.append(numeric("004-receptive", R, "P3.3", "3 stacked 5×5 convolutions, stride 1", "receptive field", None,
                       lambda d: d["receptive"]["receptive_field"], ("receptive",), tol=0, value=3 * 5 - 3 + 1,
                       basis="computed",
                       source="the homework's formula N·F − N + 1 evaluated (13); ours layer by layer"))
    ic = ("inception",)
    for variant in ("naive", "reduced"):
        out.append(numeric(f"004-inception-{variant}-out", R, "P3.4(b)", f"inception {variant}, input 32×32×256",
                           "output size", None,
                           (lambda d, v=variant: "×".join(map(str, d["inception"][v]["output_shape"]))),
                           ic, basis="computed", tol=None, source="archcalc"))
        out.append(numeric(f"004-inception-{variant}-mults", R, "P3.4(c)", f"inception {variant}, input 32×32×256",
                           "multiplications", None, (lambda d, v=variant: d["inception"][v]["total_multiplications"]),
                           ic, basis="computed", tol=None, source="archcalc"))
    out.append(numeric("004-inception-saving", R, "P3.4(d)", "naive vs reduced", "saving", None,
                       lambda d: f"{d['inception']['saving']:,} multiplications ({d['inception']['saving_pct']:.2f} %, "
                                 f"{d['inception']['ratio']:.3f}×)", ic, basis="computed", tol=None, source="archcalc"))
    out.append(numeric("004-googlenet-3a", R, "P3.4 (paper)", "GoogLeNet inception (3a), 28×28×192", "multiplications",
                       None, lambda d: d["googlenet-3a"]["reduced"]["total_multiplications"], ("googlenet-3a",),
                       value=128e6, tol=5e5, basis="elsewhere",
                       source="Szegedy et al. 2015, Table 1: \"128M\" ops for inception (3a) (the homework cites the "
                              "paper's Figure 2 but prints no number); ±0.5 M, the paper's rounding"))
    out.append(claim("004-vgg-expensive", R, "P3.2", "VGG19 vs AlexNet",
                     "VGGNet is very expensive to evaluate and uses a lot more memory and parameters",
                     lambda d: (d["vgg19"]["total_params"] > 2 * d["alexnet"]["total_params"]
                                and d["vgg19"]["total_macs"] > 10 * d["alexnet"]["total_macs"]
                                and d["vgg19"]["total_activations"] > 10 * d["alexnet"]["total_activations"],
                                f"parameters {d['vgg19']['total_params']:,} vs {d['alexnet']['total_params']:,}; MACs "
                                f"{d['vgg19']['total_macs'] / 1e9:.1f} G vs {d['alexnet']['total_macs'] / 1e9:.2f} G; "
                                f"activations {d['vgg19']['total_activations']:,} vs "
                                f"{d['alexnet']['total_activations']:,} per image"),
                     ("vgg19", "alexnet"), basis="computed", source="archcalc"))
    out.append(claim("004-vgg-deeper", R, "P3.3", "VGG19 vs AlexNet",
                     "VGG architectures have smaller filters but deeper networks compared to Alexnet",
                     lambda d: ((lambda v, a: v > a)(_weighted(d["vgg19"]), _weighted(d["alexnet"])),
                                f"weighted layers: VGG19 {_weighted(d['vgg19'])}, AlexNet {_weighted(d['alexnet'])}; "
                                "kernels 3×3 vs 11×11, 5×5, 3×3"), ("vgg19", "alexnet"), basis="computed",
                     source="archcalc"))
    out.append(claim("004-receptive-formula", R, "P3.3", "N stacked F×F convolutions, stride 1",
                     "has the same receptive field as one convolution layer with filter of size",
                     lambda d: (d["receptive"]["receptive_field"] == 13,
                                "layer by layer: " + " → ".join(str(s["receptive_field"])
                                                                for s in d["receptive"]["steps"])),
                     ("receptive",), basis="computed", source="archcalc"))
    out.append(claim("004-inception-cheaper", R, "P3.4(d)", "naive vs dimension-reduced inception",
                     "how dimensionality reduction architecture helps",
                     lambda d: (d["inception"]["reduced"]["total_multiplications"]
                                < d["inception"]["naive"]["total_multiplications"],
                                f"{d['inception']['ratio']:.2f}× fewer multiplications"), ic, basis="computed",
                     source="archcalc"))
    out.append(claim("004-dropout-scale", R, "P1.4", "test-time scaling of dropout",
                     "scale the weights (by the dropout probability)",
                     lambda d: (False, "none (inverted dropout); the keep probability 0.8 / 0.5 if weights were "
                                       "scaled"), (), basis="computed",
                     reason="Scaling weights by the dropout probability (0.2 input, 0.5 hidden) would be wrong: the "
                            "expected activation needs the keep probability (0.8, 0.5). Keras scales during training "
                            "instead, so nothing is scaled at test time."))

    # training problems at short presets
    out.append(numeric("004-p1-cifar", R, "P1.2–1.4", f"five adaptive methods, {SHORT}",
                       "final training loss without / with dropout; test accuracy without / with", None,
                       lambda d: "; ".join(f"{r['method']} {_num(r['final_loss'])}/{_num(r['final_loss_dropout'])}, "
                                           f"{_num(r['test_accuracy'])}/{_num(r['test_accuracy_dropout'])}"
                                           for r in runs(d, "cifar-adaptive", "rows")),
                       ("cifar-adaptive",), basis="short", tol=None, reason="The homework asks for these; it gives "
                                                                            "no values."))
    out.append(numeric("004-p4-cutout", R, "P4.2–4.3", f"ResNet-44, M = 1 and batch augmentation, {SHORT}",
                       "validation accuracy; test accuracy; train s", None,
                       lambda d: "; ".join(f"M {r['m']}: {_num(r['final_val_accuracy'])}, {_num(r['test_accuracy'])}, "
                                           f"{_num(r['train_seconds'])} s" for r in runs(d, "cutout")),
                       ("cutout",), basis="short", tol=None,
                       reason="The homework's target is 94 % within 100 epochs of ResNet-44; a short run on the "
                              "2,000-image sample shows learning and the cost per M, not the target."))
    out.append(numeric("004-p2-scale", R, "P2.1–2.4", f"strong and weak scaling, {SHORT}",
                       "throughput (examples/s) by learners", None,
                       lambda d: "; ".join(f"{r['mode']} {r['devices']}: {r['throughput']:,.0f}"
                                           for r in runs(d, "scale")),
                       ("scale",), basis="short", tol=None,
                       reason="The homework runs ResNet-50 on 1–16 K80 GPUs; here virtual CPU devices, so the "
                              "numbers show the method, not GPU scaling."))
    out.append(numeric("004-p2-allreduce", R, "P2.5–2.6", f"all-reduce implementations, {SHORT}",
                       "throughput vs 1 device", None,
                       lambda d: "; ".join(f"{r['strategy']} {r['implementation']} ×{r['devices']}: "
                                           f"{r['throughput']:,.0f}/s" for r in runs(d, "allreduce", "train")
                                           if r.get("throughput")),
                       ("allreduce",), basis="short", tol=None, reason="virtual CPU devices; NCCL needs GPUs"))
    out.append(numeric("004-p5-eggholder", R, "P5.1", f"best network per depth, {SHORT}", "test RMSE (function units)",
                       None, lambda d: "; ".join(f"{k} layer(s): {_num(v['test_rmse'])} ({v['name']})"
                                                 for k, v in sorted(d["eggholder"]["best"].items())),
                       ("eggholder",), basis="short", tol=None,
                       reason="a constant predictor and the noise floor are in the command's output"))
    return out
