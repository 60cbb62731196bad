"""DenseNet-121 (Huang et al. 2017, Table 1; growth rate k = 32, BC: bottleneck + compression 0.5) at 224x224x3.

conv 7x7/2 64 + BN, max-pool 3x3/2 (pad 1), dense blocks of 6, 12, 24, 16 layers with a transition after each of
the first three, BN, global average pool, FC-1000. A dense layer: BN, 1x1 conv 4k = 128, BN, 3x3 conv k = 32,
its output concatenated to its input (one row: the concatenation). A transition: BN, 1x1 conv to half the
channels, 2x2/2 average pool. No convolution has a bias.

torchvision ``densenet121``: 7,978,856 parameters (BatchNorm gamma and beta), "GFLOPS" 2.83 (multiply-
accumulates). Keras ``DenseNet121``: 8,062,504 (the same network; count_params() adds BatchNorm's moving mean
and variance: 2 x its 41,824 BatchNorm channels).
"""

from __future__ import annotations

from typing import Sequence

from dltool.archcalc.core import LayerRow
from dltool.archcalc.families.graph import Graph

BLOCKS = (6, 12, 24, 16)
GROWTH = 32
BN_SIZE = 4  # the 1x1 bottleneck has BN_SIZE * GROWTH filters


def densenet121(input_shape: Sequence[int], bias: bool = True, *, keras: bool = False,
                classes: int = 1000) -> list[LayerRow]:
    """Rows of DenseNet-121 (torchvision's module names); ``keras``: BatchNorm statistics counted."""
    g = Graph(input_shape, bias=bias, bn_stats=keras)
    x = g.conv_bn(g.input, 64, 7, 2, 3, name="features.conv0", bn_name="features.norm0")
    x = g.pool(x, 3, 2, 1, name="features.pool0")
    for b, layers in enumerate(BLOCKS, start=1):
        for i in range(1, layers + 1):
            p = f"features.denseblock{b}.denselayer{i}"
            y = g.bn(x, f"{p}.norm1")
            y = g.conv_bn(y, BN_SIZE * GROWTH, 1, name=f"{p}.conv1", bn_name=f"{p}.norm2")
            y = g.conv(y, GROWTH, 3, 1, 1, name=f"{p}.conv2")
            x = g.concat([x, y], f"{p}.concat")
        if b < len(BLOCKS):
            p = f"features.transition{b}"
            x = g.bn(x, f"{p}.norm")
            x = g.conv(x, x.shape[-1] // 2, 1, name=f"{p}.conv")
            x = g.pool(x, 2, 2, mode="avg", name=f"{p}.pool")
    x = g.bn(x, "features.norm5")
    x = g.global_pool(x)
    g.fc(x, classes, name="classifier")
    return g.rows
