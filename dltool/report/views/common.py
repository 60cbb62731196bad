"""Small formatters the views share."""

from __future__ import annotations

from typing import Any

from dltool.report.tables import Column


def shape_text(shape) -> str:
    return "×".join(str(v) for v in shape) if shape is not None else "—"


def sig(value: Any, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def span(values, fmt: str) -> str:
    """"low–high" of ``values`` as ``fmt`` writes them; one value when both print alike (not "11.24%–11.24%")."""
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low}–{high}"


# MFU: one column and one note for every training table (the numbers come from engine/loop.py's FitResult)
MFU_COLUMN = Column("mfu", "MFU", ".1%", secondary=True)  # left out first on a narrow terminal


def mfu_note(peak_flops: float | None = None, precision: str | None = None) -> str:
    peak = f" ({peak_flops / 1e9:,.0f} GFLOP/s at {precision})" if peak_flops and precision else ""
    return ("MFU: model FLOPs per second (3 × forward FLOPs per example, forward = 2 × MACs counted per layer) ÷ "
            f"this machine's measured matmul peak{peak}, over the timed steps.")
