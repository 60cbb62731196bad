"""report/output.py: one output format per run, JSON that is plain and strict, and stdout that carries only
the result in the machine formats."""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from dltool.errors import ExitCode, UsageError
from dltool.report.output import Format, choose_format, dumps, emit, jsonable
from dltool.report.tables import Column, TableSpec


@pytest.mark.parametrize("flags, fmt", [
    ((False, False, False), Format.TABLE),
    ((True, False, False), Format.JSON),
    ((False, True, False), Format.CSV),
    ((False, False, True), Format.MARKDOWN),
])
def test_choose_format(flags, fmt):
    assert choose_format(*flags) is fmt


@pytest.mark.parametrize("flags, named", [
    ((True, True, False), "--json, --csv"),
    ((False, True, True), "--csv, --markdown"),
    ((True, True, True), "--json, --csv, --markdown"),
])
def test_two_formats_are_a_usage_error_naming_them(flags, named):
    with pytest.raises(UsageError) as info:
        choose_format(*flags)
    assert info.value.code == ExitCode.USAGE
    assert f"You can only use one of {named}" in info.value.one_line()


class Colour(enum.Enum):
    RED = "red"


@dataclass
class Run:
    name: str
    loss: float
    shape: tuple = (2, 3)
    extra: dict = field(default_factory=dict)


@dataclass
class WithToDict:
    hidden: int = 1

    def to_dict(self):
        return {"shown": self.hidden + 1}


def test_jsonable_unpacks_dataclasses_numpy_and_non_finite():
    doc = jsonable({
        "run": Run("a", float("nan"), extra={1: np.float32(0.5), "inf": float("inf")}),
        "custom": WithToDict(),
        "array": np.arange(3, dtype=np.int64),
        "scalar": np.int64(7),
        "colour": Colour.RED,
        "path": Path("runs") / "x",
        "set": {4},
        "flag": True,
    })
    assert doc == {
        "run": {"name": "a", "loss": None, "shape": [2, 3], "extra": {"1": 0.5, "inf": None}},
        "custom": {"shown": 2},
        "array": [0, 1, 2],
        "scalar": 7,
        "colour": "red",
        "path": str(Path("runs") / "x"),
        "set": [4],
        "flag": True,
    }
    assert type(doc["scalar"]) is int and type(doc["run"]["extra"]["1"]) is float


def test_dumps_is_strict_json():
    text = dumps({"nan": math.nan, "neg_inf": -math.inf, "x": np.float64(1.5)})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"nan": None, "neg_inf": None, "x": 1.5}


def _tables():
    rows = [{"k": "a", "v": 1234}]
    return [TableSpec("Main", [Column("k", "key"), Column("v", "value", ",")], rows),
            TableSpec("Extra", [Column("k", "key")], rows, primary=False)]


def test_emit_json_writes_only_one_document(capsys):
    emit(_tables(), {"rows": [{"v": 1234, "loss": math.nan}]}, Format.JSON, footer=["not in JSON"])
    out, err = capsys.readouterr()
    assert json.loads(out) == {"rows": [{"v": 1234, "loss": None}]}
    assert out.endswith("}\n") and "not in JSON" not in out and err == ""


def test_emit_csv_writes_the_primary_tables_only(capsys):
    emit(_tables(), {}, Format.CSV, footer=["a footer"])
    out, _ = capsys.readouterr()
    assert out == "k,v\na,1234\n"


def test_emit_markdown_writes_every_table_and_the_footer(capsys):
    emit(_tables(), {}, Format.MARKDOWN, footer=["Plots: runs/x"])
    out, _ = capsys.readouterr()
    assert "### Main" in out and "### Extra" in out and "1,234" in out
    assert out.rstrip().endswith("Plots: runs/x")


def test_emit_table_has_no_colour_codes_when_stdout_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    emit(_tables(), {}, Format.TABLE, footer=["Plots: runs/x"])
    out, _ = capsys.readouterr()
    assert "Main" in out and "Extra" in out and "1,234" in out and "Plots: runs/x" in out
    assert "\x1b[" not in out
