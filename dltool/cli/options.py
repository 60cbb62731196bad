"""Option aliases shared by the commands, so every command spells ``--json``, ``--seed`` … the same way."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class Precision(str, Enum):
    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"


Json = Annotated[bool, typer.Option("--json", help="Print only one JSON document on stdout (for jq).")]
Csv = Annotated[bool, typer.Option("--csv", help="Print the main table as CSV on stdout.")]
Markdown = Annotated[bool, typer.Option("--markdown", help="Print the tables as GitHub Markdown on stdout.")]
OutDir = Annotated[
    Optional[Path],
    typer.Option("--out", help="Run folder for results.json and plots (default: a new runs/<command>-<time>/).",
                 show_default=False),
]
NoSave = Annotated[bool, typer.Option("--no-save", help="Write no run folder (results only on stdout).")]
def _check_data_dir(value: Optional[Path]) -> Optional[Path]:
    """A --data-dir that is a file or missing is refused as the options are read (before TensorFlow starts)."""
    from dltool.errors import MissingError, UsageError

    if value is not None:
        folder = Path(value).expanduser()
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--data-dir {value} is a file, not a folder",
                             "give the folder that holds the dataset files (or their mnist/, cifar10/ … folder)")
        if not folder.exists():
            raise MissingError(f"--data-dir {value} does not exist",
                               "give the folder that holds the dataset files, or leave out --data-dir to search "
                               "$DLTOOL_DATA_DIR, /usr/share/datasets and tensorflow-datasets")
    return value


DataDir = Annotated[
    Optional[Path],
    typer.Option("--data-dir", callback=_check_data_dir,
                 help="Folder with the raw dataset files (else $DLTOOL_DATA_DIR, "
                 "/usr/share/datasets, tensorflow-datasets).", show_default=False),
]
Seed = Annotated[int, typer.Option("--seed", min=0, max=2**32 - 1,
                                   help="Random seed (0 … 2^32−1); a CPU run with the same seed repeats exactly.")]
Epochs = Annotated[Optional[int], typer.Option("--epochs", min=1, help="Training epochs (default: the study's).")]
Steps = Annotated[Optional[int], typer.Option("--steps", min=1, help="Stop each run after this many steps.")]
BatchSize = Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Global batch size.")]
PrecisionOpt = Annotated[
    Precision, typer.Option("--precision", help="fp32, bf16 (mixed; fast on CPUs with AMX) or fp16 (mixed; GPUs).")
]
Xla = Annotated[bool, typer.Option("--xla/--no-xla", help="Compile the train step with XLA (measure first on CPU).")]
Quick = Annotated[bool, typer.Option("--quick", help="A tiny preset that finishes in under a minute (demos, CI).")]
OptimizerDefaults = Annotated[str, typer.Option(
    "--optimizer-defaults", help="tf1 (TensorFlow 1's optimizer constants: Adam/Adadelta ε 1e-8, RMSProp ε 1e-10 "
    "with its mean square starting at 1, Adagrad without ε — what the reports' code used) or keras (Keras 3's).")]
