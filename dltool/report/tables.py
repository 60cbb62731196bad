"""One place that formats: a :class:`TableSpec` (plain rows of numbers) becomes a rich table, Markdown or CSV.

Experiments return numbers; commands describe which columns to show with :class:`Column`; everything that
turns a number into text lives here, so ``--json``, ``--csv``, ``--markdown`` and the terminal agree.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


@dataclass
class Column:
    key: str
    header: str
    fmt: str | Callable[[Any], str] = ""  # a format spec ("," or ".4f") or a function
    justify: str = "right"


@dataclass
class TableSpec:
    title: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]
    notes: list[str] = field(default_factory=list)  # lines shown under the table (units, sources, "virtual")
    primary: bool = True  # CSV output carries only primary tables
    csv_columns: Sequence[Column] | None = None  # raw-number columns for CSV, when they differ from the view


def cell(value: Any, fmt: str | Callable[[Any], str] = "") -> str:
    """Text of one value: ``None`` → "—", NaN/inf spelled out, numbers by ``fmt``."""
    if value is None:
        return "—"
    if callable(fmt):
        return fmt(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (list, tuple)):
        return "×".join(cell(v, fmt) for v in value)
    if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, fmt)
    return str(value)


def text_rows(spec: TableSpec) -> list[list[str]]:
    return [[cell(row.get(c.key), c.fmt) for c in spec.columns] for row in spec.rows]


def to_rich(spec: TableSpec):
    from rich.table import Table

    table = Table(title=spec.title, title_justify="left", caption="\n".join(spec.notes) or None,
                  caption_justify="left", header_style="bold")
    for column in spec.columns:
        table.add_column(column.header, justify=column.justify)  # type: ignore[arg-type]
    for row in text_rows(spec):
        table.add_row(*row)
    return table


def to_markdown(spec: TableSpec) -> str:
    from tabulate import tabulate

    colalign = [c.justify if c.justify in ("left", "right", "center") else "right" for c in spec.columns]
    rows = [[_md_escape(text) for text in row] for row in text_rows(spec)]
    body = tabulate(rows, headers=[_md_escape(c.header) for c in spec.columns], tablefmt="github",
                    colalign=colalign, disable_numparse=True)
    notes = "".join(f"\n\n{note}" for note in spec.notes)
    return f"### {spec.title}\n\n{body}{notes}\n"


def _md_escape(text: str) -> str:
    """A ``|`` inside a cell (fit-line's ``|w − w*|``) would split it: GitHub Markdown reads ``\\|`` as the
    character."""
    return text.replace("|", "\\|")


def to_csv(spec: TableSpec) -> str:
    """CSV keeps raw numbers (no thousands separators), headers are the column keys."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = spec.csv_columns or spec.columns
    writer.writerow([c.key for c in columns])
    for row in spec.rows:
        writer.writerow(["" if row.get(c.key) is None else _csv_value(row.get(c.key)) for c in columns])
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return value
