"""Small formatters the views share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dltool.report.tables import Column, TableSpec


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _shape(shape) -> str:
    return "×".join(str(v) for v in shape) if shape is not None else "—"


def _sig(value: Any, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}g}"
