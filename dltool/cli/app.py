"""The root ``dltool`` app: one command per experiment, global options, and the map from errors to exit codes.

Nothing here imports TensorFlow: ``dltool --help``, shell completion and ``archcalc`` stay fast. Each command
imports what it needs inside its body.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from dltool import __version__, quiet_tf
from dltool.cli._click import click

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is not for our users; before any TF import.
quiet_tf.install()
from dltool.errors import DltoolError, ExitCode, Terminated  # noqa: E402


class _DltoolGroup(TyperGroup):
    """Maps a :class:`DltoolError` to its exit code and one line on stderr, Ctrl-C to 130, SIGTERM to 143.

    This lives in the click group (not only in :func:`main`) so that ``CliRunner`` tests see the same codes.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        """Run the app; a click usage error becomes one line on stderr and exit 2 (no usage box)."""
        previous = _catch_sigterm()
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except click.exceptions.NoArgsIsHelpError as err:
            err.show()
            code = 0
        except click.ClickException as err:
            where = err.ctx.command_path if getattr(err, "ctx", None) else "dltool"
            message = err.format_message().rstrip(".")
            end = "" if message.endswith(("?", "!")) else "."  # "Did you mean 'fit-line'?" ends its sentence
            click.echo(f"dltool: error: {message}{end} See '{where} --help'.", err=True)
            code = err.exit_code
        except DltoolError as err:  # only with --traceback: the traceback, then the same line and exit code
            import traceback

            traceback.print_exc()
            click.echo(f"dltool: error: {err.one_line()}", err=True)
            code = int(err.code)
        except KeyboardInterrupt as err:  # Ctrl-C or SIGTERM while click parses
            code = _interrupted(err)
        except typer.Abort:
            click.echo("dltool: interrupted; finished results were kept.", err=True)
            code = int(ExitCode.INTERRUPTED)
        except BrokenPipeError:  # `dltool … | head`: the reader left; not an error of ours
            _silence_stdout()
            code = 0
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if standalone_mode:
            sys.exit(code)
        return code

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[override]
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            _finite_floats(command)
            _plain_metavars(command)
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DltoolError as err:
            if _traceback_wanted(ctx):
                raise
            click.echo(f"dltool: error: {err.one_line()}", err=True)
            ctx.exit(int(err.code))
        except KeyboardInterrupt as err:
            if _traceback_wanted(ctx):
                import traceback

                traceback.print_exc()
            ctx.exit(_interrupted(err))
        except BrokenPipeError:  # before click turns it into exit 1: `dltool archcalc vgg19 | head -3` is fine
            _silence_stdout()
            ctx.exit(0)


def _finite_floats(command: click.Command) -> None:
    """Every float option of ``command`` and its subcommands takes finite numbers only, checked as click parses
    (before any TensorFlow import): ``--lr nan`` would train nothing, ``--noise inf`` make all-NaN data."""
    import math
    import typing

    def takes_float(param: Any) -> bool:
        descriptor = getattr(param, "type_descriptor", None)  # typer ≥ 0.29 converts with pydantic
        if descriptor is not None:
            args = typing.get_args(descriptor.annotation)
            return descriptor.annotation is float or (float in args and all(a in (float, type(None)) for a in args))
        return isinstance(getattr(param, "type", None), click.types.FloatParamType)  # click's own types

    for param in command.params:
        if getattr(param, "_finite_only", False) or not takes_float(param):
            continue

        def check(ctx, p, value, _previous=param.callback):
            if isinstance(value, float) and not math.isfinite(value):
                raise click.exceptions.BadParameter(f"{value} is not a finite number; give a number such as 0.01",
                                                    ctx=ctx, param=p)
            return _previous(ctx, p, value) if _previous is not None else value

        param.callback = check
        param._finite_only = True  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        _finite_floats(sub)


