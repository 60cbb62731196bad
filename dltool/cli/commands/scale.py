"""``dltool scale``: strong and weak data-parallel scaling with tf.distribute, measured per learner count."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from dltool.cli import options as opt

# the report's batches (256 strong, 64 per learner weak) on a small model, 2 virtual learners, 8 steps a job
QUICK = {"learners": [1, 2], "model": "deep_mnist_cnn", "dataset": "synthetic", "steps": 8}


def expand_counts(text: str | None, option: str) -> list[int] | None:
    """'4' → 1, 2, 4 (powers of two up to N, and N); '1,2,8' → exactly those."""
    from dltool.experiments.common import parse_ints

    if text is None:
        return None
    values = parse_ints(text, option)
    if "," in text:
        return sorted(set(values))
    top = values[0]
    counts = [1 << k for k in range(top.bit_length()) if (1 << k) <= top]
    return sorted(set(counts + [top]))


def scale(
    strategy: Annotated[str, typer.Option("--strategy", help="mirrored: N devices in one process; multiworker: "
                        "N worker processes (MultiWorkerMirroredStrategy).")] = "mirrored",
    gpus: Annotated[Optional[str], typer.Option("--gpus", help="Learner counts for mirrored: N measures 1, 2, 4 … "
                    "up to N; or a list like 1,2,4,8. (default: the report's 1,2,4,8,16, without the counts "
                    "above this machine's GPUs)", show_default=False)] = None,
    workers: Annotated[Optional[str], typer.Option("--workers", help="Local worker processes for multiworker: N "
                       "measures 1, 2, 4 … up to N; or a list. With TF_CONFIG set, leave it out to join that "
                       "cluster. (default: 1,2)", show_default=False)] = None,
    virtual: Annotated[bool, typer.Option("--virtual", help="Split one GPU (or the CPU) into N logical devices; "
                       "every number is labelled virtual.")] = False,
    mode: Annotated[str, typer.Option("--mode", help="strong (global batch fixed), weak (batch per learner "
                    "fixed) or both.")] = "both",
    model: Annotated[Optional[str], typer.Option("--model", help="resnet50 (Keras application, no weights), "
                     "resnet20/32/44/56/110 (CIFAR ResNets), deep_mnist_cnn, mlp or softmax. (default: resnet50)",
                     show_default=False)] = None,
    dataset: Annotated[Optional[str], typer.Option("--dataset", help="fashion-mnist, mnist, cifar10 or synthetic "
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
    price_per_hour: Annotated[Optional[float], typer.Option("--price-per-hour", help="US$ per device-hour for "
                              "the cost column. (default: on real GPUs the report's K80 at GCP's $0.45 per "
                              "GPU-hour; no price, so no cost, for CPU and virtual devices)",
                              show_default=False)] = None,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate (momentum 0.9).")] = 0.01,
    cross_device_ops: Annotated[str, typer.Option("--cross-device-ops", help="mirrored: auto, nccl, "
                                "hierarchical-copy or reduction-to-one-device.")] = "auto",
    communication: Annotated[str, typer.Option("--communication", help="multiworker: auto, ring or nccl.")]
    = "auto",
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Collective timeout in seconds, a "
                       "debugging aid: it bounds every collective, start-up and first step included. (default: "
                       "none; a lost worker is still found by the health check, a hung one by its heartbeat)",
                       show_default=False)] = None,
    precision: opt.PrecisionOpt = opt.Precision.fp32,
    xla: opt.Xla = False,
    data_dir: opt.DataDir = None,
    seed: opt.Seed = 0,
    out: opt.OutDir = None,
    no_save: opt.NoSave = False,
    json_: opt.Json = False,
    csv_: opt.Csv = False,
    markdown: opt.Markdown = False,
    quick: opt.Quick = False,
) -> None:
    """Measure strong and weak data-parallel scaling (report 004, Problem 2): throughput, training time, cost,
    scaling efficiency.

    Defaults are the report's: ResNet-50 on Fashion-MNIST, 1, 2, 4, 8, 16 learners, 10 epochs, effective
    batch 256 (strong) and 64 per learner (weak). Each learner count runs in its own process; warmup steps are
    excluded and throughput is mean ± σ/√n. Without GPUs, add --virtual to split the CPU into N logical
    devices. --quick: 1 and 2 virtual learners, the Deep-MNIST CNN on synthetic data, the report's batches,
    8 steps a job (10 epochs extrapolated).
    """
    import os

    from dltool.cli.sweep import run_sweep
    from dltool.engine import workers as workers_mod
    from dltool.errors import UsageError
    from dltool.experiments import scale as exp
    from dltool.report import output
    from dltool.report.export import check_out, new_run_dir
    from dltool.report.views import scale as views

    fmt = output.choose_format(json_, csv_, markdown)
    check_out(out, no_save)  # before TensorFlow and before any folder is made
    strategy = strategy.strip().lower()
    from dltool.engine.devices import COMMUNICATIONS, CROSS_DEVICE_OPS  # names only; no TensorFlow import

    cross_device_ops = cross_device_ops.strip().lower().replace("_", "-")
    if cross_device_ops not in CROSS_DEVICE_OPS:
        raise UsageError(f"unknown --cross-device-ops {cross_device_ops!r}",
                         f"choose one of {', '.join(CROSS_DEVICE_OPS)}")
    communication = communication.strip().lower()
    if communication not in COMMUNICATIONS:
        raise UsageError(f"unknown --communication {communication!r}",
                         f"choose one of {', '.join(COMMUNICATIONS)}")
    if strategy == "multiworker" and gpus is not None:
        raise UsageError("--gpus counts devices of --strategy mirrored", "use --workers N with multiworker")
    if strategy == "mirrored" and workers is not None:
        raise UsageError("--workers starts worker processes for --strategy multiworker",
                         "add --strategy multiworker, or use --gpus N with mirrored")
    join = strategy == "multiworker" and bool(os.environ.get("TF_CONFIG"))
    if join and workers is not None:
        raise UsageError("TF_CONFIG is set, so this process joins that cluster; --workers would start another",
                         "unset TF_CONFIG to start local workers, or leave out --workers")
    learners = expand_counts(gpus if strategy == "mirrored" else workers,
                             "--gpus" if strategy == "mirrored" else "--workers")
    preset = QUICK if quick else {}
    if learners is None:  # None for mirrored: the report's counts, fitted to the machine by the experiment
        learners = preset.get("learners") or (None if strategy == "mirrored" else [1, 2])
    cfg = exp.ScaleConfig(
        strategy=strategy, learners=learners, virtual=virtual or (quick and strategy == "mirrored"), mode=mode,
        model=model or preset.get("model", "resnet50"), dataset=dataset or preset.get("dataset", "fashion_mnist"),
        global_batch=batch_size or preset.get("global_batch", exp.STRONG_GLOBAL_BATCH),
        per_learner_batch=per_learner_batch or preset.get("per_learner_batch", exp.WEAK_PER_LEARNER_BATCH),
        epochs=epochs, steps=steps or preset.get("steps"), warmup_steps=warmup_steps, lr=lr,
        price_per_hour=price_per_hour, cross_device_ops=cross_device_ops, communication=communication,
        collective_timeout_s=timeout, precision=precision.value, xla=xla, seed=seed,
        data_dir=str(data_dir) if data_dir else None, join=join)
    counts = cfg.validate()
    if cfg.dataset != "synthetic":  # missing data: exit 3 now, before TensorFlow and before the run folder
        from dltool.data.sources import check_available

        check_available(cfg.dataset, cfg.data_dir)
    chief = not join or workers_mod.cluster_from_env().is_chief
    total = 1 if join else sum(len(cfg.measurements(n)) for n in counts)
    run_dir = None if (no_save or not chief) else new_run_dir("scale", out)
    log_dir = run_dir / "workers" if run_dir else None
    run_sweep("scale", cfg, total, lambda **hooks: exp.run(cfg, log_dir=log_dir, **hooks), views, fmt, run_dir,
              summary=lambda r: dict(summary=list(r.runs), baseline_learners=r.baseline_learners,
                                     price_per_hour=r.price_per_hour, price_source=r.price_source,
                                     device_kind=r.device_kind, parameters=r.parameters,
                                     training_time_basis=r.training_time_basis, report=r.report,
                                     differences=r.differences, definitions=r.definitions))


def register(app: typer.Typer) -> None:
    app.command("scale")(scale)
