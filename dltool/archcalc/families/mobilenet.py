"""MobileNet v1 (Howard et al. 2017, Table 1; width 1.0, 224x224x3) and MobileNet v2 (Sandler et al. 2018,
Table 2; width 1.0, 224x224x3).

v1: conv 3x3/2 32, then 13 depthwise-separable blocks (3x3 depthwise + BN, 1x1 pointwise + BN; pointwise widths
64, 128, 128, 256, 256, 512 x6, 1024, 1024; the depthwise 3x3 has stride 2 in blocks 2, 4, 6 and 12), global
average pool, FC-1000. The paper (1.0 MobileNet-224): 569 million mult-adds, 4.2 million parameters. Keras'
``MobileNet`` is the same network (its classifier is a 1x1 convolution with bias on the pooled vector, counted as
the FC here); its ``count_params()`` 4,253,864 also counts BatchNorm's moving mean and variance.

v2: conv 3x3/2 32, 17 inverted-residual blocks (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2)
(6,96,3,1) (6,160,3,2) (6,320,1,1): 1x1 expansion to t*Cin (+BN, left out when t = 1), 3x3 depthwise (+BN),
1x1 linear projection (+BN), residual add when the stride is 1 and Cin = Cout; conv 1x1 1280, global average
pool, FC-1000. No convolution has a bias. torchvision ``mobilenet_v2``: 3,504,872 parameters, "GFLOPS" 0.30
(multiply-accumulates). Keras ``MobileNetV2``: 3,538,984 (the same network; BatchNorm statistics counted, 2 x its
17,056 BatchNorm channels more).

Stride-2 convolutions pad 1 on every side (PyTorch); Keras pads only bottom/right. The output sizes, parameters
and MACs are the same.
"""

from __future__ import annotations

from typing import Sequence

from dltool.archcalc.core import LayerRow
from dltool.archcalc.families.graph import Graph

# v1, Table 1: (pointwise filters, depthwise stride) for the 13 separable blocks.
V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)
# v2, Table 2: expansion t, output channels c, repeats n, first stride s.
V2_SETTINGS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)


def mobilenet_v1(input_shape: Sequence[int], bias: bool = True, *, keras: bool = False,
                 classes: int = 1000) -> list[LayerRow]:
    """Rows of MobileNet v1 1.0; ``keras``: BatchNorm statistics counted (Keras' count_params)."""
    g = Graph(input_shape, bias=bias, bn_stats=keras)
    x = g.conv_bn(g.input, 32, 3, 2, 1, name="conv1", bn_name="conv1.bn")
    for i, (filters, stride) in enumerate(V1_BLOCKS, start=1):
        c = x.shape[-1]
        x = g.conv_bn(x, c, 3, stride, 1, groups=c, name=f"block{i}.dw", bn_name=f"block{i}.dw.bn")
        x = g.conv_bn(x, filters, 1, name=f"block{i}.pw", bn_name=f"block{i}.pw.bn")
    x = g.global_pool(x)
    g.fc(x, classes)
    return g.rows


def mobilenet_v2(input_shape: Sequence[int], bias: bool = True, *, keras: bool = False,
                 classes: int = 1000) -> list[LayerRow]:
    """Rows of MobileNet v2 1.0 (torchvision's module names); ``keras``: BatchNorm statistics counted."""
    g = Graph(input_shape, bias=bias, bn_stats=keras)
    x = g.conv_bn(g.input, 32, 3, 2, 1, name="features.0.conv", bn_name="features.0.bn")
    index = 1
    for t, c, n, s in V2_SETTINGS:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{index}"
            cin = x.shape[-1]
            out = x
            if t != 1:
                out = g.conv_bn(out, cin * t, 1, name=f"{p}.expand", bn_name=f"{p}.expand.bn")
            hidden = out.shape[-1]
            out = g.conv_bn(out, hidden, 3, stride, 1, groups=hidden, name=f"{p}.dw", bn_name=f"{p}.dw.bn")
            out = g.conv_bn(out, c, 1, name=f"{p}.project", bn_name=f"{p}.project.bn")
            x = g.add(out, x, f"{p}.add") if stride == 1 and cin == c else out
            index += 1
    x = g.conv_bn(x, 1280, 1, name=f"features.{index}.conv", bn_name=f"features.{index}.bn")
    x = g.global_pool(x)
    g.fc(x, classes, name="classifier.1")
    return g.rows
