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
    secondary: bool = False  # may be left out on a terminal too narrow for the table (a note says so)


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


def to_rich(spec: TableSpec, width: int | None = None):
    """A rich table that never cuts a value short: no cell is squeezed below its longest word (a number is one
    word), headers wrap at their spaces, and a word wider than its column folds onto the next line instead of
    ending in "…".

    ``width`` is the terminal's: a table too wide for it takes a compact layout (no outer border, two spaces
    between columns), then leaves out its ``secondary`` columns from the right (a note names them), then folds a
    header's longest word in two, and if it is still too wide it overflows the terminal (printed with
    ``crop=False``) rather than cut a number."""
    from rich import box
    from rich.table import Table

    rows = text_rows(spec)
    columns = list(range(len(spec.columns)))
    data = [max((_longest_word(row[i]) for row in rows), default=1) for i in columns]
    words = [_longest_word(c.header) for c in spec.columns]
    need = [max(data[i], words[i]) for i in columns]
    compact, dropped = False, []
    if width is not None and _width(need, columns, compact) > width:
        compact = True
        for i in reversed(range(len(spec.columns))):
            if _width(need, columns, compact) <= width:
                break
            if spec.columns[i].secondary:
                columns.remove(i)
                dropped.append(" ".join(spec.columns[i].header.split()))
        if _width(need, columns, compact) > width:  # a header's longest word folds once, in two halves; values never
            need = [max(data[i], -(-words[i] // 2)) for i in range(len(spec.columns))]
    notes = list(spec.notes)
    if dropped:
        notes.append(f"Left out at {width} columns: {', '.join(reversed(dropped))} (a wider terminal shows them; "
                     "so do --markdown, --csv and --json).")
    table = Table(title=spec.title, title_justify="left", caption="\n".join(notes) or None,
                  caption_justify="left", header_style="bold",
                  **(dict(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True) if compact
                     else {}))
    fixed = _fixed_widths(spec, rows, need, columns, compact, width)
    for i in columns:
        column = spec.columns[i]
        table.add_column(column.header, justify=column.justify, min_width=need[i],  # type: ignore[arg-type]
                         width=fixed.get(i), overflow="fold")
    if width is not None and _width(need, columns, compact) > width:
        table.width = _width(need, columns, compact)  # overflow: wider than the terminal, nothing cut
    for row in rows:
        table.add_row(*(row[i] for i in columns))
    return table


def _fixed_widths(spec: TableSpec, rows: list[list[str]], need: list[int], columns: list[int], compact: bool,
                  width: int | None) -> dict[int, int]:
    """Column widths for a table that does not fit on one line per cell: rich would squeeze some columns, then
    widen them back to their minimum and overflow. Each column gets its ``need``; the width left over first goes
    to headers whose longest word had to fold (fewest missing characters first), then to the columns closest to
    fitting their longest line."""
    from rich.cells import cell_len

    def line_width(text: str) -> int:
        return max((cell_len(line) for line in text.splitlines()), default=1)

    natural = {i: max([line_width(spec.columns[i].header), *(line_width(row[i]) for row in rows)]) for i in columns}
    if width is None or _width([natural.get(i, 0) for i in range(len(need))], columns, compact) <= width:
        return {}
    fixed = {i: need[i] for i in columns}
    spare = max(0, width - _width(need, columns, compact))
    whole = {i: max(need[i], _longest_word(spec.columns[i].header)) for i in columns}  # no header word folded
    for target in (whole, natural):  # first unfold the headers that need least, then unwrap the cells
        for i in sorted(columns, key=lambda i: target[i] - fixed[i]):
            extra = min(spare, max(0, target[i] - fixed[i]))
            fixed[i] += extra
            spare -= extra
    return fixed


def _longest_word(text: str) -> int:
    """The widest piece of ``text`` that must stay on one line: a word, or a number with its short unit or mark
    ("15.47 G", "42.1 %", "553.43 MB", "+0 ✓")."""
    import re

    from rich.cells import cell_len

    return max((cell_len(word) for word in re.findall(r"\S+(?: [A-Za-zµ%‰✓✗]{1,2}(?=\s|$))?", text)), default=1)


def _width(need: Sequence[int], columns: Sequence[int], compact: bool) -> int:
    """Width of a table whose columns ``columns`` are ``need`` wide: the default box has a border and one space
    of padding on each side of every cell; the compact one two characters between cells and no outer edge."""
    content = sum(need[i] for i in columns)
    return content + (2 * (len(columns) - 1) if compact else 3 * len(columns) + 1)


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
