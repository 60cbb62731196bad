"""Inception module: naive vs dimension-reduced multiplications (Szegedy et al. 2015, GoogLeNet, Figure 2).

Four parallel branches on an HxWxC input, all 'same' padding and stride 1, concatenated along channels:

* naive:   1x1 (f1) | 3x3 (f3) | 5x5 (f5) | 3x3 max-pool (passes the C input channels through)
* reduced: 1x1 (f1) | 1x1 (reduce3) -> 3x3 (f3) | 1x1 (reduce5) -> 5x5 (f5) | 3x3 max-pool -> 1x1 (pool_proj)

Multiplications of a convolution = H*W*(k*k*Cin)*Cout (biases and pooling not counted). At 32x32x256 with the
defaults (128, 192, 96, pool_proj 64, reducers 64) this gives 1,115,684,864 naive vs 354,418,688 reduced
(3.15x fewer, 68.2 % saved), outputs 32x32x672 vs 32x32x480; tests/unit/test_archcalc.py asserts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dltool.archcalc.core import _positive, fmt
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
        return {
            "name": self.name,
            "kernel": self.kernel,
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "output_shape": list(self.output_shape),
            "weights": self.weights,
            "multiplications": self.multiplications,
            "formula": self.formula,
        }


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
        return {
            "name": self.name,
            "out_channels": self.out_channels,
            "multiplications": self.multiplications,
            "weights": self.weights,
            "ops": [op.to_dict() for op in self.ops],
        }


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
        return {
            "variant": self.variant,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "concat_formula": self.concat_formula,
            "total_multiplications": self.total_multiplications,
            "total_formula": self.total_formula,
            "total_weights": self.total_weights,
            "branches": [b.to_dict() for b in self.branches],
        }


@dataclass(frozen=True)
class InceptionComparison:
    naive: InceptionModule
    reduced: InceptionModule

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
    """Naive and dimension-reduced Inception modules on an h x w x c input ('same' padding, stride 1)."""
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
            _positive(value, what, "inception")
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
    return InceptionComparison(naive, reduced)
