"""The classic ImageNet families as built-in networks: one module per family, each a plain builder function
(``resnet.resnet``, ``googlenet.googlenet``, ``mobilenet.mobilenet_v1/v2``, ``densenet.densenet121``,
``squeezenet.squeezenet``) that returns the rows of ``core``; ``graph`` holds the conventions they share.

``BUILTINS`` lists the named networks (``networks.NETWORKS`` registers them beside VGG and AlexNet):

* plain names (``resnet50``, ``googlenet``, ``mobilenetv2`` ...) count parameters as torchvision's
  ``num_params`` does: no convolution bias where the network has BatchNorm, BatchNorm's gamma and beta only;
* ``-keras`` names are the ``keras.applications`` model of the same name, counted as Keras' ``count_params()``
  and its Applications table: BatchNorm's moving mean and variance too (2 non-trainable values per channel) and,
  for ResNet v1, a bias on every convolution. ``keras_application`` names the Keras model each one equals;
* ``resnetN-torchvision`` is torchvision's ResNet v1.5 (stride on the bottleneck's 3x3), plain ``resnetN`` He et
  al.'s v1 (stride on the first 1x1): the same parameters, different MACs.

``PUBLISHED`` holds every published number the tests check (each with its source); the reference column shows
one of them per network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Sequence

from dltool.archcalc.core import LayerRow, Reference, Shape
from dltool.archcalc.families.densenet import densenet121
from dltool.archcalc.families.googlenet import googlenet
from dltool.archcalc.families.mobilenet import mobilenet_v1, mobilenet_v2
from dltool.archcalc.families.resnet import resnet
from dltool.archcalc.families.squeezenet import squeezenet

TORCHVISION = "torchvision model table 'num_params'"
TORCHVISION_MACS = "torchvision model table 'GFLOPS' column (counts multiply-accumulates)"
KERAS = "Keras Applications docs, model table 'Parameters' (keras.io/api/applications)"
HE = "He et al. 2016, Table 1 'FLOPs' (multiply-adds)"
HOWARD = "Howard et al. 2017 (1.0 MobileNet-224: 569 million mult-adds, 4.2 million parameters)"


@dataclass(frozen=True)
class Published:
    """One published number: parameters (exact, or rounded to ``unit``) or multiply-accumulates in 10^9 (``gmacs``,
    rounded to ``unit`` G)."""

    what: str  # "params" or "gmacs"
    value: float
    source: str
    unit: float = 0  # rounding of the published figure; 0 = exact

    def matches(self, ours: float) -> bool:
        if not self.unit:
            return ours == self.value
        return abs(round(ours / self.unit) * self.unit - self.value) < self.unit / 2


@dataclass(frozen=True)
class Builtin:
    name: str
    family: str
    description: str
    rows: Callable[[Sequence[int], bool], list[LayerRow]]  # (input shape, count biases) -> rows
    reference: Reference
    notes: tuple[str, ...] = ()
    keras_application: str | None = None  # the keras.applications model whose count_params() this equals
    published: tuple[Published, ...] = field(default=())
    default_input: Shape = (224, 224, 3)


_BN_NOTE = ("BatchNorm rows: gamma = weights, beta = biases{stats}; 0 MACs. ReLU is in place (no row); add and "
            "concatenation rows count their output as activations.")
_TV_BN = _BN_NOTE.format(stats=" (torchvision's num_params: the 2 trainable values per channel)")
_KERAS_BN = _BN_NOTE.format(stats=", moving mean and variance = other (Keras' count_params(): 2 more, "
                                  "non-trainable, per channel)")

_RESNET_TV_PARAMS = {18: 11_689_512, 34: 21_797_672, 50: 25_557_032, 101: 44_549_160, 152: 60_192_808}
_RESNET_TV_GMACS = {18: 1.81, 34: 3.66, 50: 4.09, 101: 7.80, 152: 11.51}  # v1.5 for 50/101/152
_RESNET_HE_GMACS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}
_RESNET_KERAS_PARAMS = {50: 25_636_712, 101: 44_707_176, 152: 60_419_944}
# torchvision's weights meta '_ops' (the GFLOPS column's value at three decimals), where checked.
_TV_OPS = {depth: (Published("gmacs", ops, f"torchvision resnet{depth} weights meta '_ops'", 0.001),)
           for depth, ops in ((50, 4.089), (101, 7.801))}


def _resnets() -> list[Builtin]:
    out = []
    for depth, params in _RESNET_TV_PARAMS.items():
        he = Published("gmacs", _RESNET_HE_GMACS[depth], HE, 0.1)
        tv_params = Published("params", params, TORCHVISION)
        bottleneck = depth >= 50
        if bottleneck:
            out.append(Builtin(
                f"resnet{depth}", "resnet",
                f"ResNet-{depth} v1 (He et al. 2016: stride on the first 1x1), torchvision's counting, 224x224x3",
                partial(resnet, depth), Reference(params, f"torchvision resnet{depth} (same parameters as v1.5)",
                                                  _RESNET_HE_GMACS[depth], HE),
                (_TV_BN, f"torchvision's resnet{depth} is v1.5 (stride on the 3x3): resnet{depth}-torchvision, "
                         f"{_RESNET_TV_GMACS[depth]} G MACs."),
                published=(tv_params, he)))
            out.append(Builtin(
                f"resnet{depth}-torchvision", "resnet",
                f"torchvision resnet{depth}: ResNet v1.5 (stride on the bottleneck's 3x3), 224x224x3",
                partial(resnet, depth, stride_on_3x3=True),
                Reference(params, f"torchvision resnet{depth}", _RESNET_TV_GMACS[depth], TORCHVISION_MACS),
                (_TV_BN,), published=(tv_params, Published("gmacs", _RESNET_TV_GMACS[depth], TORCHVISION_MACS, 0.01),
                                      *_TV_OPS.get(depth, ()))))
            app = f"ResNet{depth}"
            out.append(Builtin(
                f"resnet{depth}-keras", "resnet",
                f"keras.applications.{app}: v1 with convolution biases, BatchNorm statistics counted, 224x224x3",
                partial(resnet, depth, keras=True),
                Reference(_RESNET_KERAS_PARAMS[depth], KERAS, _RESNET_HE_GMACS[depth], HE),
                (_KERAS_BN, "Every convolution has a bias, as in keras.applications.resnet (use_bias=True)."),
                keras_application=app,
                published=(Published("params", _RESNET_KERAS_PARAMS[depth], KERAS), he)))
        else:
            tv_gmacs = Published("gmacs", _RESNET_TV_GMACS[depth], TORCHVISION_MACS, 0.01)
            out.append(Builtin(
                f"resnet{depth}", "resnet",
                f"ResNet-{depth} (He et al. 2016, basic blocks), as torchvision resnet{depth}, 224x224x3",
                partial(resnet, depth),
                Reference(params, f"torchvision resnet{depth}", _RESNET_TV_GMACS[depth], TORCHVISION_MACS),
                (_TV_BN, f"He et al. 2016, Table 1: {_RESNET_HE_GMACS[depth]} x 10^9 FLOPs (multiply-adds)."),
                published=(tv_params, tv_gmacs, he)))
    return out


def _others() -> list[Builtin]:
    return [
        Builtin("googlenet", "googlenet",
                "GoogLeNet / Inception v1 as torchvision builds it (BN, '5x5' branch 3x3), no aux classifiers",
                googlenet, Reference(6_624_904, "torchvision googlenet (aux_logits=False)", 1.50, TORCHVISION_MACS),
                (_TV_BN, "torchvision's '5x5' branch is a 3x3 convolution (its source: 'a known bug', kept for the "
                         "ported weights); with 5x5 kernels (Szegedy et al. 2015, Table 1): 7,005,832 parameters, "
                         "1.583 G MACs.", "Keras has no GoogLeNet application."),
                published=(Published("params", 6_624_904, TORCHVISION),
                           Published("gmacs", 1.50, TORCHVISION_MACS, 0.01))),
        Builtin("mobilenet", "mobilenet",
                "MobileNet v1 1.0 (Howard et al. 2017), 224x224x3, BatchNorm gamma/beta only",
                mobilenet_v1, Reference(4_200_000, HOWARD, 0.569, HOWARD, params_published_as="4.2M",
                                        params_unit=100_000),
                (_TV_BN, "torchvision has no MobileNet v1; mobilenet-keras is Keras' MobileNet (4,253,864)."),
                published=(Published("params", 4_200_000, HOWARD, 100_000), Published("gmacs", 0.569, HOWARD, 0.001))),
        Builtin("mobilenet-keras", "mobilenet",
                "keras.applications.MobileNet (v1, alpha 1.0): BatchNorm statistics counted, 224x224x3",
                partial(mobilenet_v1, keras=True), Reference(4_253_864, KERAS, 0.569, HOWARD), (_KERAS_BN,),
                keras_application="MobileNet",
                published=(Published("params", 4_253_864, KERAS), Published("gmacs", 0.569, HOWARD, 0.001))),
        Builtin("mobilenetv2", "mobilenet",
                "MobileNet v2 1.0 (Sandler et al. 2018) as torchvision mobilenet_v2, 224x224x3",
                mobilenet_v2, Reference(3_504_872, "torchvision mobilenet_v2", 0.30, TORCHVISION_MACS), (_TV_BN,),
                published=(Published("params", 3_504_872, TORCHVISION),
                           Published("gmacs", 0.30, TORCHVISION_MACS, 0.01))),
        Builtin("mobilenetv2-keras", "mobilenet",
                "keras.applications.MobileNetV2 (alpha 1.0): BatchNorm statistics counted, 224x224x3",
                partial(mobilenet_v2, keras=True), Reference(3_538_984, KERAS, 0.30, TORCHVISION_MACS),
                (_KERAS_BN,), keras_application="MobileNetV2",
                published=(Published("params", 3_538_984, KERAS),)),
        Builtin("densenet121", "densenet",
                "DenseNet-121 (Huang et al. 2017, k = 32, BC) as torchvision densenet121, 224x224x3",
                densenet121, Reference(7_978_856, "torchvision densenet121", 2.83, TORCHVISION_MACS), (_TV_BN,),
                published=(Published("params", 7_978_856, TORCHVISION),
                           Published("gmacs", 2.834, "torchvision densenet121 weights meta '_ops'", 0.001))),
        Builtin("densenet121-keras", "densenet",
                "keras.applications.DenseNet121: BatchNorm statistics counted, 224x224x3",
                partial(densenet121, keras=True), Reference(8_062_504, KERAS, 2.83, TORCHVISION_MACS),
                (_KERAS_BN,), keras_application="DenseNet121",
                published=(Published("params", 8_062_504, KERAS),)),
        Builtin("squeezenet1_0", "squeezenet",
                "SqueezeNet 1.0 (Iandola et al. 2016) as torchvision squeezenet1_0, 224x224x3",
                partial(squeezenet, "1_0"), Reference(1_248_424, "torchvision squeezenet1_0", 0.82, TORCHVISION_MACS),
                ("Every convolution has a bias; no BatchNorm, no FC (a 1x1 convolution to 1000 classes, then global "
                 "average pooling). Max-pools in ceil mode.", "Keras has no SqueezeNet application."),
                published=(Published("params", 1_248_424, TORCHVISION),
                           Published("gmacs", 0.819, "torchvision squeezenet1_0 weights meta '_ops'", 0.001))),
        Builtin("squeezenet1_1", "squeezenet",
                "SqueezeNet 1.1 (the SqueezeNet repository's v1.1) as torchvision squeezenet1_1, 224x224x3",
                partial(squeezenet, "1_1"), Reference(1_235_496, "torchvision squeezenet1_1", 0.35, TORCHVISION_MACS),
                ("Every convolution has a bias; no BatchNorm, no FC. Max-pools in ceil mode.",
                 "Keras has no SqueezeNet application."),
                published=(Published("params", 1_235_496, TORCHVISION),
                           Published("gmacs", 0.349, "torchvision squeezenet1_1 weights meta '_ops'", 0.001))),
    ]


BUILTINS: dict[str, Builtin] = {b.name: b for b in _resnets() + _others()}

# Other spellings of the same networks (case, '-', '_' and spaces never matter).
ALIASES: dict[str, str] = {
    "inception-v1": "googlenet",
    "inceptionv1": "googlenet",
    "mobilenet-v1": "mobilenet",
    "mobilenetv1": "mobilenet",
    "mobilenetv1-keras": "mobilenet-keras",
    "squeezenet": "squeezenet1_0",
    "squeezenet1.0": "squeezenet1_0",
    "squeezenet1.1": "squeezenet1_1",
    "squeezenet-v1.0": "squeezenet1_0",
    "squeezenet-v1.1": "squeezenet1_1",
}
for _depth in (50, 101, 152):
    ALIASES[f"resnet{_depth}-v1.5"] = f"resnet{_depth}-torchvision"

__all__ = ["ALIASES", "BUILTINS", "Builtin", "Published"]
