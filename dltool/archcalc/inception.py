"""Inception module: naive vs dimension-reduced multiplications (Szegedy et al. 2015, GoogLeNet, Figure 2).

Four parallel branches on an HxWxC input, all 'same' padding and stride 1, concatenated along channels:

* naive:   1x1 (f1) | 3x3 (f3) | 5x5 (f5) | 3x3 max-pool (passes the C input channels through)
* reduced: 1x1 (f1) | 1x1 (reduce3) -> 3x3 (f3) | 1x1 (reduce5) -> 5x5 (f5) | 3x3 max-pool -> 1x1 (pool_proj)

The two reducers are separate numbers: GoogLeNet's modules use different ones (inception 3a: 96 before the 3x3,
16 before the 5x5).

Multiplications of a convolution = H*W*(k*k*Cin)*Cout (biases and pooling not counted). Evidence, asserted in
tests/unit/test_archcalc.py:

* report 004 (Problem 3.4, its Figure 1 filter counts; the preset ``report-004`` and the defaults): at 32x32x256
  with 1x1 128, 3x3 192, 5x5 96, pool proj 64 and both reducers 64: 1,115,684,864 naive vs 354,418,688
  reduced (3.15x fewer, 68.2 % saved), outputs 32x32x672 vs 32x32x480. The report gives no number to compare.
* GoogLeNet inception (3a) (preset ``googlenet-3a``; Szegedy et al. 2015, Table 1): 28x28x192 in; 1x1 64;
  3x3 reduce 96 -> 128; 5x5 reduce 16 -> 32; pool proj 32. Reduced: 128,049,152 multiplications, 28x28x256
  out; the paper's Table 1 lists 128M "ops" for it. With one shared reducer of 96 the count would be
  190,267,392 - not the paper's module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

from dltool.archcalc.core import fmt, positive, record
from dltool.errors import UsageError


@dataclass(frozen=True)
class InceptionOp:
    """One convolution or pooling inside a branch."""

    name: str  # "1x1 conv", "3x3 max-pool", ...
    kernel: int
    in_channels: int
    out_channels: int
    output_shape: tuple[int, int, int]
    weights: int  # kernel entries, no biases
    multiplications: int
    formula: str  # "(3*3*256)*32*32*192 = 452,984,832"

    def to_dict(self) -> dict[str, Any]:
        return record(self, "name", "kernel", "in_channels", "out_channels", "output_shape", "weights",
                      "multiplications", "formula")


@dataclass(frozen=True)
class InceptionBranch:
    name: str  # "1x1", "3x3", "5x5", "pool"
    ops: tuple[InceptionOp, ...]

    @property
    def out_channels(self) -> int:
        return self.ops[-1].out_channels

    @property
    def multiplications(self) -> int:
        return sum(op.multiplications for op in self.ops)

    @property
    def weights(self) -> int:
        return sum(op.weights for op in self.ops)

    def to_dict(self) -> dict[str, Any]:
        return {**record(self, "name", "out_channels", "multiplications", "weights"),
                "ops": [op.to_dict() for op in self.ops]}


@dataclass(frozen=True)
class InceptionModule:
    variant: str  # "naive" or "reduced"
    input_shape: tuple[int, int, int]
    branches: tuple[InceptionBranch, ...]

    @property
    def output_shape(self) -> tuple[int, int, int]:
        h, w, _ = self.input_shape
        return (h, w, sum(b.out_channels for b in self.branches))

    @property
    def concat_formula(self) -> str:
        parts = "+".join(str(b.out_channels) for b in self.branches)
        return f"{parts} = {self.output_shape[2]} channels"

    @property
    def total_multiplications(self) -> int:
        return sum(b.multiplications for b in self.branches)

    @property
    def total_formula(self) -> str:
        return " + ".join(fmt(b.multiplications) for b in self.branches) + f" = {fmt(self.total_multiplications)}"

    @property
    def total_weights(self) -> int:
        return sum(b.weights for b in self.branches)

    def to_dict(self) -> dict[str, Any]:
        return {**record(self, "variant", "input_shape", "output_shape", "concat_formula", "total_multiplications",
                         "total_formula", "total_weights"),
                "branches": [b.to_dict() for b in self.branches]}


@dataclass(frozen=True)
class InceptionReference:
    """A published multiplication count for one module (the paper rounds it; ``unit`` is its rounding)."""

    module: str  # "GoogLeNet inception (3a)"
    variant: str  # which of the two modules it is published for: "reduced"
    multiplications: int  # as published, e.g. 128_000_000 for "128M"
    unit: int  # the published figure's rounding: 1_000_000 for "128M"
    published_as: str  # "128M"
    source: str

    def matches(self, multiplications: int) -> bool:
        """Our exact count rounds to the published figure."""
        return round(multiplications / self.unit) * self.unit == self.multiplications

    def to_dict(self) -> dict[str, Any]:
        return record(self, "module", "variant", "multiplications", "unit", "published_as", "source")


@dataclass(frozen=True)
class InceptionComparison:
    naive: InceptionModule
    reduced: InceptionModule
    reference: Optional[InceptionReference] = None
    preset: Optional[str] = None  # the named configuration these sizes are, if any

    @property
    def saving(self) -> int:
        """Multiplications saved by the 1x1 reducers."""
        return self.naive.total_multiplications - self.reduced.total_multiplications

    @property
    def saving_pct(self) -> float:
        return 100.0 * self.saving / self.naive.total_multiplications

    @property
    def ratio(self) -> float:
        """naive / reduced (how many times fewer)."""
        return self.naive.total_multiplications / self.reduced.total_multiplications

    def to_dict(self) -> dict[str, Any]:
        return {
            "naive": self.naive.to_dict(),
            "reduced": self.reduced.to_dict(),
            "saving": self.saving,
            "saving_pct": self.saving_pct,
            "ratio": self.ratio,
            "preset": self.preset,
            "reference": self.reference.to_dict() if self.reference else None,
        }


def _conv(h: int, w: int, k: int, cin: int, cout: int) -> InceptionOp:
    weights = k * k * cin * cout
    mults = weights * h * w
    return InceptionOp(
        name=f"{k}x{k} conv",
        kernel=k,
        in_channels=cin,
        out_channels=cout,
        output_shape=(h, w, cout),
        weights=weights,
        multiplications=mults,
        formula=f"({k}*{k}*{cin})*{h}*{w}*{cout} = {fmt(mults)}",
    )


def _maxpool(h: int, w: int, c: int) -> InceptionOp:
    return InceptionOp(
        name="3x3 max-pool",
        kernel=3,
        in_channels=c,
        out_channels=c,
        output_shape=(h, w, c),
        weights=0,
        multiplications=0,
        formula="0 (max-pool: comparisons only)",
    )


@dataclass(frozen=True)
class InceptionConfig:
    """Input size and filter counts of one Inception module (the numbers of Figure 2 / Table 1)."""

    h: int
    w: int
    c: int
    f1: int
    f3: int
    f5: int
    pool_proj: int
    reduce3: int
    reduce5: int

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.h, self.w, self.c)

    def filters(self) -> dict[str, int]:
        return {"f1": self.f1, "f3": self.f3, "f5": self.f5, "pool_proj": self.pool_proj,
                "reduce3": self.reduce3, "reduce5": self.reduce5}


@dataclass(frozen=True)
class InceptionPreset:
    name: str
    description: str
    config: InceptionConfig
    reference: Optional[InceptionReference] = None


GOOGLENET_TABLE1 = "Szegedy et al. 2015, Table 1"

INCEPTION_PRESETS: dict[str, InceptionPreset] = {
    "report-004": InceptionPreset(
        "report-004",
        "report 004 Problem 3.4: 32x32x256 in, Figure 1's filters (1x1 128, 3x3 192, 5x5 96, pool proj 64), "
        "both reducers 64",
        InceptionConfig(32, 32, 256, f1=128, f3=192, f5=96, pool_proj=64, reduce3=64, reduce5=64),
    ),
    "googlenet-3a": InceptionPreset(
        "googlenet-3a",
        "GoogLeNet inception (3a): 28x28x192 in; 1x1 64; 3x3 reduce 96 -> 128; 5x5 reduce 16 -> 32; pool proj 32",
        InceptionConfig(28, 28, 192, f1=64, f3=128, f5=32, pool_proj=32, reduce3=96, reduce5=16),
        InceptionReference("GoogLeNet inception (3a)", "reduced", 128_000_000, 1_000_000, "128M",
                           f"{GOOGLENET_TABLE1} ('ops' column)"),
    ),
}
DEFAULT_PRESET = "report-004"


def inception_preset(name: str) -> InceptionPreset:
    """A named configuration ('report-004', 'googlenet-3a'); case, '-', '_' and spaces do not matter."""
    key = "".join(ch for ch in str(name).lower() if ch.isalnum())
    for preset_name, preset in INCEPTION_PRESETS.items():
        if key == "".join(ch for ch in preset_name if ch.isalnum()):
            return preset
    raise UsageError(f"Unknown inception preset '{name}'",
                     hint=f"Known presets: {', '.join(INCEPTION_PRESETS)}.")


def inception_config(
    preset: str | None = None,
    input_shape: tuple[int, int, int] | None = None,
    *,
    f1: int | None = None,
    f3: int | None = None,
    f5: int | None = None,
    pool_proj: int | None = None,
    reduce: int | None = None,
    reduce3: int | None = None,
    reduce5: int | None = None,
) -> InceptionConfig:
    """The configuration a user asked for: a preset (default report 004's), then every size given explicitly.

    ``reduce`` sets both reducers at once; giving it together with ``reduce3`` or ``reduce5`` is an error
    (which one would win is not obvious).
    """
    if reduce is not None and (reduce3 is not None or reduce5 is not None):
        given = " and ".join(n for n, v in (("--reduce3", reduce3), ("--reduce5", reduce5)) if v is not None)
        raise UsageError(f"--reduce cannot be combined with {given}",
                         hint="--reduce sets both reducers to one value; to set them apart give only --reduce3 and "
                              "--reduce5.")
    base = inception_preset(preset or DEFAULT_PRESET).config
    changes: dict[str, int] = {}
    if input_shape is not None:
        changes.update(h=input_shape[0], w=input_shape[1], c=input_shape[2])
    if reduce is not None:
        reduce3 = reduce5 = reduce
    for key, value in (("f1", f1), ("f3", f3), ("f5", f5), ("pool_proj", pool_proj), ("reduce3", reduce3),
                       ("reduce5", reduce5)):
        if value is not None:
            changes[key] = value
    return replace(base, **changes)


def _matching_preset(config: InceptionConfig) -> InceptionPreset | None:
    for preset in INCEPTION_PRESETS.values():
        if preset.config == config:
            return preset
    return None


def inception(
    h: int,
    w: int,
    c: int,
    f1: int = 128,
    f3: int = 192,
    f5: int = 96,
    pool_proj: int = 64,
    reduce3: int = 64,
    reduce5: int = 64,
) -> InceptionComparison:
    """Naive and dimension-reduced Inception modules on an h x w x c input ('same' padding, stride 1).

    Defaults: report 004's module. When the sizes are exactly a preset's (e.g. GoogLeNet 3a), the result names
    it and carries its published count, if there is one.
    """
    for value, what in (
        (h, "height"),
        (w, "width"),
        (c, "channels"),
        (f1, "f1"),
        (f3, "f3"),
        (f5, "f5"),
        (pool_proj, "pool_proj"),
        (reduce3, "reduce3"),
        (reduce5, "reduce5"),
    ):
        try:
            positive(value, what, "inception")
        except UsageError as err:
            err.hint = "Every size and filter count must be a positive integer."
            raise
    naive = InceptionModule(
        "naive",
        (h, w, c),
        (
            InceptionBranch("1x1", (_conv(h, w, 1, c, f1),)),
            InceptionBranch("3x3", (_conv(h, w, 3, c, f3),)),
            InceptionBranch("5x5", (_conv(h, w, 5, c, f5),)),
            InceptionBranch("pool", (_maxpool(h, w, c),)),
        ),
    )
    reduced = InceptionModule(
        "reduced",
        (h, w, c),
        (
            InceptionBranch("1x1", (_conv(h, w, 1, c, f1),)),
            InceptionBranch("3x3", (_conv(h, w, 1, c, reduce3), _conv(h, w, 3, reduce3, f3))),
            InceptionBranch("5x5", (_conv(h, w, 1, c, reduce5), _conv(h, w, 5, reduce5, f5))),
            InceptionBranch("pool", (_maxpool(h, w, c), _conv(h, w, 1, c, pool_proj))),
        ),
    )
    preset = _matching_preset(InceptionConfig(h, w, c, f1, f3, f5, pool_proj, reduce3, reduce5))
    return InceptionComparison(naive, reduced, reference=preset.reference if preset else None,
                               preset=preset.name if preset else None)
