"""SqueezeNet 1.0 (Iandola et al. 2016, Table 1) and 1.1 (the SqueezeNet repository's v1.1) as torchvision
builds them, at 224x224x3.

Fire module: squeeze 1x1 (s filters), then expand 1x1 (e1) and expand 3x3 (e3, pad 1) side by side,
concatenated to e1 + e3 channels. Every convolution has a bias and no BatchNorm; no FC layer: the classifier is
a 1x1 convolution to 1000 channels (after dropout) and a global average pool.

* 1.0: conv 7x7/2 96, max-pool 3/2, fire2-4, max-pool 3/2, fire5-8, max-pool 3/2, fire9, conv 1x1 1000.
* 1.1: conv 3x3/2 64, max-pool 3/2, fire2-3, max-pool 3/2, fire4-5, max-pool 3/2, fire6-9, conv 1x1 1000
  (the same fire modules, pooled earlier: 2.4x less computation).

Max-pools in PyTorch's ceil mode (1.0: 109 -> 54 -> 27 -> 13). torchvision: ``squeezenet1_0`` 1,248,424
parameters, "GFLOPS" 0.82; ``squeezenet1_1`` 1,235,496, 0.35 (multiply-accumulates). Keras has no SqueezeNet.
"""

from __future__ import annotations

from typing import Sequence

from dltool.archcalc.core import LayerRow
from dltool.archcalc.families.graph import Graph, T

# fire module: squeeze, expand 1x1, expand 3x3
FIRES: dict[int, tuple[int, int, int]] = {
    2: (16, 64, 64), 3: (16, 64, 64), 4: (32, 128, 128), 5: (32, 128, 128),
    6: (48, 192, 192), 7: (48, 192, 192), 8: (64, 256, 256), 9: (64, 256, 256),
}
# torchvision's features[i] index of each fire module and pool, per version: ("pool" or fire number)
LAYOUT: dict[str, tuple[int | str, ...]] = {
    "1_0": ("pool", 2, 3, 4, "pool", 5, 6, 7, 8, "pool", 9),
    "1_1": ("pool", 2, 3, "pool", 4, 5, "pool", 6, 7, 8, 9),
}


def _fire(g: Graph, x: T, n: int, prefix: str) -> T:
    s, e1, e3 = FIRES[n]
    x = g.conv(x, s, 1, has_bias=True, name=f"{prefix}.squeeze")
    a = g.conv(x, e1, 1, has_bias=True, name=f"{prefix}.expand1x1")
    b = g.conv(x, e3, 3, 1, 1, has_bias=True, name=f"{prefix}.expand3x3")
    return g.concat([a, b], f"{prefix}.concat")


def squeezenet(version: str, input_shape: Sequence[int], bias: bool = True, *,
               classes: int = 1000) -> list[LayerRow]:
    """Rows of torchvision's SqueezeNet ``version`` '1_0' or '1_1' (row names: torchvision's features[i])."""
    g = Graph(input_shape, bias=bias)
    if version == "1_0":
        x = g.conv(g.input, 96, 7, 2, has_bias=True, name="features.0")
    else:
        x = g.conv(g.input, 64, 3, 2, has_bias=True, name="features.0")
    for index, item in enumerate(LAYOUT[version], start=2):  # features.1 is the ReLU
        if item == "pool":
            x = g.pool(x, 3, 2, ceil=True, name=f"features.{index}")
        else:
            x = _fire(g, x, int(item), f"features.{index}")
    x = g.conv(x, classes, 1, has_bias=True, name="classifier.1")
    g.global_pool(x, "classifier.3")
    return g.rows
