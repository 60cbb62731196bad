"""The options the commands share, so every command spells ``--json``, ``--seed`` … the same way.

:func:`shared` adds a bundle of them to a command and hands them over as one :class:`RunOptions`, after the
output format is chosen and ``--out`` is checked (before TensorFlow and before any folder is made).
"""

from __future__ import annotations

import functools
import inspect
import typing
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from dltool.cli import choices
from dltool.cli._click import click
from dltool.engine.precision import PRECISIONS

Precision = Enum("Precision", {name: name for name in PRECISIONS}, type=str)


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
def _check_seed(value: Optional[int]) -> Optional[int]:
    """NumPy's seed range, checked here rather than with min/max: those would print [0<=x<=4294967295] in --help."""
    if value is not None and not 0 <= value <= 2**32 - 1:
        raise typer.BadParameter(f"{value} is not in the range 0 … 4,294,967,295 (2^32−1)")
    return value


Seed = Annotated[int, typer.Option("--seed", callback=_check_seed,
                                   help="Random seed (0 … 2^32−1); a CPU run with the same seed repeats exactly.")]
Epochs = Annotated[Optional[int], typer.Option("--epochs", min=1, help="Training epochs (default: the study's).")]
Steps = Annotated[Optional[int], typer.Option("--steps", min=1, help="Stop each run after this many steps.")]
PrecisionOpt = Annotated[
    Precision, typer.Option("--precision", help="fp32, bf16 (mixed; fast on CPUs with AMX) or fp16 (mixed; GPUs).")
]
Xla = Annotated[bool, typer.Option("--xla/--no-xla", help="Compile the train step with XLA (measure first on CPU).")]
Quick = Annotated[bool, typer.Option("--quick", help="A tiny preset that finishes in under a minute (demos, CI).")]
OptimizerDefaults = Annotated[str, typer.Option(
    "--optimizer-defaults", click_type=choices.OPTIMIZER_DEFAULTS,
    help="tf1 (TensorFlow 1's optimizer constants: Adam/Adadelta ε 1e-8, RMSProp ε 1e-10 "
    "with its mean square starting at 1, Adagrad without ε — what the reports' code used) or keras (Keras 3's).")]


def name(text: str | None) -> str | None:
    """A name option as the configs compare it: stripped and lower-case; None stays None (not given)."""
    return text.strip().lower() if text is not None else None


@dataclass(frozen=True)
class RunOptions:
    """What :func:`shared` read: the output format, the run folder's options and the shared experiment settings."""

    fmt: Any
    out: Optional[Path] = None
    no_save: bool = False
    seed: int = 0
    quick: bool = False
    data_dir: Optional[Path] = None
    precision: Optional[str] = "fp32"
    xla: bool = False
    config_file: Optional[Path] = None  # --config FILE (see dltool.cli.config_file)
    fixed: dict[str, Any] = field(default_factory=dict)  # its fields that no option sets, for launch()

    def check_out(self) -> None:
        """Refuse an --out that cannot become a run folder (before TensorFlow and before any folder is made)."""
        from dltool.report.export import check_out

        check_out(self.out, self.no_save)

    def settings(self, *names: str) -> dict[str, Any]:
        """The named shared settings as config keywords (``precision`` as its plain name)."""
        return {n: getattr(self, n) for n in names}


def _config_option(command: str) -> Any:
    """--config FILE for a training command: eager, so the file's values are the options' defaults (click's
    default_map) before any other option is read; the command line still wins."""

    def load(ctx: typer.Context, value: Optional[Path]) -> Optional[Path]:
        if value is not None and not ctx.resilient_parsing:  # not while completing
            from dltool.cli import config_file

            config_file.install(ctx, command, value)
        return value

    return Annotated[Optional[Path], typer.Option(
        "--config", callback=load, is_eager=True, metavar="FILE", show_default=False,
        help="Take the options from a file: a run folder or its results.json (the run's config), or a JSON or TOML "
        "file of the same keys. Options on the command line win; a new run folder is written (see also: dltool runs "
        "rerun).")]


