"""Several networks side by side: one row of totals per network, beside its published counts and Δ.

``dltool archcalc vgg16 vgg19 alexnet`` prints one table with a row per network; this module computes the rows
from the networks' :class:`~dltool.archcalc.core.NetworkReport` (built-in, Keras application or ``.keras`` file:
the comparison only reads a report's totals, so any network the registry builds can be compared). Stdlib only.

What a row holds (per image unless said otherwise):

* ``depth``: weighted layers, i.e. the rows that have weights *and* multiply-accumulates (convolutions, depthwise
  and separable convolutions, fully connected layers). BatchNorm and scale layers have weights but no MACs and do
  not count; a separable convolution is one row. VGG19 → 16 convolutions + 3 FC = 19, AlexNet → 5 + 3 = 8,
  DenseNet-121 → 121, MobileNet → 28, as the papers count them. Every layer counts, not only the longest path:
  ResNet-50 → 54 (the paper's 50 and 4 projection shortcuts), GoogLeNet → 58 (the paper's 22 is its longest
  path; the inception branches run side by side).
* ``total_params``, ``total_macs``, ``total_flops`` (= 2 × MACs), ``total_activations`` (the input included): the
  report's totals, unchanged.
* ``memory``: parameters and activations at the comparison's batch size and dtype (:class:`Memory`).
* The published parameter count and MACs with their sources, and Δ = ours − published. The published MACs are
  given in 10^9 and rounded (torchvision's table: 19.63; He et al.: 3.8): Δ is exact against that figure, and
  ``macs_agree`` says whether ours, rounded to the same decimals, equals it. A parameter count published rounded
  (MobileNet's "4.2M") agrees likewise when ours rounds to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Sequence

from dltool.archcalc.core import Memory, NetworkReport, Reference, positive, record
from dltool.errors import UsageError

# --sort: what each key orders by (smallest first; ties keep the order the networks were given in)
SORT_KEYS: dict[str, str] = {
    "params": "parameters",
    "macs": "multiply-accumulates",
    "memory": "parameter + activation memory",
}


def depth(report: NetworkReport) -> int:
    """Weighted layers: rows with weights and multiply-accumulates (convolutions and fully connected layers)."""
    return sum(1 for r in report.rows if r.weights > 0 and r.macs > 0)


def _decimals(value: float) -> int:
    """Decimals a published figure is written with: 19.63 → 2, 0.71 → 2, 4.1 → 1."""
    return max(0, -int(Decimal(repr(float(value))).normalize().as_tuple().exponent))


@dataclass(frozen=True)
class NetworkSummary:
    """One network's row of the comparison."""

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    bias: bool
    depth: int
    total_params: int
    total_macs: int
    total_activations: int
    memory: Memory
    reference: Reference | None = None
    notes: tuple[str, ...] = ()

    @property
    def total_flops(self) -> int:
        return 2 * self.total_macs

    # ---- published parameters ----
    @property
    def published_params(self) -> int | None:
        return self.reference.params if self.reference else None

    @property
    def published_params_text(self) -> str | None:
        """As the source prints it ("138,357,544", or "7.2M" where it rounds)."""
        return self.reference.params_text() if self.reference else None

    @property
    def published_params_source(self) -> str | None:
        return self.reference.source if self.reference else None

    @property
    def delta_params(self) -> int | None:
        """Ours − published (against the rounded figure where the source rounds)."""
        return None if self.reference is None else self.total_params - self.reference.params

    @property
    def params_agree(self) -> bool | None:
        """Ours equals the published count (at its rounding, if it is rounded)."""
        return None if self.reference is None else self.reference.params_match(self.total_params)

    # ---- published MACs ----
    @property
    def published_gmacs(self) -> float | None:
        return self.reference.gmacs if self.reference and self.reference.gmacs is not None else None

    @property
    def published_macs(self) -> int | None:
        """The published figure in MACs (19.63 G → 19,630,000,000)."""
        g = self.published_gmacs
        return None if g is None else int(Decimal(repr(float(g))) * 10**9)

    @property
    def published_macs_source(self) -> str | None:
        return self.reference.gmacs_source if self.published_gmacs is not None else None

    @property
    def delta_macs(self) -> int | None:
        return None if self.published_macs is None else self.total_macs - self.published_macs

    @property
    def macs_agree(self) -> bool | None:
        """Ours, in 10^9 and rounded as the published figure is, equals it."""
        g = self.published_gmacs
        if g is None:
            return None
        return round(self.total_macs / 1e9, _decimals(g)) == round(float(g), _decimals(g))

    def sort_value(self, key: str) -> int:
        return {"params": self.total_params, "macs": self.total_macs, "memory": self.memory.total_bytes}[key]

    def to_dict(self) -> dict[str, Any]:
        doc = record(self, "name", "input_shape", "output_shape", "bias", "depth", "total_params", "total_macs",
                     "total_flops", "total_activations")
        doc["memory"] = self.memory.to_dict()
        doc["reference"] = self.reference.to_dict() if self.reference else None
        doc.update(record(self, "published_params", "published_params_text", "published_params_source",
                          "delta_params", "params_agree", "published_gmacs", "published_macs",
                          "published_macs_source", "delta_macs", "macs_agree"))
        doc["notes"] = list(self.notes)
        return doc


def summarize(report: NetworkReport, batch_size: int = 1, dtype: str = "fp32") -> NetworkSummary:
    """The comparison row of one network's report."""
    return NetworkSummary(
        name=report.name,
        input_shape=tuple(report.input_shape),
        output_shape=tuple(report.output_shape),
        bias=report.bias,
        depth=depth(report),
        total_params=report.total_params,
        total_macs=report.total_macs,
        total_activations=report.total_activations,
        memory=report.memory(batch_size, dtype),
        reference=report.reference,
        notes=tuple(n for n in report.notes if n),
    )


@dataclass
class Comparison:
    """Rows of several networks, in the order given or sorted by ``sort``."""

    networks: list[NetworkSummary]
    batch_size: int
    dtype: str
    sort: str | None = None
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = [n.name for n in self.networks]

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON document: one object per network, in the table's order."""
        return [n.to_dict() for n in self.networks]


def check_sort(sort: str | None) -> str | None:
    """``sort`` as a key of :data:`SORT_KEYS` (case-insensitive), or UsageError."""
    if sort is None:
        return None
    key = str(sort).strip().lower()
    if key not in SORT_KEYS:
        raise UsageError(f"--sort {sort!r} is not a sort key", f"use one of: {', '.join(SORT_KEYS)}")
    return key


def compare(reports: Sequence[NetworkReport], batch_size: int = 1, dtype: str = "fp32",
            sort: str | None = None) -> Comparison:
    """One row per report; ``sort`` (params, macs or memory) orders them smallest first, stably."""
    positive(batch_size, "batch size", "memory")
    key = check_sort(sort)
    rows = [summarize(r, batch_size, dtype) for r in reports]
    if key is not None:
        rows.sort(key=lambda s: s.sort_value(key))
    memory_dtype = rows[0].memory.dtype if rows else dtype
    return Comparison(rows, batch_size, memory_dtype, key)
