"""``dltool mnist``: the MNIST studies of the reports (softmax, cnn, filters, mlp, devices, workers)."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Callable, Optional

import typer

from dltool.cli import choices
from dltool.cli import options as opt

mnist_app = typer.Typer(
    name="mnist",
    help="The reports' MNIST studies on real MNIST (or --dataset fashion_mnist), with the reports' numbers beside "
         "the measured ones.",
    no_args_is_help=True,
)

Dataset = Annotated[str, typer.Option("--dataset", click_type=choices.MNIST_DATASET, help="mnist or fashion_mnist.")]
Subset = Annotated[Optional[int], typer.Option("--subset", min=1, help="Train on a seeded sample of N images.",
                                               show_default=False)]
TestSubset = Annotated[Optional[int], typer.Option("--test-subset", min=1, help="Test on a seeded sample of N "
                                                   "test images.", show_default=False)]
Target = Annotated[Optional[float], typer.Option("--target-accuracy", help="Stop a run once its test accuracy "
                                                 "reaches this fraction (e.g. 0.99) and report the training "
                                                 "seconds to it.", show_default=False)]
EvalEvery = Annotated[Optional[int], typer.Option("--eval-every", min=1, help="Steps between test evaluations "
                                                  "while chasing --target-accuracy, counted from each epoch's "
                                                  "start (every epoch also ends with one).", show_default=False)]


def _floats(text: str | None, option: str) -> list[float] | None:
    from dltool.experiments.common import parse_floats

    return parse_floats(text, option)


def _ints(text: str | None, option: str) -> list[int] | None:
    from dltool.experiments.common import parse_ints

    return parse_ints(text, option)


def _names(text: str, option: str) -> list[str]:
    from dltool.experiments.common import parse_names

    return [name.lower() for name in parse_names(text)]


def _skippable(text: str | None, option: str, parse: Callable = _floats) -> list | None:
    """None → not given (the study's default); '' → skip (empty list); else the values."""
    if text is None:
        return None
    return parse(text, option) if text.strip() else []


def _study(name: str, *shared: str, log_dir: bool = False, **overrides: Any) -> Callable[[Callable], Callable]:
    """Register ``dltool mnist <name>``. The command turns its options into the study's config and returns it;
    this gives it the shared options (data_dir, precision, quick and ``shared``; ``overrides`` as in
    :func:`opt.shared`) and launches the config: data check, run folder, progress, each run on disk as it ends,
    then the tables and plots of ``report.views.mnist``. ``log_dir``: worker logs kept in the run folder."""

    def wrap(build: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(build)
        def command(*, run: opt.RunOptions, **options: Any) -> None:
            import importlib
            from types import SimpleNamespace

            from dltool.cli.sweep import launch
            from dltool.report.views import mnist as views

            cfg = build(**options, run=run)
            exp = importlib.import_module(f"dltool.experiments.mnist.{name}")
            view = SimpleNamespace(tables=getattr(views, f"{name}_tables"), plots=getattr(views, f"{name}_plots"))
            launch(f"mnist {name}", cfg, run, exp.run, view, log_dir=log_dir)

        return mnist_app.command(name)(opt.shared("data_dir", "precision", "quick", *shared, **overrides)(command))

    return wrap


@_study("softmax")
def softmax(
    optimizers: Annotated[Optional[str], typer.Option("--optimizers", help="Comma-separated: gd, adagrad, adam, "
                          "adadelta, rmsprop, ftrl, momentum, nesterov … (default: the report's 19-row grid).",
                          show_default=False)] = None,
    lrs: Annotated[Optional[str], typer.Option("--lrs", help="Comma-separated learning rates (with --optimizers: "
                   "every optimizer × every lr; default 0.01).", show_default=False)] = None,
    momentums: Annotated[Optional[str], typer.Option("--momentums", help="Momentum study values; '' skips it "
                         "(default: 0.2,0.4,0.6,0.8; none with --quick).", show_default=False)] = None,
    momentum_lrs: Annotated[str, typer.Option(
        "--momentum-lrs", help="Learning rates of the momentum study.")] = "0.01,0.1",
    steps: Annotated[Optional[int], typer.Option("--steps", min=1, help="Training steps per setting "
                     "(default: one epoch of the 55,000-image training split = 550; 200 with --quick).",
                     show_default=False)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch size.")] = 100,
    loss: Annotated[str, typer.Option("--loss", click_type=choices.SOFTMAX_LOSS,
                                      help="stable (cross-entropy on logits) or naive (the report's "
                    "−Σ y·log softmax, which turns NaN at large steps).")] = "stable",
    preset: Annotated[str, typer.Option("--preset", click_type=choices.SOFTMAX_PRESET,
                                        help="table1 (report 000's 19 settings), report001-gd, "
                      "report001-momentum, report001-adam or report001-compare (report 001's exercise 2; compare "
                      "trains 5 epochs).")] = "table1",
    optimizer_defaults: opt.OptimizerDefaults = "tf1",
    init: Annotated[str, typer.Option("--init", click_type=choices.SOFTMAX_INIT,
                                      help="Initial weights: zeros (the tutorial's W = 0, b = 0) or "
                    "glorot (Keras' default).")] = "zeros",
    dataset: Dataset = "mnist",
    subset: Subset = None,
    test_subset: TestSubset = None,
    target_accuracy: Target = None,
    eval_every: EvalEvery = None,
    *, run: opt.RunOptions,
) -> Any:
    """Softmax regression (784 → 10): every optimizer × learning rate of the report's Table 1, and momentum.

    Default grid (19 settings, one epoch of 55,000 images = 550 steps of batch 100 each, from W = 0 with
    TensorFlow 1's optimizer constants — the settings that reproduce report 000's Table 1): Adagrad 0.5/0.01/0.7 ·
    Adam 0.01/0.1 · GD 0.5/0.01/0.9 · Adadelta 0.5/0.01/0.9/3/9 · RMSProp 0.5/0.01/0.001 · FTRL 0.5/0.01/0.7;
    then momentum 0.2/0.4/0.6/0.8 × lr 0.01, 0.1. The report's test accuracy is printed beside each measured
    one. One engine per optimizer: learning rates reuse it without retracing.

    --quick: GD 0.5, Adam 0.01, Adam 0.1 and RMSProp 0.5 for 200 steps on 10,000 training and 2,000 test images.
    """
    from dltool.experiments.common import parse_names
    from dltool.experiments.mnist import softmax as exp

    return exp.SoftmaxConfig.from_options(
        run.quick, optimizers=parse_names(optimizers), lrs=_floats(lrs, "--lrs"),
        momentums=_skippable(momentums, "--momentums"), momentum_lrs=_floats(momentum_lrs, "--momentum-lrs"),
        steps=steps, batch_size=batch_size, loss=opt.name(loss), preset=opt.name(preset),
        optimizer_defaults=opt.name(optimizer_defaults), init=opt.name(init), dataset=dataset, subset=subset,
        test_subset=test_subset, target_accuracy=target_accuracy, eval_every=eval_every,
        **run.settings("data_dir", "precision", "seed"))


PrecisionMaybe = Annotated[Optional[opt.Precision], typer.Option(
    "--precision", help="fp32, bf16 (mixed; fast on CPUs with AMX) or fp16 (mixed; GPUs) (default: the preset's).",
    show_default=False)]


@_study("cnn", "xla", precision=(PrecisionMaybe, None))
def cnn(
    preset: Annotated[Optional[str], typer.Option(
        "--preset", click_type=choices.CNN_PRESET,
        help="sweep (the reports' batch sweep), long (batch 50, 30 epochs), fast99 (fastest recipe to "
        "99.0 %), quick (default: sweep).", show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="deep (Deep-MNIST CNN, 3.27 M parameters) or fast "
                     "(the fast99 CNN, 417 k) (default: the preset's).", show_default=False)] = None,
    batch_sizes: Annotated[Optional[str], typer.Option("--batch-sizes", help="Comma-separated batch sizes "
                           "(default: the preset's; sweep: 100,50,20,10,4).", show_default=False)] = None,
    epochs: Annotated[Optional[float], typer.Option("--epochs", help="Epochs per batch size, may be fractional "
                      "(e.g. 1.5) (default: the preset's).", show_default=False)] = None,
    steps: opt.Steps = None,
    target_accuracy: Target = None,
    eval_every: EvalEvery = None,
    lr: Annotated[Optional[float], typer.Option("--lr", help="(Peak) learning rate (default: the preset's; "
                  "1e-4 for the Deep-MNIST CNN).", show_default=False)] = None,
    schedule: Annotated[Optional[str], typer.Option("--schedule", click_type=choices.CNN_SCHEDULE,
                                                    help="constant or onecycle (linear up over 20 % "
                        "of the steps, linear down to 0) (default: the preset's).", show_default=False)] = None,
    optimizer: Annotated[str, typer.Option("--optimizer", help="Optimizer name (adam, gd, momentum …).")] = "adam",
    cnn_init: Annotated[str, typer.Option("--init", click_type=choices.CNN_INIT,
                                          help="Deep CNN's initial values: tutorial (the TensorFlow "
                        "tutorial's, as the reports ran it) or keras (Glorot, zero biases).")] = "tutorial",
    dataset: Dataset = "mnist",
    subset: Subset = None,
    test_subset: TestSubset = None,
    *, run: opt.RunOptions,
) -> Any:
    """Deep-MNIST CNN: test accuracy and training time vs batch size; long runs; the fast99 recipe.

    Presets: sweep (default) trains the Deep-MNIST CNN (conv 5×5×32, conv 5×5×64, dense 1024, dropout 0.5,
    Adam 1e-4) for one epoch at batch 100, 50, 20, 10 and 4 (reports: 0.954 at 100 … 0.9827 at 4); long trains
    30 epochs at batch 50 (report: 0.992); fast99 is this tool's fastest recipe to 99.0 % (CNN 5×5×16 → 5×5×32
    → dense 256, batch 128, Adam one-cycle peak 0.006 over 1.5 epochs, bf16, test accuracy checked 6 times per
    epoch, stops at 0.99); quick is a CI demo on 2,000 images. Any option overrides the preset. Train seconds
    exclude tracing (one warm-up step first) and test evaluations.

    Examples: dltool mnist cnn --preset fast99 · dltool mnist cnn --preset long --target-accuracy 0.99 ·
    dltool mnist cnn --json | jq '.runs[] | [.batch_size, .test_accuracy, .train_seconds]'
    """
    from dltool.experiments.mnist import cnn as exp

    return exp.CnnConfig.from_options(  # '' for a name: the preset's, as when not given
        run.quick, preset=opt.name(preset) or None, model=opt.name(model) or None,
        batch_sizes=_ints(batch_sizes, "--batch-sizes"), epochs=epochs, steps=steps, lr=lr,
        schedule=opt.name(schedule) or None, optimizer=optimizer, jit_compile=run.xla,
        target_accuracy=target_accuracy, eval_every=eval_every, dataset=dataset, subset=subset,
        test_subset=test_subset, init=opt.name(cnn_init), **run.settings("data_dir", "precision", "seed"))


@_study("filters")
def filters(
    filters_: Annotated[Optional[str], typer.Option("--filters", help="Filter counts F of the width sweep; '' skips "
                        "it (default: 8,16,32,64,128,256; 8,16 with --quick).", show_default=False)] = None,
    lrs: Annotated[Optional[str], typer.Option("--lrs", help="Learning rates of the lr sweep; '' skips it "
                   "(default: 0.1,0.01,0.001,0.0001; 0.1,0.01 with --quick).", show_default=False)] = None,
    lr_filters: Annotated[int, typer.Option("--lr-filters", min=1, help="F of the learning-rate sweep (the "
                          "report's 16; 8 with --quick).")] = 16,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate of the width sweep.")] = 0.1,
    optimizer: Annotated[str, typer.Option("--optimizer", help="Optimizer name.")] = "gd",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch size.")] = 50,
    epochs: opt.Epochs = None,
    steps: opt.Steps = None,
    validation: Annotated[Optional[int], typer.Option("--validation", min=1, help="Training images held out for the "
                          "validation curves (default: 5000; 500 with --quick).", show_default=False)] = None,
    dataset: Dataset = "mnist",
    subset: Subset = None,
    test_subset: TestSubset = None,
    *, run: opt.RunOptions,
) -> Any:
    """The filters study: a small CNN (two 3×3 convolutions with F filters, 2×2 pools, dense 128).

    Two sweeps with plain GD, batch 50, 10 epochs (the report's): learning rate 0.1 / 0.01 / 0.001 / 0.0001 at
    F = 16 with validation curves, and F = 8 / 16 / 32 / 64 / 128 / 256 at lr 0.1 → parameters (9F² + 6,283F
    + 1,418: 52,258 … 2,199,690), runtime and accuracy, plotted against F and against parameters. The full
    default is long on a CPU (F = 256 is ≈ 115 M multiply-adds per image); --epochs and --subset shorten it.

    --quick: F = 8, 16 and lr 0.1, 0.01 for one epoch on 3,000 images.

    Example: dltool mnist filters --lrs '' --epochs 1 --json | jq '.runs[] | [.filters, .params, .test_accuracy]'
    """
    from dltool.experiments.mnist import filters as exp

    return exp.FiltersConfig.from_options(
        run.quick, filters=_skippable(filters_, "--filters", _ints), lrs=_skippable(lrs, "--lrs"),
        lr_filters=lr_filters, lr=lr, optimizer=optimizer, batch_size=batch_size, epochs=epochs, steps=steps,
        validation=validation, dataset=dataset, subset=subset, test_subset=test_subset,
        **run.settings("data_dir", "precision", "seed"))


@_study("mlp")
def mlp(
    studies: Annotated[str, typer.Option("--studies", help="Comma-separated: schedule, depth, sparsity, norm, l1 "
                       "(every L1 definition side by side) ('' for the base run only).")]
    = "schedule,depth,sparsity,norm",
    epochs: Annotated[Optional[int], typer.Option("--epochs", min=1, help="Training epochs (default: 50, the "
                      "report's; 1 with --quick).", show_default=False)] = None,
    steps: opt.Steps = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch size.")] = 100,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate α₀.")] = 0.1,
    l2: Annotated[float, typer.Option("--l2", help="L2 penalty λ·Σw² on the hidden weights (base).")] = 0.01,
    decay: Annotated[float, typer.Option("--decay", help="δ of the diminishing schedule α₀/(1 + δ·k).")]
    = 0.1,
    decay_unit: Annotated[str, typer.Option("--decay-unit", help="What k counts: epoch (reproduces the report) "
                          "or step (what the report's text says; the rate collapses within the first epoch).")]
    = "epoch",
    adagrad_lr: Annotated[float, typer.Option("--adagrad-lr", help="Adagrad's learning rate.")] = 0.01,
    l1: Annotated[float, typer.Option("--l1", help="L1 penalty λ of the sparsity study.")] = 0.05,
    l1_definition: Annotated[str, typer.Option("--l1-definition", help="How λ applies: report (λ·Σ|w|/50, "
                             "reproduces report 003), batch (λ·Σ|w|/batch size), sum (λ·Σ|w|, Keras' L1), mean "
                             "(λ·mean|w|), dataset (λ·Σ|w|/training images) or activity (λ·Σ|h| on the hidden "
                             "outputs).")] = "report",
    dropout: Annotated[float, typer.Option("--dropout", help="Dropout rate of the sparsity study.")] = 0.2,
    gallery: Annotated[int, typer.Option("--gallery", min=0, help="Correct and wrong test digits each in "
                       "gallery.png.")] = 12,
    target_accuracy: Target = None,
    eval_every: EvalEvery = None,
    dataset: Dataset = "mnist",
    subset: Subset = None,
    test_subset: TestSubset = None,
    *, run: opt.RunOptions,
) -> Any:
    """MLP 784-100-10 (SGD 0.1, L2 0.01 on the hidden weights, batch 100) and one-change studies around it.

    Report 003's settings, 50 epochs per run. Studies: schedule (constant vs α₀/(1 + 0.1·k), k = epoch, vs
    Adagrad 0.01), depth (100) vs (50, 50) vs (25, 25, 25, 25), sparsity (L1 0.05 vs dropout 0.2: accuracy,
    mean |w|, share of |w| < 1e-3), norm (layer normalisation vs none); l1 (not run by default) trains every
    definition of the L1 penalty. The base run is shared by all studies. Every number report 003 gives stands
    beside ours, with its section (its times are its own machine's, never divided by ours). Plots: test
    accuracy per epoch per study, the base's train vs test accuracy, measured vs report, a gallery of digits.

    --quick: every study for one epoch on 5,000 training and 1,000 test images.
    """
    from dltool.experiments.mnist import mlp as exp

    return exp.MlpConfig.from_options(
        run.quick, studies=_skippable(studies, "--studies", _names),
        epochs=epochs, steps=steps, batch_size=batch_size, lr=lr, l2=l2, decay=decay,
        decay_unit=opt.name(decay_unit), adagrad_lr=adagrad_lr, l1=l1, l1_definition=opt.name(l1_definition),
        dropout=dropout, gallery=gallery, target_accuracy=target_accuracy, eval_every=eval_every, dataset=dataset,
        subset=subset, test_subset=test_subset, **run.settings("data_dir", "precision", "seed"))


@_study("devices")
def devices(
    devices_: Annotated[Optional[str], typer.Option("--devices", help="Device counts, each in its own process "
                        "(default: 1,2,4; 1,2 with --quick).", show_default=False)] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", min=2, help="Timed steps per setting (default: 50; 10 "
                     "with --quick).", show_default=False)] = None,
    batch_sizes: Annotated[Optional[str], typer.Option("--batch-sizes", help="Global batch sizes (multiples of "
                           "every device count) (default: 4,16,48; 4,16 with --quick).", show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="deep (Deep-MNIST CNN), fast (the fast99 CNN), "
                     "mlp or softmax (default: deep; fast with --quick).", show_default=False)] = None,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 1e-4,
    optimizer: Annotated[str, typer.Option("--optimizer", help="Optimizer name.")] = "adam",
    virtual: Annotated[bool, typer.Option("--virtual", help="Use logical devices even when there are enough "
                       "GPUs (without GPUs they are always virtual CPU devices).")] = False,
    cross_device_ops: Annotated[str, typer.Option("--cross-device-ops", click_type=choices.CROSS_DEVICE_OPS,
                                                  help="auto, nccl (GPUs only), "
                                "hierarchical-copy or reduction-to-one-device.")] = "auto",
    dataset: Dataset = "mnist",
    *, run: opt.RunOptions,
) -> Any:
    """Training time vs batch size on 1 / 2 / 4 devices (MirroredStrategy), each count in a fresh process.

    Uses GPUs when the machine has enough; otherwise the CPU (or one GPU) is split into logical devices and
    every number is labelled "virtual". The report (GPUs): batch 4 got slower with more GPUs, batch 48 faster.
    Prints ms/step and images/s (mean ± standard error), seconds per epoch and the speedup over 1 device.

    Example: dltool mnist devices --json | jq '.runs[] | [.label, .batch_size, .step_ms]'
    """
    from dltool.experiments.mnist import devices as exp

    return exp.DevicesConfig.from_options(
        run.quick, devices=_ints(devices_, "--devices"), batch_sizes=_ints(batch_sizes, "--batch-sizes"),
        steps=steps, model=opt.name(model) or None, lr=lr, optimizer=optimizer, virtual=virtual,
        cross_device_ops=opt.name(cross_device_ops), dataset=dataset,
        **run.settings("data_dir", "precision", "seed"))


