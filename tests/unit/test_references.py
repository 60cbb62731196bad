"""The reports' numbers in dltool's reference tables, checked against the report files themselves.

Each test reads a table or sentence of a report in ../shared/reports and asserts that every number of it is
present, unchanged, in the reference table of the study that reproduces it — none missing, none typed wrong.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dltool.experiments.mnist import common

REPORTS = Path(__file__).resolve().parents[2].parent / "shared" / "reports"


def report(prefix: str) -> str:
    found = sorted(REPORTS.glob(f"{prefix}_*.txt"))
    if not found:
        pytest.skip(f"report {prefix} not found beside the project ({REPORTS})")
    return found[0].read_text(encoding="utf-8")


NAMES = {"Adagrad": "adagrad", "Adam": "adam", "Gradient Descent": "gd", "Adadelata": "adadelta",
         "RMSProp": "rmsprop", "FTRL": "ftrl"}


def test_softmax_reference_is_all_of_report_000_table_1():
    text = report("000")
    table = text[text.index("Optimizer\tLearning Rate\tTest Accuracy"):]
    rows = re.findall(r"^(Adagrad|Adam|Gradient Descent|Adadelata|RMSProp|FTRL)\t([\d.]+)\t(?:<b>)?([\d.]+)",
                      table, flags=re.M)
    assert len(rows) == 19
    parsed = {(NAMES[name], float(lr)): float(acc) for name, lr, acc in rows}
    assert parsed == common.SOFTMAX_REFERENCE


def test_softmax_default_grid_is_table_1_in_order():
    from dltool.experiments.mnist.softmax import SoftmaxConfig

    grid = SoftmaxConfig(momentums=[]).grid()
    assert [(n, lr) for n, lr, _ in grid] == list(common.SOFTMAX_REFERENCE)


def test_cnn_and_devices_references_are_report_000_section_4():
    text = report("000")
    assert "batch size of 100 has produced an accuracy of 95.4%" in text
    assert "reduced to 50, an accuracy of 96.35%" in text and "test accuracy of **98.27%**" in text
    assert common.CNN_BATCH_REFERENCE == {100: 0.954, 50: 0.9635, 4: 0.9827}
    times = re.findall(r"using (\d) GPU'?s? took ([\d.]+) sec", text)
    times += re.findall(r"using (\d) GPU'?s? ([\d.]+) seconds", text)
    found = sorted((int(n), float(s)) for n, s in times)
    assert sorted((n, s) for (n, _), s in common.DEVICES_GPU_SECONDS.items()) == found
    assert {b for _, b in common.DEVICES_GPU_SECONDS} == {4, 48}


def test_filters_references_are_report_002_table_1_and_printouts():
    text = report("002")
    rows = re.findall(r"^(\d+)\t(\d+)\t([\d.]+|-)\t([\d,]+)$", text, flags=re.M)
    assert [int(f) for f, *_ in rows] == [8, 16, 32, 64, 128, 256]
    for f, params, cpu, gpu in rows:
        f = int(f)
        assert common.FILTERS_PARAMS[f] == int(params)
        assert common.FILTERS_CPU_SECONDS.get(f) == (None if cpu == "-" else float(cpu))
        assert common.FILTERS_GPU_SECONDS[f] == float(gpu.replace(",", "."))
    printouts = re.findall(r"Number of filters: (\d+)\s+Validation accuracy: ([\d.]+)\s+Loss: [\d.]+\s+"
                           r"Test Error: ([\d.]+)", text)
    assert len(printouts) == 4
    for f, val, err in printouts:
        assert common.FILTERS_VAL_ACCURACY[int(f)] == float(val)
        assert common.FILTERS_TEST_ERROR[int(f)] == pytest.approx(float(err), abs=5e-5)


def test_filters_lr_sweep_runs_at_the_reports_16_filters():
    from dltool.experiments.mnist.filters import FiltersConfig

    cfg = FiltersConfig()
    assert cfg.lr_filters == 16 and cfg.batch_size == 50 and cfg.epochs == 10
    assert {f for f, _, sweeps in cfg.grid() if "lr" in sweeps} == {16}


def test_cnn_long_reference_is_report_001_exercise_3():
    text = report("001")
    assert "test accuracy 0.992" in text and "Total Training Time: 107.767 seconds" in text
    assert "Batch size:** 50" in text and "Epochs:** 30" in text and "Learning rate:** 1e-4" in text
    assert common.CNN_LONG_REFERENCE == (50, 30, 0.992)
    assert common.FAST_REFERENCE == (107.8, 0.992)


def test_report_001_sweeps_are_presets():
    from dltool.experiments import fit_line
    from dltool.experiments.mnist import softmax

    assert fit_line.FitLineConfig(preset="report001-compare").grid() == [
        ("gd", 0.01, None), ("momentum", 0.01, 0.8), ("adam", 0.05, None)]  # report 001 §2.4
    assert ("adam", 0.5, None) in fit_line.FitLineConfig(preset="report001-adam").grid()  # its fastest
    assert ("adam", 0.001, None) in softmax.SoftmaxConfig(preset="report001-adam").grid()  # its best on MNIST
