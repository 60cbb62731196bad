"""ResNet-18/34/50/101/152 (He et al. 2016, Table 1) at 224x224x3.

conv1 7x7/2 64 + BN, 3x3/2 max-pool, four stages of residual blocks (64, 128, 256, 512 filters; the first block
of stages 2-4 halves the size), global average pool, FC-1000. Basic block: 3x3, 3x3 (ResNet-18 [2,2,2,2],
ResNet-34 [3,4,6,3]). Bottleneck: 1x1, 3x3, 1x1 with 4x the filters (ResNet-50 [3,4,6,3], 101 [3,4,23,3],
152 [3,8,36,3]). Shortcuts: identity, or a 1x1 convolution + BN where the shape changes (the paper's option B,
as torchvision and Keras build them). Every convolution is followed by BatchNorm.

Three variants, one builder:

* ``resnetN`` - He et al.'s network counted as torchvision counts it: convolutions without bias, BatchNorm's
  gamma and beta (2 per channel), the downsampling stride on the first 1x1 of a bottleneck as in the paper
  (ResNet v1). Parameters equal torchvision's ``num_params`` (the stride does not change them): ResNet-18
  11,689,512 · 34 21,797,672 · 50 25,557,032 · 101 44,549,160 · 152 60,192,808. MACs: He et al. Table 1's
  "FLOPs" (multiply-adds) 1.8 / 3.6 / 3.8 / 7.6 / 11.3 x 10^9.
* ``resnetN-torchvision`` (50/101/152) - torchvision's "ResNet v1.5": the stride on the 3x3 of the bottleneck,
  which costs more MACs (the 3x3 runs at the larger size): torchvision's "GFLOPS" 4.09 / 7.80 / 11.51 (its column
  counts multiply-accumulates). Same parameters.
* ``resnetN-keras`` (50/101/152) - ``keras.applications.ResNet50/101/152`` (v1): every convolution has a bias,
  and Keras' ``count_params()`` also counts BatchNorm's moving mean and variance (2 non-trainable per channel):
  25,636,712 · 44,707,176 · 60,419,944 (the Keras Applications table). The difference from torchvision is
  3 x the BatchNorm channels (26,560 for ResNet-50: one bias + two statistics each).
"""

from __future__ import annotations

from typing import Sequence

from dltool.archcalc.core import LayerRow
from dltool.archcalc.families.graph import Graph, T

DEPTHS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
WIDTHS = (64, 128, 256, 512)


def _basic(g: Graph, x: T, width: int, stride: int, prefix: str, has_bias: bool) -> T:
    out = g.conv_bn(x, width, 3, stride, 1, has_bias=has_bias, name=f"{prefix}.conv1", bn_name=f"{prefix}.bn1")
    out = g.conv_bn(out, width, 3, 1, 1, has_bias=has_bias, name=f"{prefix}.conv2", bn_name=f"{prefix}.bn2")
    if stride != 1 or x.shape[-1] != width:
        x = g.conv_bn(x, width, 1, stride, 0, has_bias=has_bias, name=f"{prefix}.downsample.0",
                      bn_name=f"{prefix}.downsample.1")
    return g.add(out, x, f"{prefix}.add")


def _bottleneck(g: Graph, x: T, width: int, stride: int, prefix: str, has_bias: bool, stride_on_3x3: bool) -> T:
    s1, s3 = (1, stride) if stride_on_3x3 else (stride, 1)
    out = g.conv_bn(x, width, 1, s1, 0, has_bias=has_bias, name=f"{prefix}.conv1", bn_name=f"{prefix}.bn1")
    out = g.conv_bn(out, width, 3, s3, 1, has_bias=has_bias, name=f"{prefix}.conv2", bn_name=f"{prefix}.bn2")
    out = g.conv_bn(out, 4 * width, 1, 1, 0, has_bias=has_bias, name=f"{prefix}.conv3", bn_name=f"{prefix}.bn3")
    if stride != 1 or x.shape[-1] != 4 * width:
        x = g.conv_bn(x, 4 * width, 1, stride, 0, has_bias=has_bias, name=f"{prefix}.downsample.0",
                      bn_name=f"{prefix}.downsample.1")
    return g.add(out, x, f"{prefix}.add")


def resnet(depth: int, input_shape: Sequence[int], bias: bool = True, *, keras: bool = False,
           stride_on_3x3: bool = False, classes: int = 1000) -> list[LayerRow]:
    """Rows of ResNet-``depth``. ``keras``: convolution biases and BatchNorm statistics counted (Keras);
    ``stride_on_3x3``: torchvision's v1.5 bottleneck. Row names follow torchvision's module names."""
    block, counts = DEPTHS[depth]
    g = Graph(input_shape, bias=bias, bn_stats=keras)
    x = g.conv_bn(g.input, 64, 7, 2, 3, has_bias=keras, name="conv1", bn_name="bn1")
    x = g.pool(x, 3, 2, 1, name="maxpool")
    for stage, (width, n) in enumerate(zip(WIDTHS, counts), start=1):
        for i in range(n):
            stride = 2 if stage > 1 and i == 0 else 1
            prefix = f"layer{stage}.{i}"
            if block == "basic":
                x = _basic(g, x, width, stride, prefix, keras)
            else:
                x = _bottleneck(g, x, width, stride, prefix, keras, stride_on_3x3)
    x = g.global_pool(x)
    g.fc(x, classes)
    return g.rows
