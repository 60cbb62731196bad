"""The audit's building blocks: a study (one dltool command whose JSON several rows read), a row (one number or
one claim of a report, with the rule that decides it) and the verdict classes that say how a number was obtained.

Verdicts, in the order the page counts them:

- *reproduced*: within the row's stated tolerance, at the report's own setting;
- *reproduced, calibrated*: a setting the report leaves open was chosen among candidates because it matched —
  the row names the candidates and what each gave;
- *reference from elsewhere*: the value beside ours is not in the report (a paper, Keras' table) — the row says
  which;
- *computed*: no training run decides it (a formula, an architecture count);
- *differs*: outside the tolerance, or the claim does not hold — with the evidence;
- *not comparable*: another machine's timings, or virtual devices standing in for real ones;
- *short run*: fewer epochs or images than the report's setting (a homework whose full setting takes days).

Nothing here imports TensorFlow: ``dltool reproduce --list`` reads the catalogue only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

REPRODUCED = "reproduced"
CALIBRATED = "reproduced, calibrated"
ELSEWHERE = "reference from elsewhere"
COMPUTED = "computed"
DIFFERS = "differs"
NOT_COMPARABLE = "not comparable"
SHORT_RUN = "short run"
VERDICTS = (REPRODUCED, CALIBRATED, ELSEWHERE, COMPUTED, DIFFERS, NOT_COMPARABLE, SHORT_RUN)

#: how a row's number is obtained → the verdict it earns when it holds
BASES: dict[str, str] = {
    "report": REPRODUCED,  # the report's setting, the report's number
    "calibrated": CALIBRATED,  # an open setting chosen because it matched
    "elsewhere": ELSEWHERE,  # the value is a paper's or Keras' (row.source says which)
    "computed": COMPUTED,  # a formula or an architecture count, no training
    "timing": NOT_COMPARABLE,  # another machine's seconds: never divided into ours
    "virtual": NOT_COMPARABLE,  # virtual CPU devices stand in for the report's GPUs
    "short": SHORT_RUN,  # fewer epochs / images than the report
}
TIERS = ("quick", "full")
REPORTS = {
    "000": "000_255bcb3b03ea4a2e.txt", "001": "001_11205bf89876e965.txt", "002": "002_ec41f37aa1af1eba.txt",
    "003": "003_41be54500529fc1f.txt", "004": "004_eab6ec8d572acbbe.txt",
}

Docs = Mapping[str, dict]  # study key → the JSON document its command printed


@dataclass(frozen=True)
class Study:
    """One dltool command (run with ``--json --no-save``); ``seconds`` is its cost on 2 CPU cores, for the ETA."""

    key: str
    args: tuple[str, ...]
    tier: str = "full"
    seconds: float = 60.0

    @property
    def command(self) -> str:
        return " ".join(["dltool", *(quote_arg(a) for a in self.args)])


def quote_arg(arg: str) -> str:
    """An argument as a user types it in a POSIX shell."""
    return f"'{arg}'" if (not arg or any(c in arg for c in " ,|*()")) and not arg.startswith("--") else arg


@dataclass(frozen=True)
class Measured:
    """What a row's rule read from the studies' documents.

    ``ours`` is the number (numeric rows) or the evidence in words (claims); ``holds`` says whether a claim holds
    (numeric rows are judged by the tolerance instead); ``reason`` explains a difference from what was measured;
    ``candidates`` lists, for a calibrated row, what each candidate setting gave.
    """

    ours: Any = None
    holds: bool | None = None
    reason: str = ""
    candidates: str = ""


@dataclass(frozen=True)
class Row:
    """One number or one claim of a report and the rule that decides it.

    ``printed`` is the report's value exactly as it prints it (a decimal comma becomes a point; a claim: its
    words, quoted briefly); ``value`` the number it stands for; ``tol`` the absolute tolerance (0 = exact).
    ``studies`` are the keys of the studies whose documents ``measure`` reads (none: decided without a run);
    ``extra`` those it reads only when they ran (the candidates of a calibration, in the full tier).
    """

    id: str
    report: str
    where: str
    setting: str
    quantity: str
    printed: str | None
    measure: Callable[[Docs], Measured]
    studies: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()  # studies read when they ran (the full tier's candidates), not needed otherwise
    value: float | None = None
    tol: float | None = None
    basis: str = "report"
    source: str = ""  # for a reference from elsewhere: where the value comes from; for computed: how
    reason: str = ""  # why a row differs or is labelled as it is, when that does not depend on the run
    candidates: str = ""  # calibrated rows: the candidates, when they are known without running
    kind: str = field(default="")

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"row {self.id}: unknown basis {self.basis!r}")
        if not self.kind:
            object.__setattr__(self, "kind", "claim" if self.quantity == "claim" else "numeric")

    def tier(self, studies: Mapping[str, Study]) -> str:
        return "full" if any(studies[k].tier == "full" for k in self.studies) else "quick"

    @property
    def tol_text(self) -> str:
        if self.kind == "claim" or self.value is None or self.basis in ("timing", "virtual"):
            return ""
        if not self.tol:
            return "exact"
        return f"±{self.tol:,g}"


def judge(row: Row, m: Measured) -> tuple[str, Any]:
    """(verdict, Δ = ours − report) of a row given what was measured."""
    if row.basis in ("timing", "virtual"):
        return NOT_COMPARABLE, None  # no difference is taken between different machines or devices
    delta = None
    holds = m.holds
    if row.kind == "numeric" and row.value is not None and _number(m.ours):
        delta = m.ours - row.value
        if isinstance(m.ours, int) and float(row.value).is_integer():
            delta = int(m.ours - int(row.value))
        holds = abs(delta) <= (row.tol or 0) + 1e-12 * max(1.0, abs(row.value))
    if row.basis == "short":
        return SHORT_RUN, delta
    if holds is None:
        holds = m.ours is not None
    return (BASES[row.basis] if holds else DIFFERS), delta


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ---- quoting ------------------------------------------------------------------------------------------------

_SUFFIX = {"K": 1e3, "M": 1e6, "G": 1e9}


def parse_printed(printed: str) -> float:
    """The number a printed value stands for: '0,9102' → 0.9102, '143,667,240' → 143667240 (a comma between
    groups of three digits is a thousands separator), '128M' → 1.28e8, '96.1 %' → 0.961, '59 s' → 59."""
    text = printed.strip()
    percent = text.endswith("%")
    text = re.sub(r"\s*(%|s|sec|seconds)$", "", text).strip()
    scale = 1.0
    if text and text[-1] in _SUFFIX:
        scale, text = _SUFFIX[text[-1]], text[:-1]
    if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
        text = text.replace(",", "")
    text = text.replace(",", ".")
    value = float(text) * scale
    return value / 100 if percent else value


def in_report(printed: str, report_text: str) -> bool:
    """Whether ``printed`` stands in the report as written, as a whole number — "0.99" is not found inside
    "0.990", nor "133" inside "1133" (a decimal comma there counts as a point here)."""
    normal = report_text.replace("\u00a0", " ")
    for form in {printed, printed.replace(".", ",")}:
        if re.search(r"(?<![\d.,])" + re.escape(form) + r"(?![\d]|[.,]\d)", normal):
            return True
    return False


def fmt_value(v: Any) -> str:
    """Our measurement as the page prints it: integers with separators, fractions with 4 decimals."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if abs(v) >= 1000:
            return f"{v:,.1f}"
        return f"{v:.4f}" if abs(v) < 1 else f"{v:.4g}"
    return str(v)


def fmt_delta(d: Any) -> str:
    if d is None:
        return "—"
    if isinstance(d, int):
        return f"{d:+,}"
    return f"{d:+.4f}" if abs(d) < 10 else f"{d:+,.1f}"
