"""Parsing the comma-separated lists that commands take ("0.1,0.01", "1,2,4", "adam,gd"): each typo (not a
number, out of range, an empty item, an empty list) is one UsageError (exit 2) with an example of the right form."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

from dltool.errors import UsageError


def parse_floats(text: str | Iterable[float] | None, option: str, positive: bool = True) -> list[float] | None:
    """"0.1,0.01" → [0.1, 0.01]; a clear one-line error for anything else."""
    def bad(value: float, part: str) -> str | None:
        if not math.isfinite(value) or (positive and value <= 0):
            return f"positive numbers, got {part}"
        return None

    return _parse(text, option, float, "a number", "numbers", "0.1,0.01", bad)


def parse_ints(text: str | Iterable[int] | None, option: str, minimum: int = 1) -> list[int] | None:
    """"1,2,4" → [1, 2, 4], each ≥ ``minimum``."""
    return _parse(text, option, int, "a whole number", "integers", "1,2,4",
                  lambda value, part: f"≥ {minimum}, got {value}" if value < minimum else None)


def _parse(text: str | Iterable[Any] | None, option: str, convert: Callable[[Any], Any], one: str, many: str,
           example: str, bad: Callable[[Any, str], str | None]) -> list | None:
    """None stays None (not given); a list from Python is converted as it is; a string is checked item by item."""
    if text is None:
        return None
    if not isinstance(text, str):
        return [convert(v) for v in text]
    _no_empty_item(text, option, example)
    values = []
    for part in (p.strip() for p in text.split(",")):
        try:
            value = convert(part)
        except ValueError:
            raise UsageError(f"{option} got {part!r}, which is not {one}",
                             f"give comma-separated {many}, e.g. {option} {example}") from None
        problem = bad(value, part)
        if problem:
            raise UsageError(f"{option} values must be {problem}", f"e.g. {option} {example}")
        values.append(value)
    return values


def _no_empty_item(text: str, option: str, example: str) -> None:
    """'0.1,,0.2' or '0.1,' is a typo, not a shorter list: say so instead of dropping the item."""
    if not text.strip():
        raise UsageError(f"{option} is empty", f"give comma-separated values, e.g. {option} {example}")
    if any(not part.strip() for part in text.split(",")):
        raise UsageError(f"{option} {text!r} has an empty item", f"remove the extra comma, e.g. {option} {example}")


def parse_names(text: str | Iterable[str] | None) -> list[str] | None:
    if text is None:
        return None
    if not isinstance(text, str):
        return list(text)
    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        raise UsageError("the list of names is empty", "give comma-separated names, e.g. adam,gd")
    return names
