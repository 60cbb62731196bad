"""eggholder's tables agree with its progress line: bundles counted from 1; one MFU printed as one value."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from dltool.report.views import eggholder as views
from dltool.runlog import StoredResult

DOC = json.loads((Path(__file__).parent / "data" / "run_tables.json").read_text(encoding="utf-8"))["eggholder"]


def test_the_bundle_column_counts_from_one_as_the_progress_line_does():
    """stderr says "bundle 1/1: 2 networks"; the table said bundle "0 (2)". The JSON keeps the 0-based index."""
    assert [b["index"] for b in DOC["bundles"]] == [0]
    (main, _), _ = views.tables(StoredResult(DOC))
    assert {row["bundle"] for row in main.rows} == {f"1 ({len(DOC['networks'])})"}
    doc = copy.deepcopy(DOC)
    doc["networks"][1]["bundle"] = 1
    doc["networks"][1]["bundle_size"] = doc["networks"][0]["bundle_size"] = 1
    (main, _), _ = views.tables(StoredResult(doc))
    assert sorted(row["bundle"] for row in main.rows) == ["1 (1)", "2 (1)"]


def test_one_bundle_or_equal_mfus_print_one_value_not_a_range():
    _, footer = views.tables(StoredResult(DOC))
    mfu = f"{DOC['bundles'][0]['mfu']:.2%}"
    assert footer[-1] == f"MFU of the bundle (model FLOPs ÷ the measured matmul peak): {mfu}"
    doc = copy.deepcopy(DOC)
    doc["bundles"] = [dict(doc["bundles"][0], index=i, mfu=m) for i, m in enumerate((0.1124, 0.11241, 0.1124))]
    _, footer = views.tables(StoredResult(doc))
    assert footer[-1] == "MFU of the bundles (model FLOPs ÷ the measured matmul peak): 11.24%"
    doc["bundles"][1]["mfu"] = 0.1302
    _, footer = views.tables(StoredResult(doc))
    assert footer[-1] == "MFU of the bundles (model FLOPs ÷ the measured matmul peak): 11.24%–13.02%"


def test_a_range_of_values_that_print_alike_is_one_value():
    """The same rule for cifar-adaptive's tracing seconds ("1.2–1.2 s here")."""
    from dltool.report.views.common import span

    assert span([1.21, 1.24], ".1f") == "1.2"
    assert span([1.21, 2.04, 1.5], ".1f") == "1.2–2.0"
    assert span([0.5], ".2%") == "50.00%"
