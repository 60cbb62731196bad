"""Parsing the comma-separated lists that commands take ("0.1,0.01", "1,2,4", "adam,gd"): each typo (not a
number, out of range, an empty item, an empty list) is one UsageError (exit 2) with an example of the right form."""

from __future__ import annotations

import math
from typing import Iterable

from dltool.errors import UsageError


def parse_floats(text: str | Iterable[float] | None, option: str, positive: bool = True) -> list[float] | None:
    """"0.1,0.01" → [0.1, 0.01]; a clear one-line error for anything else."""
    if text is None:
        return None
    if not isinstance(text, str):
        return [float(v) for v in text]
    values = []
    _no_empty_item(text, option, "0.1,0.01")
    for part in text.split(","):
        part = part.strip()
        try:
            value = float(part)
        except ValueError:
            raise UsageError(f"{option} got {part!r}, which is not a number",
                             f"give comma-separated numbers, e.g. {option} 0.1,0.01") from None
        if not math.isfinite(value) or (positive and value <= 0):
            raise UsageError(f"{option} values must be positive numbers, got {part}", f"e.g. {option} 0.1,0.01")
        values.append(value)
    if not values:
        raise UsageError(f"{option} is empty", f"give comma-separated numbers, e.g. {option} 0.1,0.01")
    return values


def _no_empty_item(text: str, option: str, example: str) -> None:
    """'0.1,,0.2' or '0.1,' is a typo, not a shorter list: say so instead of dropping the item."""
    if not text.strip():
        raise UsageError(f"{option} is empty", f"give comma-separated values, e.g. {option} {example}")
    if any(not part.strip() for part in text.split(",")):
        raise UsageError(f"{option} {text!r} has an empty item", f"remove the extra comma, e.g. {option} {example}")


def parse_ints(text: str | Iterable[int] | None, option: str, minimum: int = 1) -> list[int] | None:
    if text is None:
        return None
    if not isinstance(text, str):
        return [int(v) for v in text]
    values = []
    _no_empty_item(text, option, "1,2,4")
    for part in (p.strip() for p in text.split(",")):
        try:
            value = int(part)
        except ValueError:
            raise UsageError(f"{option} got {part!r}, which is not a whole number",
                             f"give comma-separated integers, e.g. {option} 1,2,4") from None
        if value < minimum:
            raise UsageError(f"{option} values must be ≥ {minimum}, got {value}", f"e.g. {option} 1,2,4")
        values.append(value)
    if not values:
        raise UsageError(f"{option} is empty", f"give comma-separated integers, e.g. {option} 1,2,4")
    return values


def parse_names(text: str | Iterable[str] | None) -> list[str] | None:
    if text is None:
        return None
    if not isinstance(text, str):
        return list(text)
    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        raise UsageError("the list of names is empty", "give comma-separated names, e.g. adam,gd")
    return names
