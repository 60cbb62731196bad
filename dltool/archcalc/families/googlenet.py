"""GoogLeNet / Inception v1 (Szegedy et al. 2015, Table 1) as torchvision builds it, without the auxiliary
classifiers, at 224x224x3.

conv 7x7/2 64, max-pool 3/2, conv 1x1 64, conv 3x3 192, max-pool 3/2, inception (3a) (3b), max-pool 3/2,
(4a)-(4e), max-pool 2/2, (5a) (5b), global average pool, dropout, FC-1000. Each module: 1x1 | 1x1 reduce -> 3x3 |
1x1 reduce -> "5x5" | 3x3 max-pool -> 1x1 pool proj, concatenated; the filter counts are Table 1's columns.

torchvision's ``googlenet`` differs from the paper in three ways that the counts show, kept here so that they
equal its published ``num_params`` 6,624,904 and "GFLOPS" 1.50 (multiply-accumulates):

* every convolution is ``BasicConv2d``: no bias, BatchNorm after it (gamma, beta: 2 per channel); no LRN;
* the "5x5" branch is a 3x3 convolution (torchvision's source calls it "a known bug", kept for its ported
  weights); with 5x5 kernels the same network has 7,005,832 parameters and 1.58 G MACs;
* max-pools in ceil mode (112 -> 56 -> 28 -> 14 -> 7, as the paper's table).

The auxiliary classifiers (training only) are left out, as torchvision does with ``aux_logits=False``.
Keras has no GoogLeNet application.
"""

from __future__ import annotations

from typing import Sequence

from dltool.archcalc.core import LayerRow
from dltool.archcalc.families.graph import Graph, T

# Table 1: name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
MODULES: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def _inception(g: Graph, x: T, name: str, five: int) -> T:
    f1, r3, f3, r5, f5, proj = MODULES[name]
    p = f"inception{name}"
    b1 = g.conv_bn(x, f1, 1, name=f"{p}.branch1.conv", bn_name=f"{p}.branch1.bn")
    b2 = g.conv_bn(x, r3, 1, name=f"{p}.branch2.0.conv", bn_name=f"{p}.branch2.0.bn")
    b2 = g.conv_bn(b2, f3, 3, 1, 1, name=f"{p}.branch2.1.conv", bn_name=f"{p}.branch2.1.bn")
    b3 = g.conv_bn(x, r5, 1, name=f"{p}.branch3.0.conv", bn_name=f"{p}.branch3.0.bn")
    b3 = g.conv_bn(b3, f5, five, 1, five // 2, name=f"{p}.branch3.1.conv", bn_name=f"{p}.branch3.1.bn")
    g.rows[-2].detail += " (the '5x5' branch)"
    b4 = g.pool(x, 3, 1, 1, ceil=True, name=f"{p}.branch4.0")
    b4 = g.conv_bn(b4, proj, 1, name=f"{p}.branch4.1.conv", bn_name=f"{p}.branch4.1.bn")
    return g.concat([b1, b2, b3, b4], f"{p}.concat")


def googlenet(input_shape: Sequence[int], bias: bool = True, *, five: int = 3,
              classes: int = 1000) -> list[LayerRow]:
    """Rows of torchvision's GoogLeNet; ``five``: kernel of the "5x5" branch (torchvision 3, the paper 5)."""
    g = Graph(input_shape, bias=bias)
    x = g.conv_bn(g.input, 64, 7, 2, 3, name="conv1.conv", bn_name="conv1.bn")
    x = g.pool(x, 3, 2, ceil=True, name="maxpool1")
    x = g.conv_bn(x, 64, 1, name="conv2.conv", bn_name="conv2.bn")
    x = g.conv_bn(x, 192, 3, 1, 1, name="conv3.conv", bn_name="conv3.bn")
    x = g.pool(x, 3, 2, ceil=True, name="maxpool2")
    x = _inception(g, x, "3a", five)
    x = _inception(g, x, "3b", five)
    x = g.pool(x, 3, 2, ceil=True, name="maxpool3")
    for name in ("4a", "4b", "4c", "4d", "4e"):
        x = _inception(g, x, name, five)
    x = g.pool(x, 2, 2, ceil=True, name="maxpool4")
    x = _inception(g, x, "5a", five)
    x = _inception(g, x, "5b", five)
    x = g.global_pool(x)
    g.fc(x, classes)
    return g.rows
