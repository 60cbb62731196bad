"""``dltool scale``: strong and weak data-parallel scaling with tf.distribute, measured per learner count."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from dltool.cli import choices
from dltool.cli import options as opt

# the longest option declarations, named here so that the command reads as a list of its options
Gpus = Annotated[Optional[str], typer.Option(
    "--gpus", help="Learner counts for mirrored: N measures 1, 2, 4 … up to N; or a list like 1,2,4,8. (default: "
    "the report's 1,2,4,8,16, without the counts above this machine's GPUs)", show_default=False)]
Workers = Annotated[Optional[str], typer.Option(
    "--workers", help="Local worker processes for multiworker: N measures 1, 2, 4 … up to N; or a list. With "
    "TF_CONFIG set, leave it out to join that cluster. (default: 1,2)", show_default=False)]
PricePerHour = Annotated[Optional[float], typer.Option(
    "--price-per-hour", help="US$ per device-hour for the cost column. (default: on real GPUs the report's K80 at "
    "GCP's $0.45 per GPU-hour; no price, so no cost, for CPU and virtual devices)", show_default=False)]
Timeout = Annotated[Optional[float], typer.Option(
    "--timeout", help="Collective timeout in seconds, a debugging aid: it bounds every collective, start-up and "
    "first step included. (default: none; a lost worker is still found by the health check, a hung one by its "
    "heartbeat)", show_default=False)]


@opt.shared("data_dir", "precision", "xla", "quick")
def scale(
    strategy: Annotated[str, typer.Option("--strategy", click_type=choices.SCALE_STRATEGY,
                                          help="mirrored: N devices in one process; multiworker: "
                        "N worker processes (MultiWorkerMirroredStrategy).")] = "mirrored",
    gpus: Gpus = None,
    workers: Workers = None,
    virtual: Annotated[Optional[bool], typer.Option(
        "--virtual/--no-virtual", help="--virtual: split one GPU (or the CPU) into N logical devices; every number "
        "is labelled virtual (--quick's default with mirrored). --no-virtual: real devices only, e.g. "
        "--quick --gpus 1 --no-virtual on one physical GPU.", show_default=False)] = None,
    mode: Annotated[str, typer.Option("--mode", click_type=choices.SCALE_MODE,
                                      help="strong (global batch fixed), weak (batch per learner "
                    "fixed) or both.")] = "both",
    model: Annotated[Optional[str], typer.Option("--model", help="resnet50 (Keras application, no weights), "
                     "resnet20/32/44/56/110 (CIFAR ResNets), deep_mnist_cnn, mlp or softmax. (default: resnet50)",
                     show_default=False)] = None,
    dataset: Annotated[Optional[str], typer.Option("--dataset", click_type=choices.SCALE_DATASET,
                                                   help="fashion-mnist, mnist, cifar10 or synthetic "
                       "(random images; an epoch counts 60,000). (default: fashion-mnist)",
                       show_default=False)] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Strong scaling: global batch, "
                          "split over the learners. (default: 256)", show_default=False)] = None,
    per_learner_batch: Annotated[Optional[int], typer.Option("--per-learner-batch", min=1, help="Weak scaling: "
                                 "batch per learner (global = N × this). (default: 64)", show_default=False)] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training time and cost are for this many "
                      "epochs: each job trains them in full (measured wall time), or, with --steps, they are "
                      "extrapolated from the mean step time (labelled so).")] = 10,
    steps: opt.Steps = None,
    warmup_steps: Annotated[Optional[int], typer.Option("--warmup-steps", min=1, help="Steps excluded from "
                            "timing. (default: one compiled call, or 20 % of the steps up to 10)",
                            show_default=False)] = None,
    price_per_hour: PricePerHour = None,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate (momentum 0.9).")] = 0.01,
    cross_device_ops: Annotated[str, typer.Option("--cross-device-ops", click_type=choices.CROSS_DEVICE_OPS,
                                                  help="mirrored: auto, nccl, "
                                "hierarchical-copy or reduction-to-one-device.")] = "auto",
    communication: Annotated[str, typer.Option("--communication", click_type=choices.COMMUNICATION,
                                               help="multiworker: auto, ring or nccl.")]
    = "auto",
    timeout: Timeout = None,
    *, run: opt.RunOptions,
) -> None:
    """Measure strong and weak data-parallel scaling (report 004, Problem 2): throughput, training time, cost,
    scaling efficiency.

    Defaults are the report's: ResNet-50 on Fashion-MNIST, 1, 2, 4, 8, 16 learners, 10 epochs, effective
    batch 256 (strong) and 64 per learner (weak). Each learner count runs in its own process; warmup steps are
    excluded and throughput is mean ± σ/√n. Without GPUs, add --virtual to split the CPU into N logical
    devices. --quick: 1 and 2 virtual learners, the Deep-MNIST CNN on synthetic data, the report's batches,
    8 steps a job (10 epochs extrapolated).
    """
    from dltool.cli.sweep import launch
    from dltool.engine.workers import cluster_from_env
    from dltool.experiments import scale as exp
    from dltool.report.views import scale as views

    cfg = exp.ScaleConfig.from_options(
        run.quick, strategy=opt.name(strategy), gpus=gpus, workers=workers, virtual=virtual, mode=mode,
        model=model, dataset=dataset, global_batch=batch_size, per_learner_batch=per_learner_batch, epochs=epochs,
        steps=steps, warmup_steps=warmup_steps, lr=lr, price_per_hour=price_per_hour,
        cross_device_ops=cross_device_ops, communication=communication, collective_timeout_s=timeout,
        **run.settings("precision", "xla", "seed", "data_dir"))
    chief = not cfg.join or cluster_from_env().is_chief  # joining a cluster: only its chief writes a run folder
    launch("scale", cfg, run, exp.run, views, log_dir=True, save=chief)


def register(app: typer.Typer) -> None:
    app.command("scale")(scale)
