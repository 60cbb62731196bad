"""The allowed values of the name options (--preset, --dataset, --loss, --init, --mode, --strategy, --split), for
``--help`` and shell completion.

Each list is read from the module that defines it (``"module:NAME"``), the first time it is needed: the command's
``--help``, the completion generator, a <Tab>. ``dltool --help`` therefore loads no experiment module (numpy), and
none of these modules imports TensorFlow. A value given on the command line is passed on as typed: the experiment's
config checks it as before (names are case-insensitive there, ``fashion-mnist`` = ``fashion_mnist``) and refuses
an unknown one with its own one-line message and exit 2, before TensorFlow is imported.
"""

from __future__ import annotations

import importlib
from typing import Any, Sequence

from dltool.cli._click import click

# Allowed values that their config checks inline (``if self.init not in ("tutorial", "keras")``) rather than in a
# named constant; tests/cli/test_choices.py holds each equal to what its config accepts.
CNN_INITS = ("tutorial", "keras")
CUTOUT_SPLITS = ("train", "test")

_METAVAR_LINE = 16  # a long list wraps at "|" in --help so the descriptions keep their width at 80 columns
_METAVAR_NAME = 20  # a value longer than this would not fit the type column: the metavar is <name>


class Names(click.types.ParamType):
    """A string option with a known list of values: ``Names("dltool.experiments.scale:MODES")`` (a sequence, or a
    dict whose keys are the names) or ``Names(("train", "test"))``."""

    name = "name"

    def __init__(self, source: str | Sequence[str]):
        self._source = source
        self._choices: tuple[str, ...] | None = None if isinstance(source, str) else tuple(source)

    @property
    def choices(self) -> tuple[str, ...]:
        if self._choices is None:
            module, _, attribute = str(self._source).partition(":")
            self._choices = tuple(str(name) for name in getattr(importlib.import_module(module), attribute))
        return self._choices

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        if any(len(name) > _METAVAR_NAME for name in self.choices):
            return "<name>"  # a value too long for the type column: the option's help lists the values
        lines, line = [], "<"
        for i, name in enumerate(self.choices):
            piece = name + ("|" if i < len(self.choices) - 1 else ">")
            if len(line) + len(piece) > _METAVAR_LINE and line not in ("", "<"):
                lines.append(line)
                line = ""
            line += piece
        return "\n".join([*lines, line])

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        return value  # checked by the experiment's config, with its message

    def shell_complete(self, ctx: Any, param: Any, incomplete: str) -> list:
        item = importlib.import_module(f"{click.__name__}.shell_completion").CompletionItem
        return [item(name) for name in self.choices if name.startswith(incomplete.lower())]

    def __repr__(self) -> str:
        return f"Names({self._source!r})"


FIT_LINE_PRESET = Names("dltool.experiments.fit_line:PRESET_NAMES")
SOFTMAX_PRESET = Names("dltool.experiments.mnist.softmax:PRESET_NAMES")
SOFTMAX_LOSS = Names("dltool.experiments.mnist.softmax:LOSSES")
SOFTMAX_INIT = Names("dltool.experiments.mnist.softmax:INITS")
CNN_PRESET = Names("dltool.experiments.mnist.cnn:PRESETS")
CNN_INIT = Names(CNN_INITS)
MNIST_DATASET = Names("dltool.experiments.mnist.common:DATASETS")
SCALE_STRATEGY = Names("dltool.experiments.scale:STRATEGIES")
SCALE_MODE = Names("dltool.experiments.scale:MODES")
SCALE_DATASET = Names("dltool.experiments.scale:DATASETS")
CUTOUT_SPLIT = Names(CUTOUT_SPLITS)
INCEPTION_PRESET = Names("dltool.archcalc.inception:INCEPTION_PRESETS")
CNN_SCHEDULE = Names("dltool.experiments.mnist.cnn:SCHEDULES")
CUTOUT_LR_SCHEDULE = Names("dltool.experiments.cutout:LR_SCHEDULES")
CROSS_DEVICE_OPS = Names("dltool.engine.devices:CROSS_DEVICE_OPS")
COMMUNICATION = Names("dltool.engine.devices:COMMUNICATIONS")
OPTIMIZER_DEFAULTS = Names("dltool.engine.optimizers:DEFAULTS")
