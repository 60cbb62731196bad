"""reproduce: the verdict table per report, the row list of ``--list``, and the page (docs/reproduction.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dltool.report.tables import Column, TableSpec

VERDICT_MEANING = {
    "reproduced": "within the stated tolerance, at the report's own setting",
    "reproduced, calibrated": "a setting the report leaves open was chosen among candidates because it matched; "
                              "the row names the candidates and what each gave",
    "reference from elsewhere": "the value beside ours is not in the report (a paper, Keras' table); "
                                "the row says which",
    "computed": "no training run decides it: a formula, an architecture count, or the report's own table",
    "differs": "outside the tolerance, or the claim does not hold — with the evidence",
    "not comparable": "another machine's timings, or virtual CPU devices standing in for the report's GPUs",
    "short run": "fewer epochs or images than the report's setting",
}


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {v}" for v, n in counts.items())


def _by_report(result):
    """(report, its rows, its verdict counts in order of first appearance) for each report that has rows."""
    from collections import Counter

    for report in result.config.reports:
        rows = [r for r in result.rows if r["report"] == report]
        if rows:
            yield report, rows, dict(Counter(r["verdict"] for r in rows))


def tables(result) -> tuple[list[TableSpec], list[str]]:
    out = []
    for report, rows, counts in _by_report(result):
        out.append(TableSpec(f"report {report}: {len(rows)} rows ({_counts_line(counts)})", [
            Column("id", "row", justify="left"), Column("where", "where", justify="left"),
            Column("reference_text", "report", justify="left"), Column("tolerance_text", "±", justify="left"),
            Column("ours_text", "dltool", justify="left"), Column("delta_text", "Δ"),
            Column("verdict", "verdict", justify="left")], rows,
            notes=[] if report != result.config.reports[-1] else _notes(result),
            csv_columns=[Column(k, k) for k in ("id", "report", "where", "setting", "quantity", "kind", "tier",
                                                "basis", "printed", "value", "tolerance", "ours", "delta", "verdict",
                                                "reason", "candidates", "source", "command")]))
    footer = [f"{len(result.rows)} rows: {_counts_line(result.counts)}. "
              f"Runs: {result.cpu_seconds / 60:.1f} CPU minutes, "
              f"{result.wall_seconds / 60:.1f} minutes wall ({result.config.tier} tier)."]
    if result.drift is not None:
        footer.append(f"compared with {result.committed}: " + (
            "no row moved" if not result.drift else f"{len(result.drift)} row(s) moved: "
            + "; ".join(f"{d['id']} ({d['why']})" for d in result.drift)))
    return out, footer


def _notes(result) -> list[str]:
    return [f"{v}: {VERDICT_MEANING[v]}" for v in result.counts] + [
        "Reasons, candidates and the commands are in --json and on the page (--page FILE)."]


def list_table(rows: list[dict]) -> TableSpec:
    return TableSpec(f"{len(rows)} rows", [
        Column("id", "row", justify="left"), Column("report", "report", justify="left"),
        Column("where", "where", justify="left"), Column("kind", "kind", justify="left"),
        Column("tier", "tier", justify="left"), Column("committed", "committed verdict", justify="left")], rows)


# ---- the page ------------------------------------------------------------------------------------------------

def _cell(v: Any) -> str:
    if v is None or v == "":
        return "—"
    return str(v).replace("|", "\\|").replace("\n", " ")


def tolerances(rows: list[dict]) -> list[str]:
    """Every tolerance the rows use, with the quantities it applies to (complete by construction)."""
    by: dict[str, dict[str, set[str]]] = {}
    for r in rows:
        if r["kind"] != "numeric" or r["value"] is None or r["basis"] in ("timing", "virtual", "short"):
            continue
        tol = r["tolerance_text"] or "exact"
        by.setdefault(tol, {}).setdefault(r["quantity"], set()).add(r["report"])
    lines = []

    def size(text: str) -> float:
        return 0.0 if text == "exact" else float(text.lstrip("±").replace(",", ""))

    for tol, quantities in sorted(by.items(), key=lambda kv: size(kv[0])):
        what = "; ".join(f"{q} (report {', '.join(sorted(reps))})" for q, reps in sorted(quantities.items()))
        lines.append(f"- **{tol}**: {what}")
    return lines


def _study_commits(result) -> str:
    """When a resumed run's studies ran at other commits than the page's, say which (the page is judged at the
    last one; the studies' code must be unchanged in between)."""
    others: dict[str, list[str]] = {}
    for s in result.studies:
        c = getattr(s, "commit", None) if not isinstance(s, dict) else s.get("commit")
        if c and c != result.commit:
            others.setdefault(c, []).append(getattr(s, "key", None) or s["key"])
    if not others:
        return ""
    return " (rows judged there; studies run at " + "; ".join(
        f"`{c}`: {', '.join(keys)}" for c, keys in others.items()) + ")"


def page(result) -> str:
    from dltool.experiments.reproduce.core import REPORTS

    m = result.machine
    peaks = m.get("peaks") or {}
    peak_text = "; ".join(f"{device}: " + ", ".join(f"{p} {v / 1e9:,.0f} GFLOP/s" for p, v in by.items() if v)
                          for device, by in peaks.items()) or "not measured"
    lines = [
        "# Reproduction of the reports",
        "",
        f"Written by `dltool reproduce {' '.join(result.config.reports)} --tier {result.config.tier} --page "
        "docs/reproduction.md` from real runs; do not edit by hand. Every row is a number the report prints or a "
        "claim it makes (a comparison or a trend), the report's value exactly as it prints it, dltool's "
        "measurement, Δ = ours − report, the tolerance, the command that measured it, and a verdict that says "
        "how the number was obtained.",
        "",
        f"- **Measured at** commit `{result.commit or 'unknown'}` on {result.date}{_study_commits(result)}.",
        f"- **Machine**: {m.get('cpu') or m.get('machine')}, {m.get('usable_cores')} usable cores, Python "
        f"{m.get('python')}; matmul peaks measured in this run: {peak_text}.",
        f"- **Cost**: {result.cpu_seconds / 60:.1f} CPU minutes, {result.wall_seconds / 60:.1f} minutes wall "
        f"({len(result.studies)} studies, {result.config.jobs} at a time).",
        f"- **Verdicts** ({len(result.rows)} rows: {sum(r['kind'] == 'numeric' for r in result.rows)} numbers, "
        f"{sum(r['kind'] == 'claim' for r in result.rows)} claims): {_counts_line(result.counts)}.",
        "",
        "What each verdict means:",
        "",
    ]
    lines += [f"- *{v}*: {VERDICT_MEANING[v]}." for v in VERDICT_MEANING]
    lines += ["", "Tolerances of the numbers (a number holds when |Δ| is within its row's tolerance: one point of "
              "accuracy for single training runs, half a unit of the last printed digit where the report prints "
              "fewer digits, exact for counts). A claim's rule, with its threshold, is stated in its setting or "
              "evidence. Timings of other machines and short runs have none:", ""]
    lines += tolerances(result.rows)
    lines += ["", "Timings from other hardware (a report's GPU, or a CPU it does not name) are *not comparable* and "
              "are never turned into ratios. `dltool reproduce --tier quick` reruns the rows marked quick in a few "
              "minutes; CI runs it and fails when one of them moves.", ""]
    for report, rows, counts in _by_report(result):
        lines += [f"## Report {report} (`{REPORTS[report]}`)", "", f"{len(rows)} rows: {_counts_line(counts)}.", "",
                  "| row | where | setting | quantity | report | ± | dltool | Δ | verdict | reason, evidence, "
                  "candidates | command |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            notes = " ".join(x for x in (r["reason"], f"Source: {r['source']}." if r["source"] else "",
                                         f"Candidates: {r['candidates']}." if r["candidates"] else "") if x)
            printed = r.get("reference_text") or r["printed"]
            lines.append("| " + " | ".join([
                f"`{r['id']}`", _cell(r["where"]), _cell(r["setting"]), _cell(r["quantity"]), _cell(printed),
                _cell(r["tolerance_text"]), _cell(r["ours_text"]), _cell(r["delta_text"]), r["verdict"],
                _cell(notes) if notes else "", f"`{r['command']}`" if r["command"] != "—" else "—"]) + " |")
        lines.append("")
    return "\n".join(lines)


def page_data(result) -> dict:
    from dltool.report.output import jsonable

    return jsonable({"commit": result.commit, "date": result.date, "tier": result.config.tier,
                     "reports": result.config.reports, "machine": result.machine, "counts": result.counts,
                     "cpu_seconds": result.cpu_seconds, "wall_seconds": result.wall_seconds,
                     "studies": result.studies, "rows": result.rows})


def write_page(result, path: Path) -> tuple[Path, Path]:
    """The page and its machine-readable twin (same name, .json), which --list and the drift check read."""
    from dltool.report.export import write_text_atomic

    path = Path(path)
    data = path.with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, page(result))
    write_text_atomic(data, json.dumps(page_data(result), indent=1, ensure_ascii=False) + "\n")
    return path, data


def plots(result, run_dir: Path) -> list[Path]:
    """No figures: the run folder gets the page and its data instead."""
    return list(write_page(result, Path(run_dir) / "reproduction.md"))