@_study("workers", log_dir=True)
def workers_(
    workers: Annotated[Optional[str], typer.Option("--workers", help="Worker counts K, one local cluster each "
                       "(default: 1,6; 1,2 with --quick).", show_default=False)] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", min=1, help="Training epochs (default: 50, report "
                      "003's Q1 length; 1 with --quick).", show_default=False)] = None,
    steps: opt.Steps = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch per worker (global = K × this).")]
    = 100,
    model: Annotated[str, typer.Option("--model", help="mlp (784-100-10), softmax, fast (the fast99 CNN) or "
                     "deep.")] = "mlp",
    optimizer: Annotated[str, typer.Option("--optimizer", help="Optimizer name.")] = "gd",
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 0.1,
    l2: Annotated[Optional[float], typer.Option("--l2", help="L2 penalty λ·Σw² on the MLP's hidden weights "
                  "(default: 0.01 for the MLP, 0 for the other models).", show_default=False)] = None,
    shards: Annotated[str, typer.Option("--shards", help="How the training set is split: random (a seeded "
                      "permutation dealt into K parts, the report's) or strided (worker i takes i, i+K, …).")]
    = "random",
    communication: Annotated[str, typer.Option("--communication", help="Collective implementation: auto or ring.")]
    = "auto",
    dataset: Dataset = "mnist",
    subset: Subset = None,
    test_subset: TestSubset = None,
    *, run: opt.RunOptions,
) -> Any:
    """K workers on disjoint shards with MultiWorkerMirroredStrategy: accuracy and time against one worker.

    Each K is a real cluster of K processes on 127.0.0.1 (free ports, TF_CONFIG); worker i trains on its fixed
    shard (random by default: a seeded permutation dealt into K disjoint parts) with its own batch, gradients
    are all-reduced every step (global batch K × batch). Default = report 003's Q4: its Q1 network (MLP
    784-100-10, SGD 0.1, L2 0.01 on the hidden weights), batch 100 per worker, 6 random shards, 50 epochs,
    K = 1 and 6; the report's 94.6 % (K = 6) and 95.6 % (Q1, one machine) stand beside ours. On one machine
    the workers share its cores: K > 1 shows the cost of the collectives, not a speedup.

    --quick: K = 1 and 2, one epoch on 6,000 training and 1,000 test images.
    """
    from dltool.experiments.mnist import workers as exp

    return exp.WorkersConfig.from_options(
        run.quick, workers=_ints(workers, "--workers"), epochs=epochs, steps=steps, batch_size=batch_size,
        model=opt.name(model), optimizer=optimizer, lr=lr, l2=l2, shards=opt.name(shards),
        communication=opt.name(communication), dataset=dataset, subset=subset, test_subset=test_subset,
        **run.settings("data_dir", "precision", "seed"))


def register(app: typer.Typer) -> None:
    app.add_typer(mnist_app, name="mnist")
