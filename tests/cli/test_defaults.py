"""One source of truth for defaults: every option's default shown in --help is the config's.

The commands pass ``None`` for options not given, so the config's field defaults apply; the literal in a command's
signature is only what --help shows. Typing every option at its shown default must build the same config as typing
nothing — otherwise --help and the run disagree.
"""

from __future__ import annotations

import dataclasses

import pytest

from dltool.cli import options as opt

SHARED = set(opt._SHARED) | {"help", "ctx"}
COMMANDS = [("fit-line",), ("mnist", "softmax"), ("mnist", "cnn"), ("mnist", "filters"), ("mnist", "mlp"),
            ("mnist", "devices"), ("mnist", "workers"), ("cifar-adaptive",), ("scale",), ("allreduce",),
            ("cutout", "train"), ("eggholder",)]


class Built(Exception):
    def __init__(self, cfg):
        self.cfg = cfg


def _click_command(path):
    import typer

    from dltool.cli.app import app

    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


def _typed_defaults(command) -> list[str]:
    """Every own option of the command typed at the default --help shows."""
    args: list[str] = []
    for param in command.params:
        if param.name in SHARED or param.default is None or not param.opts:
            continue
        if param.is_flag:
            names = param.opts if param.default else param.secondary_opts
            args += names[:1]
        else:
            args += [param.opts[0], str(param.default)]
    return args


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_defaults_shown_in_help_are_the_configs(path, cli, monkeypatch):
    import dltool.cli.sweep as sweep

    def capture(command, cfg, *args, **kwargs):
        raise Built(cfg)

    monkeypatch.setattr(sweep, "launch", capture)
    typed = _typed_defaults(_click_command(path))
    assert typed, "the command shows no defaults"
    configs = []
    for args in ([], typed):
        result = cli(*path, *args)
        assert isinstance(result.exception, Built), (args, result.output, result.exception)
        configs.append(dataclasses.asdict(result.exception.cfg))
    assert configs[0] == configs[1], {k: (configs[0][k], configs[1][k]) for k in configs[0]
                                      if configs[0][k] != configs[1][k]}
