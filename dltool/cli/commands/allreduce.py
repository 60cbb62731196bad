"""``dltool allreduce``: TensorFlow's all-reduce implementations, microbenchmarked and in training."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from dltool.cli import options as opt


@opt.shared("precision", "quick")
def allreduce(
    devices: Annotated[Optional[str], typer.Option("--devices", help="MirroredStrategy device counts, e.g. "
                       "1,2,4,8 (each count runs in its own process). (default: 1,2,4,8)",
                       show_default=False)] = None,
    virtual: Annotated[Optional[bool], typer.Option(
        "--virtual/--no-virtual", help="--virtual: split one GPU (or the CPU) into N logical devices; those rows are "
        "labelled virtual (--quick's default). --no-virtual: real devices only, e.g. --quick --devices 2 "
        "--no-virtual on two physical GPUs.", show_default=False)] = None,
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
    *, run: opt.RunOptions,
) -> None:
    """Compare all-reduce implementations: time, algbw, busbw per message size (as nccl-tests), an α–β ring
    model beside each measurement, every result checked against numpy, and training throughput per
    implementation.

    NCCL without GPUs gives a row saying why it is unavailable; hierarchical-copy is refused outside
    2, 4, 8 devices (it assumes two groups). --quick: 1 and 2 virtual devices, messages up to 256 KiB,
    ring with 2 workers, softmax regression. memcpy, the reference for busbw, is always a 256 MiB copy.
    """
    from dltool.cli.sweep import launch
    from dltool.experiments import allreduce as exp
    from dltool.experiments.common import parse_ints, parse_names
    from dltool.report.views import allreduce as views

    cfg = exp.AllreduceConfig.from_options(
        run.quick, devices=parse_ints(devices, "--devices"), virtual=virtual,
        implementations=parse_names(implementations), workers=workers, communications=parse_names(communications),
        min_bytes=exp.parse_size(min_size, "--min-size"), max_bytes=exp.parse_size(max_size, "--max-size"),
        factor=factor, iterations=iterations, model=model, train=train, train_steps=steps,
        per_device_batch=batch_size, collective_timeout_s=timeout, **run.settings("precision", "seed"))
    launch("allreduce", cfg, run, exp.run, views, log_dir=True)


def register(app: typer.Typer) -> None:
    app.command("allreduce")(allreduce)
