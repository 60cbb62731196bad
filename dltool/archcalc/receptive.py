"""Receptive fields: N stacked FxF stride-1 convolutions see N(F-1)+1 pixels; general layers by jump recursion.

Stride 1 everywhere: each layer widens the window by F-1, so after N layers r = 1 + N(F-1)
(three 5x5 -> 13, two 3x3 -> 5 = one 5x5, three 3x3 -> 7 = one 7x7: the VGG argument, Simonyan & Zisserman 2015
section 2.3). With strides, r_out = r_in + (k-1)*j_in and j_out = j_in*s (j: input pixels between neighbouring
units), starting at r = j = 1; ``core`` applies this to every row of a network, and ``receptive_field_steps``
lists it for one report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dltool.archcalc.core import NetworkReport, positive
from dltool.errors import UsageError


@dataclass(frozen=True)
class RFStep:
    layer: str  # "layer 1", or a row name
    rf: int | None  # None: the whole input
    jump: int | None
    formula: str

    def as_tuple(self) -> tuple[str, int | None, str]:
        return (self.layer, self.rf, self.formula)

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "receptive_field": self.rf, "jump": self.jump, "formula": self.formula}


@dataclass(frozen=True)
class StackedRF:
    n: int
    f: int
    rf: int
    formula: str  # "3*(5-1)+1 = 13"
    steps: list[RFStep]

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "f": self.f, "receptive_field": self.rf, "formula": self.formula,
                "steps": [s.to_dict() for s in self.steps]}


def stacked_receptive_field(n: int, f: int) -> StackedRF:
    """Receptive field of ``n`` stacked ``f``x``f`` convolutions with stride 1: N(F-1)+1, step by step."""
    try:
        positive(n, "number of layers", "receptive field")
        positive(f, "kernel size", "receptive field")
    except UsageError as err:
        err.hint = "Give N >= 1 layers and a kernel size F >= 1."
        raise
    steps = []
    rf = 1
    for i in range(1, n + 1):
        new = rf + (f - 1)
        steps.append(RFStep(f"layer {i}", new, 1, f"{rf} + ({f}-1) = {new}"))
        rf = new
    assert rf == n * (f - 1) + 1
    return StackedRF(n, f, rf, f"{n}*({f}-1)+1 = {rf}", steps)


def receptive_field_steps(report: NetworkReport) -> list[RFStep]:
    """Per row of a network: receptive field, jump and the recursion step that gave it."""
    return [RFStep(r.name, r.receptive_field, r.jump, r.rf_formula) for r in report.rows]