# name → (annotation, default); the order is the order in --help, after the command's own options
_SHARED: dict[str, tuple[Any, Any]] = {
    "data_dir": (DataDir, None),
    "precision": (PrecisionOpt, Precision.fp32),
    "xla": (Xla, False),
    "quick": (Quick, False),
    "seed": (Seed, 0),
    "out": (OutDir, None),
    "no_save": (NoSave, False),
    "json_": (Json, False),
    "csv_": (Csv, False),
    "markdown": (Markdown, False),
}
_ALWAYS = ("seed", "out", "no_save", "json_", "csv_", "markdown")


def shared(*names: str, exclude: tuple[str, ...] = (), check_out: bool = True,
           **overrides: tuple[Any, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the shared options ``names`` (of data_dir, precision, xla, quick) besides --seed, --out,
    --no-save, --json, --csv and --markdown (less ``exclude``); ``overrides`` replace an option's
    ``(annotation, default)``. The command takes them as the keyword ``run: RunOptions``.

    The command's own options arrive as ``None`` when the user did not give them (their defaults in ``--help``
    are the config's, shown there only): a config tells "not given" from "given the default value", so a
    preset never overrides what was typed and no command compares values with default literals.

    With ``check_out`` (the default) ``--out`` is checked before the command's body runs. A training command
    (one that :data:`dltool.cli.config_file.COMMANDS` maps) also gets ``--config FILE``: the file's values are
    the options' defaults, so they arrive as if typed; its fields that no option sets arrive as ``run.fixed``.
    """
    unknown = [n for n in (*names, *exclude, *overrides) if n not in _SHARED]
    if unknown:
        raise ValueError(f"not a shared option: {unknown}")
    chosen = [n for n in _SHARED if (n in names or n in _ALWAYS or n in overrides) and n not in exclude]

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        from dltool.cli import config_file

        hints = typing.get_type_hints(func, include_extras=True)
        own = [p.replace(annotation=hints.get(p.name, p.annotation))
               for p in inspect.signature(func).parameters.values() if p.name != "run"]
        trainer = config_file.command_of(func)  # a training command: --config FILE first among the shared
        shared_here = {n: overrides.get(n, _SHARED[n]) for n in chosen}
        if trainer:
            shared_here = {"config_file": (_config_option(trainer), None), **shared_here}
        added = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
                 for n, (annotation, default) in shared_here.items()]

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            from dltool.report import output

            given = {n: kwargs.pop(n) for n in shared_here}
            ctx = click.globals.get_current_context(silent=True)
            fixed = {}
            if ctx is not None:  # not given on the command line: None, so the config's default (or preset) applies
                default = click.core.ParameterSource.DEFAULT
                kwargs = {k: None if ctx.get_parameter_source(k) is default else v for k, v in kwargs.items()}
                typed = click.core.ParameterSource.COMMANDLINE
                fixed = config_file.fixed_fields(ctx, lambda p: ctx.get_parameter_source(p) is typed)
            if given.get("config_file") is not None and kwargs.get("resume") is not None:
                from dltool.errors import UsageError

                raise UsageError("--config and --resume cannot be combined: a resumed run keeps its stored settings",
                                 "leave out --config to resume, or --resume to start a new run from the file")
            fmt = output.choose_format(given.pop("json_", False), given.pop("csv_", False),
                                       given.pop("markdown", False))
            if given.get("precision") is not None:
                given["precision"] = getattr(given["precision"], "value", given["precision"])
            opts = RunOptions(fmt=fmt, fixed=fixed, **given)
            if check_out:
                opts.check_out()  # before TensorFlow and before any folder is made
            return func(**kwargs, run=opts)

        params = [*own, *added]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # typer must read the signature above, not the body's
        return command

    return wrap
