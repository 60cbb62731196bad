"""What every experiment's config shares: its defaults are its fields, its ``--quick`` preset sits beside them,
it validates itself and names what of its result goes to the top of ``results.json``.

The CLI hands over what the user gave (``None`` = not given) and never repeats a default:
``Config.from_options(quick, **given)`` is the fields' defaults, overlaid by the preset (with ``--quick``),
overlaid by every value given. No TensorFlow here: all of it runs before TensorFlow is imported.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Mapping


class ExperimentConfig:
    """Mixin for the experiments' config dataclasses."""

    #: the ``--quick`` preset: field → value, overridden by any value the user gives
    QUICK: ClassVar[Mapping[str, Any]] = {}
    #: keys of the result copied to the top level of results.json (besides the runs, config and environment)
    SUMMARY: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def quick_preset(cls, quick: bool, given: Mapping[str, Any]) -> dict[str, Any]:
        """The preset under the given values; a config whose preset depends on what was given overrides it.
        (Not named ``preset``: softmax, cnn and fit-line have a field of that name, which would hide it.)"""
        return dict(cls.QUICK) if quick else {}

    @classmethod
    def from_options(cls, quick: bool = False, **given: Any):
        """Defaults ← preset ← given (``None`` = not given); the config is validated before it is returned."""
        given = {k: v for k, v in given.items() if v is not None}
        cfg = cls(**{**copy.deepcopy(cls.quick_preset(quick, given)), **given})  # a preset's lists: copies
        cfg.validate()
        return cfg

    def validate(self) -> Any:
        """Refuse bad values with a :class:`~dltool.errors.UsageError`, before TensorFlow starts."""

    def total_runs(self) -> int:
        """How many runs the progress bar counts."""
        return 1

    def prepare(self) -> Any:
        """Find (and, where cheap, load) the data before a run folder is made: missing data exits 3 with no
        folder left behind. Returns what the experiment's ``run`` takes as ``data=``, or None."""
        return None

    def summary(self, result: Any) -> dict[str, Any]:
        """The result's headline fields for results.json."""
        return {key: getattr(result, key) for key in self.SUMMARY}
