"""The audit's logic: verdict classes, exact quoting of the reports, the catalogue's coverage, the drift check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dltool.experiments import reproduce as exp
from dltool.experiments.reproduce import core
from dltool.experiments.reproduce.catalog import catalogue, claim, numeric

REPORTS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reports"


def _reports() -> dict[str, str]:
    if not REPORTS_DIR.is_dir():
        pytest.skip("the reports (../shared/reports) are not beside the project")
    return {k: " ".join((REPORTS_DIR / name).read_text(encoding="utf-8").split()) for k, name in core.REPORTS.items()}


def _num(basis="report", tol=0.01, printed="0.9102", ours=0.9150, **kw):
    return numeric("t", "000", "T", "s", "test accuracy", printed, lambda d: ours, tol=tol, basis=basis, **kw)


def _verdict(row, docs=None):
    return core.judge(row, row.measure(docs or {}))[0]


# ---- verdict classes -------------------------------------------------------------------------------------------

def test_each_verdict_class():
    assert _verdict(_num()) == "reproduced"
    assert _verdict(_num(ours=0.93)) == "differs"
    assert _verdict(_num(basis="calibrated")) == "reproduced, calibrated"
    assert _verdict(_num(basis="calibrated", ours=0.95)) == "differs"
    assert _verdict(_num(basis="elsewhere", printed=None, value=60_965_224, tol=0, ours=60_965_224)) \
        == "reference from elsewhere"
    assert _verdict(_num(basis="computed", printed="1,728", tol=0, ours=1728)) == "computed"
    assert _verdict(_num(basis="computed", printed="1,728", tol=0, ours=1729)) == "differs"
    assert _verdict(_num(basis="timing", tol=None, ours=359.4)) == "not comparable"
    assert _verdict(_num(basis="short", printed=None, tol=None, ours="M 1: 0.41")) == "short run"
    yes = claim("c", "000", "T", "s", "it holds", lambda d: (True, "evidence"))
    no = claim("c", "000", "T", "s", "it holds", lambda d: (False, "evidence"))
    assert _verdict(yes) == "reproduced" and _verdict(no) == "differs"
    virtual = claim("c", "000", "T", "s", "slower", lambda d: (True, "e"), basis="virtual")
    assert _verdict(virtual) == "not comparable"  # virtual CPU devices cannot test a GPU claim, whatever they show


def test_delta_and_tolerance_edges():
    row = _num(tol=0.01, ours=0.9102 + 0.01)
    verdict, delta = core.judge(row, row.measure({}))
    assert verdict == "reproduced" and delta == pytest.approx(0.01)
    exact = _num(basis="computed", printed="36,864", tol=0, ours=36_864)
    assert core.judge(exact, exact.measure({})) == ("computed", 0)  # an integer Δ for counts
    assert exact.tol_text == "exact" and _num().tol_text == "±0.01"
    assert _num(basis="timing", tol=None).tol_text == ""


@pytest.mark.parametrize("printed, value", [("0.9102", 0.9102), ("0,9102", 0.9102), ("143,667,240", 143_667_240),
                                            ("128M", 128e6), ("150K", 150e3), ("96.1 %", 0.961), ("95.6%", 0.956),
                                            ("48,83", 48.83), ("107.767", 107.767), ("52258", 52_258)])
def test_parse_printed(printed, value):
    assert core.parse_printed(printed) == pytest.approx(value)


# ---- the catalogue ---------------------------------------------------------------------------------------------

def test_catalogue_coverage():
    studies, rows = catalogue()
    numeric_rows = [r for r in rows if r.kind == "numeric"]
    claims = [r for r in rows if r.kind == "claim"]
    assert len(numeric_rows) >= 88 and len(claims) >= 40
    assert sum(r.basis == "calibrated" for r in rows) >= 3
    assert {r.report for r in rows} == set(core.REPORTS)
    assert {r.tier(studies) for r in rows} == {"quick", "full"}
    by = {r.id: r for r in rows}
    # the calibrations the audit makes say so: Table 1's open setting, report 003's L1 divisor and Q2's k
    assert by["000-t1-gd-0.5"].basis == "calibrated"
    assert by["003-q5-l1-test-accuracy"].basis == "calibrated" and by["003-q2-inverse-time-test-accuracy"].basis \
        == "calibrated"
    # values that are not in the report are labelled as coming from elsewhere or computed
    assert by["004-alexnet"].basis == "elsewhere" and by["004-alexnet"].printed is None
    assert by["004-googlenet-3a"].basis == "elsewhere" and by["004-receptive"].basis == "computed"
    assert by["002-t1-params-128"].basis == "computed" and by["002-t1-params-128"].studies == ()


def test_rows_that_were_wrong_before():
    _, rows = catalogue()
    by = {r.id: r for r in rows}
    # report 002: "not linear" holds in its own Table 1, only "exponential" is unsupported
    assert _verdict(by["002-not-linear"]) == "computed"
    assert _verdict(by["002-exponential"]) == "differs"
    # report 000 §4.1 on virtual CPU devices: not comparable, whatever the times say
    assert by["000-41-b4-slower"].basis == "virtual" and by["000-41-b48-faster"].basis == "virtual"
    # report 001: best lr 0.01 "fastest decrease"; on points where 0.02 is faster the claim differs
    def curve(lr):  # the loss reaches 1 % above the optimum (1.0) after 2.5 / lr iterations
        return [1.0 + 10 * max(0.0, 1 - i * lr / 2.5) + 0.005 for i in range(1000)]

    fit = {"fit-gd": {"optimal_loss": 1.0, "runs": [
        {"lr": lr, "status": "converged" if lr < 0.03 else "diverged", "final_loss": 1.005 if lr < 0.03 else None,
         "losses": curve(lr) if lr < 0.03 else []} for lr in (0.005, 0.01, 0.02, 0.05)]}}
    assert _verdict(by["001-21-best-001"], fit) == "differs"
    fit["fit-gd"]["runs"] = [r for r in fit["fit-gd"]["runs"] if r["lr"] != 0.02]
    assert _verdict(by["001-21-best-001"], fit) == "reproduced"


def test_printed_values_stand_in_the_reports():
    texts = _reports()
    _, rows = catalogue()
    for r in rows:
        if r.printed is None:
            continue
        if r.kind == "numeric":
            assert core.in_report(r.printed, texts[r.report]), f"{r.id}: {r.printed!r} is not in report {r.report}"
            if r.basis in ("report", "calibrated", "timing"):
                assert core.parse_printed(r.printed) == pytest.approx(r.value), f"{r.id}: value ≠ printed"
        else:  # a claim: each quoted fragment (between "...") is the report's words
            for part in re.split(r"\s*\.\.\.\s*", r.printed):
                part = part.strip().strip("()")
                if part:
                    assert part in texts[r.report], f"{r.id}: {part!r} is not in report {r.report}"


def test_quoting_detects_a_changed_value():
    texts = _reports()
    assert core.in_report("160.65", texts["002"]) and not core.in_report("160.7", texts["002"])
    assert core.in_report("48.83", texts["002"])  # printed there with a decimal comma
    assert not core.in_report("0.99", "Validation accuracy: 0.990")  # whole numbers only
    assert not core.in_report("133", "took 1133 s") and core.in_report("133", "took 133 seconds")
    assert not core.in_report("0.9080", texts["000"])  # Table 1 prints 0.908: a padded digit is not its value


# ---- drift ------------------------------------------------------------------------------------------------------

def _rec(id_, ours, verdict="reproduced", tol=0.01, kind="numeric", basis="report"):
    return {"id": id_, "ours": ours, "verdict": verdict, "tolerance": tol, "tolerance_text": f"±{tol}",
            "kind": kind, "basis": basis}


def test_drift_finds_a_planted_change():
    committed = {r["id"]: r for r in [_rec("a", 0.9146), _rec("b", 60_965_224, "computed", 0),
                                      _rec("c", "x", kind="claim")]}
    same = [_rec("a", 0.9150), _rec("b", 60_965_224, "computed", 0), _rec("c", "y", kind="claim")]
    assert exp.drift(same, committed) == []  # within tolerance; a claim's evidence text may change
    moved = exp.drift([_rec("a", 0.93), _rec("b", 60_965_225, "computed", 0), _rec("c", "y", "differs", kind="claim")],
                      committed)
    assert [m["id"] for m in moved] == ["a", "b", "c"]
    assert "verdict reproduced → differs" in moved[2]["why"]
    assert exp.drift([_rec("new", 1.0)], committed)[0]["why"] == "not on the committed page"


def test_parse_reports():
    assert exp.parse_reports(None) == list(core.REPORTS)
    assert exp.parse_reports(["4", "report000", "001,002"]) == ["000", "001", "002", "004"]
    assert exp.parse_reports(["all"]) == list(core.REPORTS)
    from dltool.errors import UsageError

    with pytest.raises(UsageError):
        exp.parse_reports(["005"])


def test_drift_reports_a_row_that_vanished():
    committed = {"gone": {"id": "gone", "report": "004", "tier": "quick", "verdict": "computed", "ours": 1},
                 "full-only": {"id": "full-only", "report": "004", "tier": "full", "verdict": "computed", "ours": 1},
                 "other": {"id": "other", "report": "000", "tier": "quick", "verdict": "computed", "ours": 1}}
    moved = exp.drift([], committed, ["004"], "quick")
    assert [m["id"] for m in moved] == ["gone"]  # a full-tier row or another report's is not expected here


def test_study_printing_no_json_fails_cleanly(tmp_path, monkeypatch):
    fake = tmp_path / "fake-python"
    fake.write_text("#!/bin/sh\necho 'not json'\n")
    fake.chmod(0o755)
    monkeypatch.setattr(exp.sys, "executable", str(fake))
    doc, spent = exp.run_study(core.Study("x", ("fit-line",)))
    assert doc is None and spent.status == "failed" and "not one JSON document" in spent.error


def test_a_failed_study_keeps_the_rows_it_does_not_decide(monkeypatch):
    real = exp.run_study

    def failing(study, data_dir=None):
        if study.key == "inception":
            return None, exp.StudyRun(study.key, study.command, "failed", 0.0, 0.0, "exit 1: planted")
        return real(study, data_dir)

    monkeypatch.setattr(exp, "run_study", failing)
    kept: list[dict] = []
    cfg = exp.ReproduceConfig.from_options(reports=["004"], tier="quick")
    from dltool.errors import DltoolError

    with pytest.raises(DltoolError, match="1 study failed"):
        exp.run(cfg, on_run=kept.append)
    ids = {r["id"] for r in kept}
    assert "004-vgg-23-weights" in ids and "004-alexnet" in ids
    assert not any(i.startswith("004-inception") for i in ids)
