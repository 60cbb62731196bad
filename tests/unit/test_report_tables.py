"""report/tables.py: the one place that turns numbers into text, checked cell by cell in each format."""

from __future__ import annotations

import csv
import io

import pytest

from dltool.report.tables import Column, TableSpec, cell, text_rows, to_csv, to_markdown, to_rich


def _spec(**extra) -> TableSpec:
    columns = [Column("name", "model", justify="left"), Column("params", "parameters", ","),
               Column("acc", "accuracy", ".4f"), Column("shape", "shape")]
    rows = [{"name": "a|b", "params": 1_234_567, "acc": 0.98765, "shape": (28, 28, 1)},
            {"name": "c", "params": None, "acc": float("nan"), "shape": [3]}]
    return TableSpec("Speed", columns, rows, **extra)


@pytest.mark.parametrize("value, fmt, text", [
    (None, ",", "—"),
    (float("nan"), ".4f", "nan"),
    (float("inf"), ".4f", "inf"),
    (float("-inf"), ",", "-inf"),
    (1_234_567, ",", "1,234,567"),
    (0.98765, ".4f", "0.9877"),
    (0.25, ".1%", "25.0%"),
    (3, "", "3"),
    ((224, 224, 3), "", "224×224×3"),
    ([1000, 2000], ",", "1,000×2,000"),
    (True, ".2f", "True"),  # a bool is not formatted as the number 1.00
    ("adam", ".4f", "adam"),
])
def test_cell(value, fmt, text):
    assert cell(value, fmt) == text


def test_cell_with_a_function_and_a_missing_value():
    assert cell(2e9, lambda v: f"{v / 1e9:.1f} G") == "2.0 G"
    assert cell(None, lambda v: 1 / 0) == "—"  # the formatter never sees None


def test_text_rows_follow_the_columns_and_fill_missing_keys():
    spec = _spec()
    spec.rows[1].pop("shape")
    assert text_rows(spec) == [["a|b", "1,234,567", "0.9877", "28×28×1"], ["c", "—", "nan", "—"]]


def test_markdown_is_a_github_table_with_escaped_pipes_and_notes():
    text = to_markdown(_spec(notes=["n = 2 runs", "source: report 000"]))
    lines = text.splitlines()
    assert lines[0] == "### Speed" and lines[1] == ""
    assert [c.strip() for c in lines[2].strip("|").split("|")] == ["model", "parameters", "accuracy", "shape"]
    assert set(lines[3]) <= {"|", "-", ":"}
    assert "a\\|b" in lines[4] and "1,234,567" in lines[4] and "0.9877" in lines[4] and "28×28×1" in lines[4]
    assert lines[4].count("|") == 6  # 5 borders + the escaped one: the name stays one cell
    assert "—" in lines[5] and "nan" in lines[5]
    assert text.endswith("\n\nn = 2 runs\n\nsource: report 000\n")


def test_csv_keeps_raw_numbers_and_uses_keys_as_headers():
    rows = list(csv.reader(io.StringIO(to_csv(_spec()))))
    assert rows == [["name", "params", "acc", "shape"], ["a|b", "1234567", "0.98765", "28x28x1"],
                    ["c", "", "nan", "3"]]


def test_csv_columns_replace_the_view_columns():
    spec = _spec(csv_columns=[Column("name", "model"), Column("bytes", "size (MB)", ",")])
    spec.rows[0]["bytes"] = 4_000_000
    assert to_csv(spec) == "name,bytes\na|b,4000000\nc,\n"


def test_rich_table_has_the_headers_cells_and_notes():
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(to_rich(_spec(notes=["virtual devices"])))
    text = console.file.getvalue()
    for word in ("Speed", "model", "parameters", "1,234,567", "0.9877", "28×28×1", "—", "virtual devices"):
        assert word in text
    assert "a|b" in text  # no escaping on a terminal
