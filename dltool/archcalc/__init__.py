"""Framework-free architecture arithmetic for CNNs: shapes, params, MACs, activations, receptive fields.

Stdlib only at import (``dltool archcalc vgg19`` must not import TensorFlow). The Keras path lives in
``dltool.archcalc.keras_model`` and imports TensorFlow/Keras inside its functions.

    >>> from dltool.archcalc import build
    >>> build("vgg19").total_params
    143667240

Modules: ``core`` (layer rows, NetworkReport, memory), ``networks`` (every built-in network by name, published
totals), ``families`` (ResNet, GoogLeNet, MobileNet, DenseNet, SqueezeNet: one builder module each),
``inception`` (naive vs reduced Inception module,
presets for report 004 and GoogLeNet 3a), ``receptive`` (stacked receptive fields).
"""

from dltool.archcalc.core import (
    DTYPE_BYTES,
    FC,
    LRN,
    AdaptiveAvgPool,
    Conv,
    LayerRow,
    Memory,
    NetworkReport,
    Pool,
    Reference,
    analyze,
    bytes_to_mb,
    bytes_to_mib,
)
from dltool.archcalc.inception import (
    INCEPTION_PRESETS,
    InceptionBranch,
    InceptionComparison,
    InceptionConfig,
    InceptionModule,
    InceptionOp,
    InceptionPreset,
    InceptionReference,
    inception,
    inception_config,
    inception_preset,
)
from dltool.archcalc.networks import (
    NETWORKS,
    NetworkDef,
    build,
    known_names,
    networks_by_family,
    parse_input,
    resolve_name,
)
from dltool.archcalc.receptive import RFStep, StackedRF, receptive_field_steps, stacked_receptive_field

__all__ = [
    "DTYPE_BYTES",
    "FC",
    "INCEPTION_PRESETS",
    "LRN",
    "NETWORKS",
    "AdaptiveAvgPool",
    "Conv",
    "InceptionBranch",
    "InceptionComparison",
    "InceptionConfig",
    "InceptionModule",
    "InceptionOp",
    "InceptionPreset",
    "InceptionReference",
    "LayerRow",
    "Memory",
    "NetworkDef",
    "NetworkReport",
    "Pool",
    "RFStep",
    "Reference",
    "StackedRF",
    "analyze",
    "build",
    "bytes_to_mb",
    "bytes_to_mib",
    "inception",
    "inception_config",
    "inception_preset",
    "known_names",
    "networks_by_family",
    "parse_input",
    "receptive_field_steps",
    "resolve_name",
    "stacked_receptive_field",
]
