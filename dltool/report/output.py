"""Where results go: stdout carries the result (rich table, or only JSON / CSV / Markdown), stderr the rest.

When stdout is not a terminal rich prints no colour codes; ``NO_COLOR`` is honoured too.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import sys
from pathlib import Path
from typing import Any, Iterable

from dltool.errors import UsageError
from dltool.report.tables import TableSpec, to_csv, to_markdown, to_rich


class Format(str, enum.Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


def choose_format(json_: bool = False, csv_: bool = False, markdown: bool = False) -> Format:
    chosen = [name for name, on in (("--json", json_), ("--csv", csv_), ("--markdown", markdown)) if on]
    if len(chosen) > 1:
        raise UsageError(f"You can only use one of {', '.join(chosen)}", "pick one output format")
    return {"--json": Format.JSON, "--csv": Format.CSV, "--markdown": Format.MARKDOWN}.get(
        chosen[0] if chosen else "", Format.TABLE)


def stdout_console():
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1; a reader that left (`| head`) is not a failure
            raise BrokenPipeError(32, "stdout was closed by its reader")

    console = _Console(file=sys.stdout, highlight=False, soft_wrap=False)
    if not console.is_terminal:  # a file or a pipe: don't squeeze tables into 80 columns
        console = _Console(file=sys.stdout, highlight=False, soft_wrap=False, width=200)
    return console


def stderr_console():
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False)


def info(message: str) -> None:
    """A diagnostic line on stderr (never on stdout, so --json stays clean)."""
    stderr_console().print(message)


def jsonable(value: Any) -> Any:
    """Plain JSON types: dataclasses and numpy values unpacked, NaN/inf → None (JSON has no NaN)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return jsonable(value.to_dict())
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "tolist"):  # numpy scalar or array
        return jsonable(value.tolist())
    if hasattr(value, "item"):
        return jsonable(value.item())
    return str(value)


def dumps(doc: Any) -> str:
    return json.dumps(jsonable(doc), indent=2, allow_nan=False)


def emit(tables: Iterable[TableSpec], doc: Any, fmt: Format, footer: Iterable[str] = ()) -> None:
    """Print a result: the tables (or ``doc`` as one JSON document) on stdout."""
    tables = list(tables)
    if fmt is Format.JSON:
        sys.stdout.write(dumps(doc) + "\n")
    elif fmt is Format.CSV:
        sys.stdout.write("\n".join(to_csv(t) for t in tables if t.primary))
    elif fmt is Format.MARKDOWN:
        sys.stdout.write("\n".join(to_markdown(t) for t in tables) + "".join(f"\n{line}\n" for line in footer))
    else:
        console = stdout_console()
        for table in tables:  # fitted to the terminal; a table wider than it overflows instead of being cut
            console.print(to_rich(table, width=console.width), crop=False)
        for line in footer:
            console.print(line)
    sys.stdout.flush()
