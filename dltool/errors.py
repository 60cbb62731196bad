"""Exit codes and the one exception type that carries a user-facing message.

Every error a user can cause or fix is a :class:`DltoolError`: one line saying what is wrong (``message``)
and how to fix it (``hint``). The CLI entry point maps it to its exit code and prints it without a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    RUNTIME = 1  # a run failed (a worker died, TensorFlow raised)
    USAGE = 2  # bad option value or bad input file
    MISSING = 3  # missing data or devices
    INTERRUPTED = 130  # Ctrl-C; finished results are kept
    TERMINATED = 143  # SIGTERM (timeout, docker stop, Slurm); finished results are kept


class DltoolError(Exception):
    """An error with a one-line message, a hint on how to fix it, and an exit code."""

    code: ExitCode = ExitCode.RUNTIME

    def __init__(self, message: str, hint: str | None = None, code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def one_line(self) -> str:
        """``message`` and ``hint`` on one line, as the CLI prints it."""
        text = self.message.rstrip(".")
        return f"{text}. {self.hint}" if self.hint else f"{text}."


class UsageError(DltoolError):
    """Bad option value or bad input (exit 2)."""

    code = ExitCode.USAGE


class MissingError(DltoolError):
    """Missing data or devices (exit 3)."""

    code = ExitCode.MISSING


class RunError(DltoolError):
    """A run failed at run time (exit 1)."""

    code = ExitCode.RUNTIME


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds like Ctrl-C (exit 143 instead of 130)."""
