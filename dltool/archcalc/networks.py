"""Built-in networks by name: AlexNet (three layouts) and VGG-11/13/16/19, with published totals beside them;
ResNet, GoogLeNet, MobileNet v1/v2, DenseNet-121 and SqueezeNet come from ``families`` (evidence there).

Evidence for the numbers (each one asserted in tests/unit/test_archcalc.py):

* VGG (Simonyan & Zisserman 2015, Table 1 configurations A, B, D, E at 224x224x3; 3x3 convs with stride 1 and
  padding 1, 2x2 max-pools with stride 2, FC-4096, FC-4096, FC-1000). Parameter counts equal Keras
  ``keras.applications.VGG16/VGG19`` ``count_params()`` and torchvision ``vgg11/13/16/19``:
  VGG11 132,863,336 · VGG13 133,047,848 · VGG16 138,357,544 · VGG19 143,667,240 (paper Table 2: 133, 133, 138,
  144 million). VGG19 without biases: 143,652,544. torchvision's model table lists 7.61 / 11.31 / 15.47 / 19.63
  "GFLOPS" for them; those figures are multiply-accumulates and equal our MACs (7.609 / 11.308 / 15.470 /
  19.632 x 10^9). No adaptive pool row: at 224x224 torchvision's AdaptiveAvgPool2d(7) is the identity and Keras
  has none.
* AlexNet paper layout (Krizhevsky et al. 2012): conv 96-11x11/4, 256-5x5 (pad 2), 384-3x3, 384-3x3, 256-3x3
  (pad 1), LRN after conv1 and conv2, 3x3/2 overlapping max-pools, FC 4096-4096-1000. conv2, conv4 and conv5 are
  split over two GPUs (each filter sees half of the input channels: groups=2). The input is 227x227x3 (the paper
  writes 224, but (224-11)/4+1 is not an integer; Caffe's bvlc_alexnet uses 227 and the same groups).
  Total 60,965,224 (the paper: "60 million parameters"). Ungrouped, the same widths give 62,378,344.
* torchvision ``alexnet`` (the "one weird trick" widths, Krizhevsky 2014): 64-192-384-256-256, 224x224 input,
  conv1 11x11 stride 4 pad 2, no LRN, AdaptiveAvgPool2d(6). Total 61,100,840, 0.71 "GFLOPS" (= MACs, 0.714 G).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from dltool.archcalc import families
from dltool.archcalc.core import (
    FC,
    LRN,
    AdaptiveAvgPool,
    Conv,
    LayerRow,
    LayerSpec,
    NetworkReport,
    Pool,
    Reference,
    Shape,
    analyze,
    check_shape,
)
from dltool.errors import UsageError

TORCHVISION_MACS_SOURCE = "torchvision model table 'GFLOPS' column (counts multiply-accumulates)"


@dataclass(frozen=True)
class NetworkDef:
    """A named built-in network. Sequential ones (VGG, AlexNet) give ``layers``: specs as a function of nothing
    (specs do not depend on input size); branching ones (``families``: ResNet, GoogLeNet, ...) give ``graph``:
    (input shape, count biases) -> rows. ``family``: 'vgg', 'resnet', ... (``networks_by_family``)."""

    name: str
    description: str
    default_input: Shape
    layers: Callable[[], list[LayerSpec]] | None = None
    reference: Reference | None = None
    notes: tuple[str, ...] = ()
    graph: Callable[[Shape, bool], list[LayerRow]] | None = None
    family: str = ""


# ---------------------------------------------------------------------------------------------------------
# VGG
# ---------------------------------------------------------------------------------------------------------

# Simonyan & Zisserman 2015, Table 1. Numbers are 3x3 conv widths, "M" a 2x2/2 max-pool.
VGG_CONFIGS: dict[str, tuple[str, list[int | str]]] = {
    "vgg11": ("A", [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]),
    "vgg13": ("B", [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]),
    "vgg16": ("D", [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]),
    "vgg19": (
        "E",
        [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
    ),
}


def _vgg_layers(config: list[int | str]) -> list[LayerSpec]:
    layers: list[LayerSpec] = []
    for item in config:
        if item == "M":
            layers.append(Pool(2, 2))
        else:
            layers.append(Conv(int(item), 3, 1, padding=1))
    layers += [FC(4096), FC(4096), FC(1000)]
    return layers


_VGG_REFERENCE = {
    "vgg11": (132_863_336, "torchvision vgg11 (paper Table 2: 133 M)", 7.61),
    "vgg13": (133_047_848, "torchvision vgg13 (paper Table 2: 133 M)", 11.31),
    "vgg16": (138_357_544, "Keras Applications docs / torchvision vgg16 (paper Table 2: 138 M)", 15.47),
    "vgg19": (143_667_240, "Keras Applications docs / torchvision vgg19 (paper Table 2: 144 M)", 19.63),
}

# ---------------------------------------------------------------------------------------------------------
# AlexNet
# ---------------------------------------------------------------------------------------------------------


def _alexnet_paper(groups: int) -> list[LayerSpec]:
    g = f"/g{groups}" if groups > 1 else ""
    return [
        Conv(96, 11, 4, padding="valid", name="CONV11-96/s4"),
        LRN(5),
        Pool(3, 2),
        Conv(256, 5, 1, padding=2, groups=groups, name=f"CONV5-256{g}"),
        LRN(5),
        Pool(3, 2),
        Conv(384, 3, 1, padding=1),  # conv3 sees both GPUs' maps: never grouped
        Conv(384, 3, 1, padding=1, groups=groups, name=f"CONV3-384{g}"),
        Conv(256, 3, 1, padding=1, groups=groups, name=f"CONV3-256{g}"),
        Pool(3, 2),
        FC(4096),
        FC(4096),
        FC(1000),
    ]


def _alexnet_torchvision() -> list[LayerSpec]:
    return [
        Conv(64, 11, 4, padding=2, name="CONV11-64/s4"),
        Pool(3, 2),
        Conv(192, 5, 1, padding=2),
        Pool(3, 2),
        Conv(384, 3, 1, padding=1),
        Conv(256, 3, 1, padding=1),
        Conv(256, 3, 1, padding=1),
        Pool(3, 2),
        AdaptiveAvgPool(6),
        FC(4096),
        FC(4096),
        FC(1000),
    ]


_ALEXNET_NOTE = "Input 227x227x3: the paper writes 224, but only 227 gives its 55x55 conv1 maps ((227-11)/4+1)."

NETWORKS: dict[str, NetworkDef] = {
    "alexnet": NetworkDef(
        name="alexnet",
        description="AlexNet as in the paper: two-GPU grouped conv2/4/5 (groups=2), LRN, 227x227x3",
        default_input=(227, 227, 3),
        layers=lambda: _alexnet_paper(groups=2),
        reference=Reference(
            60_965_224,
            "Caffe bvlc_alexnet (same groups, 227x227); Krizhevsky et al. 2012: '60 million parameters'",
        ),
        notes=(_ALEXNET_NOTE,),
        family="alexnet",
    ),
    "alexnet-ungrouped": NetworkDef(
        name="alexnet-ungrouped",
        description="AlexNet paper widths on one device (no grouping), LRN, 227x227x3",
        default_input=(227, 227, 3),
        layers=lambda: _alexnet_paper(groups=1),
        reference=Reference(62_378_344, "widely quoted count of the ungrouped AlexNet (no official release)"),
        notes=(_ALEXNET_NOTE,),
        family="alexnet",
    ),
    "alexnet-torchvision": NetworkDef(
        name="alexnet-torchvision",
        description="torchvision alexnet: 64-192-384-256-256, 224x224x3, adaptive avgpool to 6x6",
        default_input=(224, 224, 3),
        layers=_alexnet_torchvision,
        reference=Reference(61_100_840, "torchvision alexnet", 0.71, TORCHVISION_MACS_SOURCE),
        family="alexnet",
    ),
}
# Report 004 (Problem 3.2, Table 1) heads the VGG19 parameter column "Parameters (Compute)". The column holds
# weights, which cost memory; the compute of a layer is its multiply-accumulates (the MACs column).
_VGG_NOTES = {
    "vgg19": ("Report 004's Table 1 (VGG19) heads its parameter column \"Parameters (Compute)\"; parameters are "
              "not compute: VGG19's compute is its MACs, 19.63 G per image (the MACs column).",),
}

for _name, (_letter, _config) in VGG_CONFIGS.items():
    _params, _source, _gmacs = _VGG_REFERENCE[_name]
    NETWORKS[_name] = NetworkDef(
        name=_name,
        description=f"VGG configuration {_letter} (Simonyan & Zisserman 2015), 224x224x3",
        default_input=(224, 224, 3),
        layers=(lambda config=_config: _vgg_layers(config)),
        reference=Reference(_params, _source, _gmacs, TORCHVISION_MACS_SOURCE),
        notes=_VGG_NOTES.get(_name, ()),
        family="vgg",
    )

# The ImageNet families (ResNet, GoogLeNet, MobileNet, DenseNet, SqueezeNet): see ``families``.
for _builtin in families.BUILTINS.values():
    NETWORKS[_builtin.name] = NetworkDef(
        name=_builtin.name,
        description=_builtin.description,
        default_input=_builtin.default_input,
        reference=_builtin.reference,
        notes=_builtin.notes,
        graph=_builtin.rows,
        family=_builtin.family,
    )

# Other spellings that mean the same network.
ALIASES: dict[str, str] = {
    "alexnet-paper": "alexnet",
    "alexnet-grouped": "alexnet",
    "vgg-a": "vgg11",
    "vgg-b": "vgg13",
    "vgg-d": "vgg16",
    "vgg-e": "vgg19",
    **families.ALIASES,
}


def _key(name: str) -> str:
    """Case, '-', '_' and spaces do not matter: 'VGG_19' == 'vgg19'."""
    return re.sub(r"[\s_\-]", "", name.lower())


_LOOKUP: dict[str, str] = {_key(n): n for n in NETWORKS}
_LOOKUP.update({_key(a): n for a, n in ALIASES.items()})


def known_names() -> list[str]:
    return list(NETWORKS)


def networks_by_family() -> dict[str, list[str]]:
    """{'alexnet': [...], 'vgg': [...], 'resnet': ['resnet18', ...], ...}: every built-in, grouped, in order."""
    out: dict[str, list[str]] = {}
    for name, net in NETWORKS.items():
        out.setdefault(net.family, []).append(name)
    return out


def resolve_name(name: str) -> str:
    """Canonical network name, or UsageError naming the closest known one."""
    key = _key(str(name))
    if key in _LOOKUP:
        return _LOOKUP[key]
    candidates = list(NETWORKS) + list(ALIASES)
    close = difflib.get_close_matches(str(name).lower(), candidates, n=1, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(key, list(_LOOKUP), n=1, cutoff=0.5)
        close = [_LOOKUP[c] for c in close]
    suggestion = f"Did you mean '{close[0]}'? " if close else ""
    raise UsageError(
        f"Unknown network '{name}'",
        hint=f"{suggestion}Known networks: {', '.join(NETWORKS)}.",
    )


_INPUT_RE = re.compile(r"^\s*(\d+)\s*[x×X*,]\s*(\d+)\s*(?:[x×X*,]\s*(\d+)\s*)?$")


def parse_input(text: str) -> Shape:
    """'224x224x3' -> (224, 224, 3). 'HxW' means three channels. 'x', 'X', '×', '*' or ',' separate."""
    if not isinstance(text, str):
        raise UsageError(f"Input shape must be a string like 224x224x3, got {text!r}")
    m = _INPUT_RE.match(text)
    if not m:
        raise UsageError(
            f"Cannot read input shape '{text}'",
            hint="Write it as HxWxC with positive integers, e.g. --input 224x224x3.",
        )
    h, w, c = int(m.group(1)), int(m.group(2)), int(m.group(3) or 3)
    if min(h, w, c) < 1:
        raise UsageError(
            f"Input shape '{text}' has a zero size",
            hint="Every size must be at least 1, e.g. --input 224x224x3.",
        )
    return (h, w, c)


def _as_shape(input_shape: str | Sequence[int]) -> Shape:
    if isinstance(input_shape, str):
        return parse_input(input_shape)
    shape = check_shape(tuple(input_shape), "input")
    if len(shape) != 3:
        raise UsageError(
            f"Input shape must have three sizes (H, W, C), got {len(shape)}",
            hint="Write it as HxWxC, e.g. --input 224x224x3.",
        )
    return shape


def _analyze(net: NetworkDef, shape: Shape, bias: bool, reference: Reference | None = None,
             notes: Sequence[str] = ()) -> NetworkReport:
    if net.graph is None:
        return analyze(net.name, shape, net.layers(), bias, reference, notes)
    try:
        rows = net.graph(shape, bias)
    except UsageError as err:  # say which network it happened in
        err.message = f"{net.name} {err.message}"
        err.args = (err.message,)
        raise
    return NetworkReport(name=net.name, input_shape=tuple(shape), bias=bias, rows=rows, reference=reference,
                         notes=list(notes))


def _smallest_side(net: NetworkDef, channels: int, bias: bool) -> int | None:
    """Smallest square input the network accepts (for the hint when an input is too small)."""
    for side in range(1, 1025):
        try:
            _analyze(net, (side, side, channels), bias)
        except UsageError:
            continue
        return side
    return None


def build(name: str, input_shape: str | Sequence[int] | None = None, bias: bool = True) -> NetworkReport:
    """Report of a built-in network. ``input_shape``: (H, W, C) or 'HxWxC'; default the network's own.

    The published reference is attached only when the configuration is the published one (default input and
    biases); otherwise ``reference`` is None and a note says why.
    """
    net = NETWORKS[resolve_name(name)]
    shape = net.default_input if input_shape is None else _as_shape(input_shape)
    notes = list(net.notes) if shape == net.default_input else []
    reference = net.reference
    if reference is not None and (shape != net.default_input or not bias):
        why = []
        if shape != net.default_input:
            why.append(f"input {'x'.join(map(str, shape))} instead of {'x'.join(map(str, net.default_input))}")
        if not bias:
            why.append("no biases")
        notes.append(f"Published total ({reference.params:,}, {reference.source}) not shown: {', '.join(why)}.")
        reference = None
    try:
        return _analyze(net, shape, bias, reference, notes)
    except UsageError as err:
        side = _smallest_side(net, shape[2], bias)
        if side is not None and err.hint and "larger input" in err.hint:
            err.hint = f"{net.name} needs an input of at least {side}x{side}x{shape[2]}; use --input to set one."
        raise