def _plain_metavars(command: click.Command) -> None:
    """Help in click's plain words: usage lines name arguments ``NETWORK...`` and ``RUN`` (Typer writes
    ``{network}``), and a number option with bounds shows ``<int> [x>=1]`` like the others (Typer's
    ``<int range> [x>=1]`` widened the type column and squeezed every description at 80 columns)."""
    for param in command.params:
        if getattr(param, "_plain_metavar", False):
            continue
        if getattr(param, "param_type_name", "") == "argument":
            def usage_metavar(ctx, *, usage=False, _make=param.make_metavar):
                text = _make(ctx, usage=usage)
                if usage and text.startswith("{") and "}" in text:
                    text = text[1:].replace("}", "", 1).upper()
                return text

            param.make_metavar = usage_metavar  # type: ignore[method-assign]
        elif param.metavar is None and isinstance(param.type, click.types._NumberRangeBase):
            param.metavar = "<int>" if isinstance(param.type, click.types.IntRange) else "<float>"
        param._plain_metavar = True  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


def _interrupted(err: BaseException) -> int:
    """One line on stderr for Ctrl-C (130) or SIGTERM (143); finished results were already written."""
    if isinstance(err, Terminated):
        click.echo("dltool: terminated (SIGTERM); finished results were kept.", err=True)
        return int(ExitCode.TERMINATED)
    click.echo("dltool: interrupted; finished results were kept.", err=True)
    return int(ExitCode.INTERRUPTED)


def _catch_sigterm():
    """SIGTERM (timeout, docker stop, Slurm) unwinds like Ctrl-C: run folders are finished, workers reaped.

    Returns the previous handler, or None when signals cannot be set here (not the main thread)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def on_sigterm(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not break the clean-up
        raise Terminated()

    return signal.signal(signal.SIGTERM, on_sigterm)


def _silence_stdout() -> None:
    """The Python docs' recipe for a closed pipe: point stdout at devnull so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer)
        pass


def _traceback_wanted(ctx: click.Context) -> bool:
    return bool(ctx.obj and ctx.obj.get("traceback"))


app = typer.Typer(
    cls=_DltoolGroup,
    name="dltool",
    help="The classic experiments of deep-learning-systems courses, one command each, measured for real.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dltool {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the full Python traceback of an error instead of one line.")
    ] = False,
) -> None:
    """Deep-learning-systems experiments on TensorFlow: tables on a terminal, --json for pipelines, plots on disk.

    Exit codes: 0 ok, 1 run failed, 2 bad usage or input, 3 missing data or devices, 130 interrupted,
    143 terminated (SIGTERM).
    """
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback


def reflow(doc: str | None) -> str | None:
    """Docstring → help text: paragraphs joined into one line each (the terminal wraps them), while list
    items, indented lines (equations, examples) and short label lines keep their own lines."""
    if not doc:
        return doc
    import inspect

    paragraphs, current = [], []
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        if not stripped:
            if current:
                paragraphs.append(current)
                current = []
            continue
        keep = line.startswith(("    ", "\t")) or stripped.startswith(("-", "•", "*", "|", ">"))
        if current and not keep and not current[-1][1]:
            current[-1] = (current[-1][0] + " " + stripped, False)
        else:
            current.append((line.rstrip() if keep else stripped, keep))
    if current:
        paragraphs.append(current)
    return "\n\n".join("\n".join(text for text, _ in para) for para in paragraphs)


def _reflow_help(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None:
            info.help = reflow(info.callback.__doc__)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)
            instance_info = group.typer_instance.info
            callback = instance_info.callback
            if group.help is None and instance_info.help is None and callback is not None:
                group.help = reflow(callback.__doc__)


def _resolve_annotations(typer_app: typer.Typer) -> None:
    """Evaluate each command's string annotations (``from __future__ import annotations``) once, here.

    Typer reads a command's annotations four times (``inspect.signature(eval_str=True)`` and ``get_type_hints``,
    for the parameters and again for the callback), and with strings each read compiles and evaluates every
    ``Annotated[…, typer.Option(…)]``. Resolving them once here takes importing the app and building its click
    commands from 98 to 77 ms (best of 5, 2-core CPU), ``--help`` included. Typer gets the same types either way."""
    import typing

    infos = [*typer_app.registered_commands, typer_app.registered_callback, typer_app.info]
    for info in infos:
        func = getattr(info, "callback", None)
        if func is not None and any(isinstance(a, str) for a in getattr(func, "__annotations__", {}).values()):
            func.__annotations__ = typing.get_type_hints(func, include_extras=True)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _resolve_annotations(group.typer_instance)


def _register() -> None:
    from dltool.cli.commands import COMMANDS

    for register in COMMANDS:
        register(app)
    _reflow_help(app)
    _resolve_annotations(app)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="dltool", standalone_mode=True)
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
