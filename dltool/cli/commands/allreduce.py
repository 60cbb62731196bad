"""``dltool allreduce``: TensorFlow's all-reduce implementations, microbenchmarked and in training."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from dltool.cli import options as opt

# 1 device is the training baseline ("vs 1 device"), 2 devices the smallest all-reduce
QUICK = {"devices": [1, 2], "max_size": "256K", "model": "softmax", "steps": 4, "batch_size": 16, "iterations": 3,
         "communications": ["ring"]}


def allreduce(
    devices: Annotated[Optional[str], typer.Option("--devices", help="MirroredStrategy device counts, e.g. "
                       "1,2,4,8 (each count runs in its own process). (default: 1,2,4,8)",
                       show_default=False)] = None,
    virtual: Annotated[bool, typer.Option("--virtual", help="Split one GPU (or the CPU) into N logical devices; "
                       "those rows are labelled virtual.")] = False,
    implementations: Annotated[Optional[str], typer.Option("--implementations", help="Cross-device ops: nccl, "
                               "hierarchical-copy, reduction-to-one-device. (default: all)",
                               show_default=False)] = None,
    workers: Annotated[int, typer.Option("--workers", help="MultiWorkerMirroredStrategy worker processes on "
                       "127.0.0.1 (0 skips that part).")] = 2,
    communications: Annotated[Optional[str], typer.Option("--communications", help="Multi-worker "
                              "communication: auto, nccl, ring. (default: all)", show_default=False)] = None,
    min_size: Annotated[str, typer.Option("--min-size", help="Smallest message (bytes; K, M, G suffixes).")] = "4K",
    max_size: Annotated[Optional[str], typer.Option("--max-size", help="Largest message. (default: 256M)",
                        show_default=False)] = None,
    factor: Annotated[int, typer.Option("--factor", help="Message size multiplier between rows.")] = 4,
    iterations: Annotated[Optional[int], typer.Option("--iterations", min=1, help="Timed all-reduces per size "
                          "at most (fewer for big messages: 2 GiB of traffic per size). (default: 20)",
                          show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model whose gradient list is all-reduced and "
                     "which is trained: resnet50, resnet20/32/44/56/110, deep_mnist_cnn, mlp, softmax. "
                     "(default: resnet50)", show_default=False)] = None,
    train: Annotated[bool, typer.Option("--train/--no-train", help="Also measure training throughput with each "
                     "implementation.")] = True,
    steps: Annotated[Optional[int], typer.Option("--steps", min=3, help="Training steps per implementation "
                     "(2 are warmup). (default: 10)", show_default=False)] = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Training batch per device. "
                          "(default: 32)", show_default=False)] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Collective timeout (s) for the workers, "
                       "a debugging aid. (default: none)", show_default=False)] = None,
    precision: opt.PrecisionOpt = opt.Precision.fp32,
    seed: opt.Seed = 0,
    out: opt.OutDir = None,
    no_save: opt.NoSave = False,
    json_: opt.Json = False,
    csv_: opt.Csv = False,
    markdown: opt.Markdown = False,
    quick: opt.Quick = False,
) -> None:
    """Compare all-reduce implementations: time, algbw, busbw per message size (as nccl-tests), an α–β ring
    model beside each measurement, every result checked against numpy, and training throughput per
    implementation.

    NCCL without GPUs gives a row saying why it is unavailable; hierarchical-copy is refused outside
    2, 4, 8 devices (it assumes two groups). --quick: 1 and 2 virtual devices, messages up to 256 KiB,
    ring with 2 workers, softmax regression. memcpy, the reference for busbw, is always a 256 MiB copy.
    """
    from dltool.cli.sweep import run_sweep
    from dltool.experiments import allreduce as exp
    from dltool.experiments.common import parse_ints, parse_names
    from dltool.report import output
    from dltool.report.export import check_out, new_run_dir
    from dltool.report.views import allreduce as views

    fmt = output.choose_format(json_, csv_, markdown)
    check_out(out, no_save)  # before TensorFlow and before any folder is made
    preset = QUICK if quick else {}
    cfg = exp.AllreduceConfig(
        devices=parse_ints(devices, "--devices") if devices else preset.get("devices"),
        virtual=virtual or quick, implementations=parse_names(implementations),
        workers=workers, communications=parse_names(communications) or preset.get("communications"),
        min_bytes=exp.parse_size(min_size, "--min-size"),
        max_bytes=exp.parse_size(max_size or preset.get("max_size", "256M"), "--max-size"), factor=factor,
        iterations=iterations or preset.get("iterations", 20), model=model or preset.get("model", "resnet50"),
        train=train, train_steps=steps or preset.get("steps", 10),
        per_device_batch=batch_size or preset.get("batch_size", 32), precision=precision.value,
        collective_timeout_s=timeout, seed=seed)
    counts = cfg.validate()
    total = sum(len(cfg.implementations) if n > 1 else 1 for n in counts) + (
        len(cfg.communications) if cfg.workers >= 2 else 0)
    run_dir = None if no_save else new_run_dir("allreduce", out)
    log_dir = run_dir / "workers" if run_dir else None
    run_sweep("allreduce", cfg, total, lambda **hooks: exp.run(cfg, log_dir=log_dir, **hooks), views, fmt, run_dir,
              summary=lambda r: dict(bus=r.bus, train=r.train, fits=r.fits, memcpy_bandwidth=r.memcpy_bandwidth,
                                     memcpy_bytes=r.memcpy_bytes, notes=r.notes,
                                     gradient_tensors=r.gradient_tensors, gradient_bytes=r.gradient_bytes))


def register(app: typer.Typer) -> None:
    app.command("allreduce")(allreduce)
