"""Helpers the report modules declare their rows with, and the whole catalogue (studies and rows by report)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from dltool.experiments.reproduce.core import Docs, Measured, Row, Study, parse_printed


def numeric(id: str, report: str, where: str, setting: str, quantity: str, printed: str | None,
            get: Callable[[Docs], Any], studies: Iterable[str] = (), *, tol: float | None = 0.01,
            value: float | None = None, basis: str = "report", source: str = "", reason: str = "",
            candidates: str = "", explain: Callable[[Docs, Any], str] | None = None,
            calibrate: Callable[[Docs], str] | None = None, extra: Iterable[str] = ()) -> Row:
    """A number of a report. ``get(docs)`` reads ours; ``value`` defaults to the printed value parsed;
    ``explain(docs, ours)`` may give a reason from the run (shown when the row differs, or always for labels);
    ``calibrate(docs)`` lists what each candidate setting gave (calibrated rows)."""
    if value is None and printed is not None:
        value = parse_printed(printed)

    def measure(docs: Docs) -> Measured:
        ours = get(docs)
        return Measured(ours=ours, reason=explain(docs, ours) if explain else "",
                        candidates=calibrate(docs) if calibrate else "")

    return Row(id=id, report=report, where=where, setting=setting, quantity=quantity, printed=printed,
               measure=measure, studies=tuple(studies), extra=tuple(extra), value=value, tol=tol, basis=basis,
               source=source, reason=reason, candidates=candidates)


def claim(id: str, report: str, where: str, setting: str, quote: str,
          decide: Callable[[Docs], tuple[bool, str]], studies: Iterable[str] = (), *, basis: str = "report",
          reason: str = "", source: str = "", candidates: str = "",
          explain: Callable[[Docs, bool], str] | None = None) -> Row:
    """A claim of a report (``quote``: its words, briefly). ``decide(docs)`` → (holds, evidence in words)."""

    def measure(docs: Docs) -> Measured:
        holds, evidence = decide(docs)
        return Measured(ours=evidence, holds=bool(holds), reason=explain(docs, holds) if explain else "")

    return Row(id=id, report=report, where=where, setting=setting, quantity="claim", printed=quote, measure=measure,
               studies=tuple(studies), basis=basis, reason=reason, source=source, candidates=candidates)


def runs(docs: Docs, study: str, key: str = "runs") -> list[dict]:
    return docs[study][key]


def find(items: list[dict], **match: Any) -> dict:
    """The one record whose fields equal ``match`` (floats compared to 1e-12)."""
    for item in items:
        if all(_eq(item.get(k), v) for k, v in match.items()):
            return item
    raise KeyError(f"no record with {match}")


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 1e-12 * max(1.0, abs(b))
    return a == b


def f4(v: Any) -> str:
    return "—" if v is None else f"{v:.4f}"


def catalogue() -> tuple[dict[str, Study], list[Row]]:
    """Every study and every row, in report order."""
    from dltool.experiments.reproduce import r000, r001, r002, r003, r004

    studies: dict[str, Study] = {}
    rows: list[Row] = []
    for module in (r000, r001, r002, r003, r004):
        for s in module.STUDIES:
            if s.key in studies and studies[s.key] != s:
                raise ValueError(f"study {s.key} declared twice differently")
            studies[s.key] = s
        rows += module.rows()
    ids = [r.id for r in rows]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ValueError(f"duplicate row ids: {sorted(dup)}")
    for r in rows:
        missing = [k for k in (*r.studies, *r.extra) if k not in studies]
        if missing:
            raise ValueError(f"row {r.id} reads undeclared studies {missing}")
    return studies, rows
