"""One thin module per subcommand. Each exposes ``register(app)``, called in the order of ``COMMANDS``.

``dltool --help`` lists the plain commands in that order, then the command groups (mnist, cutout, runs) in that
order: Typer builds the root group from its registered commands first and its added sub-apps after them.
"""

from __future__ import annotations

from typing import Callable

from typer.core import TyperCommand

from dltool.cli.commands import (
    allreduce,
    archcalc,
    cifar_adaptive,
    cutout,
    eggholder,
    env,
    fit_line,
    mnist,
    reproduce,
    runs,
    scale,
)

COMMANDS = [fit_line.register, mnist.register, cifar_adaptive.register, scale.register, allreduce.register,
            archcalc.register, cutout.register, eggholder.register,
            reproduce.register, runs.register, env.register]


def help_when_shown(build: Callable[[], str]) -> type[TyperCommand]:
    """A command class whose help text is ``build()``, called the first time the text is read (``--help`` of
    that command), not when the app starts: a help built from an experiment module (numpy) would otherwise load
    it for every ``dltool`` call."""

    class HelpWhenShown(TyperCommand):
        _help: str | None = None

        @property
        def help(self) -> str | None:  # type: ignore[override]
            if self._help is None:
                import inspect

                self._help = inspect.cleandoc(build())  # as Typer treats a given help=
            return self._help

        @help.setter
        def help(self, value: str | None) -> None:
            self._help = value

    return HelpWhenShown
