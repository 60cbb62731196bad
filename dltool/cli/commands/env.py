"""``dltool env``: versions, CPU, GPUs, NCCL, matmul peaks and datasets, for a bug report."""

from __future__ import annotations

from typing import Annotated

import typer

from dltool.cli import options as opt


@opt.shared(exclude=("seed", "out", "no_save"), check_out=False)  # --json, --csv, --markdown
def env(
    tensorflow: Annotated[bool, typer.Option("--tensorflow", help="Also ask TensorFlow: the GPUs it can use "
                          "(compute capability), its CUDA/cuDNN build, and whether NCCL is usable (a real "
                          "all-reduce on the GPUs). Imports TensorFlow (a few seconds).")] = False,
    measure: Annotated[bool, typer.Option("--measure", help="Measure the matmul peaks not cached yet (fp32 and "
                       "bf16 on the CPU; fp32, bf16, fp16 on each GPU; a few seconds each) and cache them.")]
    = False,
    *, run: opt.RunOptions,
) -> None:
    """The environment, ready to paste into a bug report: dltool, Python, TensorFlow, Keras and
    tensorflow-datasets versions; CPU model, cores and the flags that make bf16 fast (AVX-512 BF16, AMX); GPUs
    with memory, compute capability and the NVIDIA driver; the TensorFlow build's CUDA/cuDNN versions and compute
    capabilities, and per GPU whether it runs machine code or JIT-compiles PTX on first use (with a warning for
    a JIT, a GPU no code fits, or a driver too old for the build); whether NCCL is usable; the cached matmul
    peak per precision; where each dataset was found, or how to provide it.

    Without --tensorflow or --measure TensorFlow is not imported (GPUs come from nvidia-smi when present) and
    it prints in well under a second. --markdown pastes well into an issue.
    """
    from dltool import envinfo
    from dltool.report import output
    from dltool.report.views import env as views

    result = envinfo.gather(tensorflow=bool(tensorflow), measure=bool(measure))  # None: not given
    tables, footer = views.tables(result)
    output.emit(tables, result, run.fmt, footer)


def register(app: typer.Typer) -> None:
    app.command("env")(env)
