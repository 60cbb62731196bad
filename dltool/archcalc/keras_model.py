"""The same NetworkReport for a Keras model: a ``keras.applications`` model by name or a saved ``.keras`` file.

TensorFlow/Keras are imported inside the functions only (``import tensorflow`` costs seconds; the built-in
networks must not pay it).

How layers are counted (one row per call of a layer in the model graph, in graph order):

* Conv2D (groups, strides, dilation), DepthwiseConv2D (groups = Cin, filters = Cin*depth_multiplier),
  SeparableConv2D (depthwise + 1x1 pointwise in one row), Dense (on the last axis), Max/AveragePooling2D:
  the same row builders as the built-in networks (``core``).
* BatchNormalization: gamma -> weights, beta -> biases, moving mean and variance -> ``other_params``; 0 MACs
  (foldable into the preceding convolution at inference). LayerNormalization: gamma/beta likewise.
* LayerScale, PReLU: their per-channel scales are weights; 0 MACs.
* Parameter-free layers (activations, dropout, add, concatenate, flatten, reshape, padding, rescaling...): a row
  with the output size; ``activations`` therefore counts every layer's output, an upper bound of what must be
  stored.
* Anything else: params from ``layer.count_params()`` (as ``other_params``), MACs 0, and the row says so.
* Nested models are expanded (their rows are prefixed with the model's name).
* ``bias=False`` drops the Conv/Dense biases from the counts (BatchNorm betas stay).

Reference column: the parameter counts Keras publishes for its applications (``PUBLISHED_PARAMS``: the model table
of the Keras Applications documentation, https://keras.io/api/applications/, "Parameters" column). The exact
counts stand in that table's source, keras-team/keras-io ``templates/api/applications/index.md``, and in the
Keras 2 docs before it; the rendered page now rounds them ("25.6M"). EfficientNetV2 is listed only rounded
(``PUBLISHED_PARAMS_ROUNDED``, "7.2M"): its reference is that figure, matched at its rounding. The counts hold
for the model as published: default input size, ``include_top=True``, 1000 classes, biases counted. A model
the table does not list (ConvNeXt, MobileNetV3 ...) and a saved ``.keras`` file get no reference: the model's
own ``count_params()`` is not one (it would check Keras against itself). It still serves as a consistency
check: a note says when our row-by-row total differs from it.

Evidence: tests/unit/test_archcalc.py builds each listed application with ``weights=None`` (offline) and asserts
that our row-by-row total equals the published count (ResNet50 25,636,712; DenseNet121 8,062,504; MobileNet
4,253,864; EfficientNetB0 5,330,571; VGG16 138,357,544; all 26 exact rows and the 7 rounded ones agree under
Keras 3.15), and checks every row's output shape against Keras's.
"""

from __future__ import annotations

import difflib
import os
import re
import types
from typing import Any, Sequence

from dltool.archcalc.core import (
    KIND_BATCHNORM,
    KIND_DEPTHWISE,
    KIND_GLOBAL_POOL,
    KIND_OTHER,
    KIND_SEPARABLE,
    KIND_UNKNOWN,
    LayerRow,
    NetworkReport,
    Reference,
    RFState,
    _act_formula,
    _params_formula,
    _prod,
    _rf_fields,
    conv_row,
    fc_row,
    fmt,
    input_row,
    pool_row,
)
from dltool.errors import UsageError

KERAS_APPLICATIONS_SOURCE = "Keras Applications docs, model table 'Parameters' (keras.io/api/applications)"

# Published parameter counts of keras.applications models (include_top=True, 1000 classes, default input), as
# the Keras Applications documentation lists them. Only models listed there; never filled from count_params().
PUBLISHED_PARAMS: dict[str, int] = {
    "Xception": 22_910_480,
    "VGG16": 138_357_544,
    "VGG19": 143_667_240,
    "ResNet50": 25_636_712,
    "ResNet101": 44_707_176,
    "ResNet152": 60_419_944,
    "ResNet50V2": 25_613_800,
    "ResNet101V2": 44_675_560,
    "ResNet152V2": 60_380_648,
    "InceptionV3": 23_851_784,
    "InceptionResNetV2": 55_873_736,
    "MobileNet": 4_253_864,
    "MobileNetV2": 3_538_984,
    "DenseNet121": 8_062_504,
    "DenseNet169": 14_307_880,
    "DenseNet201": 20_242_984,
    "NASNetMobile": 5_326_716,
    "NASNetLarge": 88_949_818,
    "EfficientNetB0": 5_330_571,
    "EfficientNetB1": 7_856_239,
    "EfficientNetB2": 9_177_569,
    "EfficientNetB3": 12_320_535,
    "EfficientNetB4": 19_466_823,
    "EfficientNetB5": 30_562_527,
    "EfficientNetB6": 43_265_143,
    "EfficientNetB7": 66_658_687,
}
# Models the same table lists only with a rounded count (one decimal of a million).
PUBLISHED_PARAMS_ROUNDED: dict[str, str] = {
    "EfficientNetV2B0": "7.2M",
    "EfficientNetV2B1": "8.2M",
    "EfficientNetV2B2": "10.2M",
    "EfficientNetV2B3": "14.5M",
    "EfficientNetV2S": "21.6M",
    "EfficientNetV2M": "54.4M",
    "EfficientNetV2L": "119.0M",
}


def published_reference(app: str | None, input_shape: Sequence[int] | None, bias: bool) -> tuple[Reference | None, str]:
    """The published count of application ``app`` for this configuration, or None and a note saying why not."""
    if app is None:
        return None, "Reference: none (a saved model has no published parameter count)."
    if app in PUBLISHED_PARAMS:
        reference = Reference(PUBLISHED_PARAMS[app], KERAS_APPLICATIONS_SOURCE)
    elif app in PUBLISHED_PARAMS_ROUNDED:
        text = PUBLISHED_PARAMS_ROUNDED[app]
        reference = Reference(round(float(text.rstrip("M")) * 10) * 100_000, KERAS_APPLICATIONS_SOURCE + ", rounded",
                              params_published_as=text, params_unit=100_000)
    else:
        return None, (f"Reference: none (the Keras Applications table lists no parameter count for {app}; "
                      "Keras' own count_params() is not shown as one).")
    why = []
    if input_shape is not None:
        why.append(f"--input {'x'.join(map(str, input_shape))} given (the table is for the default input)")
    if not bias:
        why.append("no biases")
    if why:
        return None, (f"Published total ({reference.params_text()}, {reference.source}) not shown: "
                      f"{', '.join(why)}.")
    return reference, ""


# Layers with no parameters whose output lines up pixel for pixel with their inputs: the receptive field passes
# through (the largest of the inputs' for merges).
_PASS_THROUGH = {
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",
    "Dropout",
    "SpatialDropout2D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Rescaling",
    "Normalization",
    "ZeroPadding2D",
    "Cropping2D",
    "Identity",
    "ActivityRegularization",
}
# Per-channel (or per-element) scale layers: receptive field passes through, their parameters are weights.
_ELEMENTWISE_SCALES = {"LayerScale", "PReLU"}
# Parameter-free layers that reshape: after them the receptive field is the whole input.
_FLATTENING = {"Flatten", "Reshape", "Permute", "RepeatVector"}


def _keras():
    try:
        import keras  # noqa: PLC0415 (lazy on purpose: seconds of import time)
    except ImportError as err:  # pragma: no cover - the venv has it
        raise UsageError(
            f"Keras models need TensorFlow/Keras, which cannot be imported ({err})",
            hint="Install tensorflow, or use a built-in network (alexnet, vgg16, ...).",
        ) from None
    return keras


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.lower())


# The model constructors of ``keras.applications`` (Keras 3.15), known without importing Keras: an unknown name
# and its "did you mean" are answered without TensorFlow's seconds of import. tests/unit/test_archcalc.py checks
# this list against ``keras_application_names()``, so a Keras that adds or drops one fails the test.
APPLICATION_NAMES: tuple[str, ...] = (
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
    "DenseNet121", "DenseNet169", "DenseNet201",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5",
    "EfficientNetB6", "EfficientNetB7",
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2L",
    "EfficientNetV2M", "EfficientNetV2S",
    "InceptionResNetV2", "InceptionV3",
    "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small",
    "NASNetLarge", "NASNetMobile",
    "ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2", "ResNet50", "ResNet50V2",
    "VGG16", "VGG19",
    "Xception",
)


def application_names() -> list[str]:
    """The model constructors of ``keras.applications`` (ResNet50, MobileNetV2, ...), from the static list: no
    TensorFlow import."""
    return list(APPLICATION_NAMES)


def keras_application_names() -> list[str]:
    """The model constructors that the installed ``keras.applications`` has (imports Keras): what
    ``APPLICATION_NAMES`` must equal."""
    keras = _keras()
    return sorted(
        n
        for n in dir(keras.applications)
        if n[:1].isupper()
        and callable(getattr(keras.applications, n))
        and not isinstance(getattr(keras.applications, n), types.ModuleType)
    )


def resolve_application(name: str) -> str:
    """Case-insensitive match among keras.applications constructors ('resnet50' -> 'ResNet50'), without
    importing Keras."""
    names = application_names()
    lookup = {_norm(n): n for n in names}
    key = _norm(name)
    if key in lookup:
        return lookup[key]
    close = difflib.get_close_matches(key, list(lookup), n=1, cutoff=0.5)
    suggestion = f"Did you mean '{lookup[close[0]]}'? " if close else ""
    raise UsageError(
        f"Unknown Keras application '{name}'",
        hint=f"{suggestion}Known: {', '.join(names)}; or give a path to a .keras file.",
    )


def _looks_like_path(name: str) -> bool:
    return name.endswith((".keras", ".h5")) or os.sep in name or os.path.exists(name)


def load_model(name_or_path: str, input_shape: Sequence[int] | None = None):
    """(model, label, application name or None): a keras.applications model (weights=None) or a saved file."""
    keras = _keras()
    if _looks_like_path(name_or_path):
        if not os.path.exists(name_or_path):
            raise UsageError(f"No such model file: {name_or_path}", hint="Check the path, or give a network name.")
        try:
            model = keras.models.load_model(name_or_path, compile=False)
        except Exception as err:  # noqa: BLE001 - any load failure is bad input to the user
            raise UsageError(
                f"Cannot load Keras model {name_or_path}: "
                f"{str(err).splitlines()[0] if str(err) else type(err).__name__}",
                hint="Give a model saved with model.save('name.keras') whose layers are all built-in Keras layers.",
            ) from None
        if input_shape is not None:
            have = tuple(model.inputs[0].shape[1:]) if model.inputs else None
            if have != tuple(input_shape):
                raise UsageError(
                    f"A saved model has a fixed input shape ({'x'.join(map(str, have or ()))})",
                    hint="Leave out --input for .keras files.",
                )
        return model, os.path.basename(name_or_path), None
    app = resolve_application(name_or_path)
    kwargs: dict[str, Any] = {"weights": None}
    if input_shape is not None:
        kwargs["input_shape"] = tuple(input_shape)
    try:
        model = getattr(keras.applications, app)(**kwargs)
    except ValueError as err:
        raise UsageError(
            f"keras.applications.{app} rejects input shape {'x'.join(map(str, input_shape or ()))}: "
            f"{str(err).splitlines()[0]}",
            hint="Use a larger input, or leave out --input for the application's own size.",
        ) from None
    return model, app, app


# ---------------------------------------------------------------------------------------------------------
# Graph walk
# ---------------------------------------------------------------------------------------------------------


def _shape(tensor) -> tuple[int, ...]:
    dims = tuple(tensor.shape[1:])
    if any(d is None for d in dims):
        raise UsageError(
            f"Tensor {getattr(tensor, 'name', '?')} has an undefined size {dims}",
            hint="Build the model with a fixed input shape, e.g. keras.Input((224, 224, 3)).",
        )
    return tuple(int(d) for d in dims)


def _functional(model):
    """The Functional graph of a model (a Sequential model keeps one in ``_functional``), or None."""
    if hasattr(model, "_nodes_by_depth"):
        return model
    inner = getattr(model, "_functional", None)
    if inner is not None and hasattr(inner, "_nodes_by_depth"):
        return inner
    return None


def _merge_rf(rfs: list[RFState | None]) -> RFState | None:
    if not rfs or any(r is None for r in rfs):
        return None
    return RFState(max(r.rh for r in rfs), max(r.rw for r in rfs), max(r.jh for r in rfs), max(r.jw for r in rfs))


def _generic_row(
    name: str,
    kind: str,
    in_shape: tuple[int, ...] | None,
    out_shapes: list[tuple[int, ...]],
    rf: RFState | None,
    *,
    weights: int = 0,
    biases: int = 0,
    other: int = 0,
    detail: str = "",
    note: str = "",
    weights_formula: str = "0",
    biases_formula: str = "0",
) -> LayerRow:
    out = out_shapes[0]
    acts = sum(_prod(s) for s in out_shapes)
    return LayerRow(
        name=name,
        kind=kind,
        input_shape=in_shape,
        output_shape=out,
        activations=acts,
        weights=weights,
        biases=biases,
        params=weights + biases + other,
        macs=0,
        detail=detail,
        shape_formula="x".join(map(str, out)),
        activations_formula=_act_formula(out) if len(out_shapes) == 1 else fmt(acts),
        weights_formula=weights_formula,
        biases_formula=biases_formula,
        params_formula=_params_formula(weights, biases, other),
        macs_formula="0 (not counted)" if kind != KIND_OTHER else "0",
        rf_formula="unchanged" if rf is not None else "whole input",
        other_params=other,
        note=note,
        **_rf_fields(rf),
    )


def _layer_row(layer, in_shapes, out_shapes, rf_in: RFState | None, bias: bool, keras) -> tuple[LayerRow, Any]:
    """One row for one call of ``layer``; returns the row and the receptive-field state of its output."""
    L = keras.layers
    cls = type(layer).__name__
    name = layer.name
    in_shape = in_shapes[0] if in_shapes else None
    channels_last = getattr(layer, "data_format", "channels_last") == "channels_last"
    spatial_in = in_shape is not None and len(in_shape) == 3

    if isinstance(layer, L.SeparableConv2D) and channels_last and spatial_in:
        cin = in_shape[2]
        dm = layer.depth_multiplier
        dw, rf = conv_row(in_shape, rf_in, filters=cin * dm, kernel=layer.kernel_size, stride=layer.strides,
                          padding=layer.padding, groups=cin, dilation=layer.dilation_rate, bias=False, name=name)
        pw, _ = conv_row(dw.output_shape, None, filters=layer.filters, kernel=1, bias=bias and layer.use_bias,
                         name=name)
        weights = dw.weights + pw.weights
        row = LayerRow(
            name=name, kind=KIND_SEPARABLE, input_shape=in_shape, output_shape=pw.output_shape,
            activations=pw.activations, weights=weights, biases=pw.biases, params=weights + pw.biases,
            macs=dw.macs + pw.macs, detail=f"{cls} {dw.detail} + 1x1 pointwise", shape_formula=dw.shape_formula,
            activations_formula=pw.activations_formula,
            weights_formula=f"depthwise {dw.weights_formula} + pointwise {pw.weights_formula}",
            biases_formula=pw.biases_formula, params_formula=_params_formula(weights, pw.biases),
            macs_formula=f"depthwise {dw.macs_formula} + pointwise {pw.macs_formula}", rf_formula=dw.rf_formula,
            receptive_field=dw.receptive_field, receptive_field_w=dw.receptive_field_w, jump=dw.jump,
        )
        return row, rf

    if isinstance(layer, L.DepthwiseConv2D) and channels_last and spatial_in:
        cin = in_shape[2]
        row, rf = conv_row(in_shape, rf_in, filters=cin * layer.depth_multiplier, kernel=layer.kernel_size,
                           stride=layer.strides, padding=layer.padding, groups=cin, dilation=layer.dilation_rate,
                           bias=bias and layer.use_bias, name=name, kind=KIND_DEPTHWISE)
        row.detail = f"{cls} {row.detail}"
        return row, rf

    if isinstance(layer, L.Conv2D) and channels_last and spatial_in:
        row, rf = conv_row(in_shape, rf_in, filters=layer.filters, kernel=layer.kernel_size, stride=layer.strides,
                           padding=layer.padding, groups=layer.groups, dilation=layer.dilation_rate,
                           bias=bias and layer.use_bias, name=name)
        row.detail = f"{cls} {row.detail}"
        return row, rf

    if isinstance(layer, L.Dense) and in_shape is not None:
        use_bias = bias and layer.use_bias
        if len(in_shape) == 1:
            row, rf = fc_row(in_shape, rf_in, units=layer.units, bias=use_bias, name=name)
            row.detail = f"{cls} {row.detail}"
            return row, rf
        # Dense on the last axis of a higher-rank tensor: the same matrix at every position.
        fan_in, positions = in_shape[-1], _prod(in_shape[:-1])
        weights = fan_in * layer.units
        biases = layer.units if use_bias else 0
        out = out_shapes[0]
        row = _generic_row(name, "fc", in_shape, out_shapes, rf_in, weights=weights, biases=biases,
                           detail=f"{cls} on the last axis at {fmt(positions)} positions",
                           weights_formula=f"{fan_in}*{layer.units} = {fmt(weights)}",
                           biases_formula=fmt(biases) if use_bias else "0 (no bias)")
        row.macs = weights * positions
        row.macs_formula = f"{fan_in}*{layer.units}*{_act_formula(out[:-1]).split(' = ')[0]} = {fmt(row.macs)}"
        return row, rf_in

    if isinstance(layer, (L.MaxPooling2D, L.AveragePooling2D)) and channels_last and spatial_in:
        row, rf = pool_row(in_shape, rf_in, kernel=layer.pool_size, stride=layer.strides, padding=layer.padding,
                           mode="max" if isinstance(layer, L.MaxPooling2D) else "avg", name=name)
        row.detail = f"{cls} {row.detail}"
        return row, rf

    if isinstance(layer, (L.GlobalAveragePooling2D, L.GlobalMaxPooling2D)):
        row = _generic_row(name, KIND_GLOBAL_POOL, in_shape, out_shapes, None, detail=cls)
        row.macs_formula = "0 (pooling: comparisons/sums only)"
        return row, None

    if isinstance(layer, (L.BatchNormalization, L.LayerNormalization)):
        axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
        size = _prod([in_shape[a - 1 if a > 0 else a] for a in axes]) if in_shape else 0
        weights = size if layer.scale else 0
        biases = size if layer.center else 0
        other = layer.count_params() - weights - biases
        is_bn = isinstance(layer, L.BatchNormalization)
        row = _generic_row(
            name, KIND_BATCHNORM if is_bn else KIND_OTHER, in_shape, out_shapes, _merge_rf([rf_in]),
            weights=weights, biases=biases, other=other,
            detail=f"{cls}: gamma, beta" + (", moving mean and variance (other)" if other else ""),
            weights_formula=f"{size} (gamma)" if weights else "0",
            biases_formula=f"{size} (beta)" if biases else "0",
        )
        row.macs_formula = "0 (foldable into the previous layer)"
        return row, rf_in

    params = layer.count_params() if hasattr(layer, "count_params") else 0
    if cls in _ELEMENTWISE_SCALES:
        return _generic_row(name, KIND_OTHER, in_shape, out_shapes, rf_in, weights=params, detail=cls,
                            weights_formula=fmt(params)), rf_in
    if cls in _PASS_THROUGH or cls in _FLATTENING:
        rf = rf_in if cls in _PASS_THROUGH and all(len(s) == 3 for s in out_shapes) else None
        note = "parameters counted as other" if params else ""
        return _generic_row(name, KIND_OTHER, in_shape, out_shapes, rf, other=params, detail=cls, note=note), rf

    row = _generic_row(
        name, KIND_UNKNOWN, in_shape, out_shapes, None, other=params, detail=cls,
        note=f"unknown layer type {cls}: params from count_params(), MACs not counted, receptive field not tracked",
    )
    return row, None


def _walk(model, rf_by_tensor: dict[int, RFState | None], bias: bool, keras, prefix: str, rows: list[LayerRow]):
    graph = _functional(model)
    if graph is None:
        raise UsageError(
            f"Model {model.name} is not a built Functional or Sequential model",
            hint="Build it with keras.Input(...) (subclassed models have no layer graph to read).",
        )
    depths = sorted(graph._nodes_by_depth, reverse=True)
    for depth in depths:
        for node in graph._nodes_by_depth[depth]:
            op = node.operation
            if op is None:
                continue
            outs = list(node.outputs)
            if node.is_input:
                for t in outs:
                    if id(t) in rf_by_tensor:  # the input of a nested model: its row is the outer tensor's
                        continue
                    row, rf = input_row(_shape(t), name=prefix + op.name)
                    rows.append(row)
                    rf_by_tensor[id(t)] = rf
                continue
            ins = list(node.input_tensors)
            rf_in = _merge_rf([rf_by_tensor.get(id(t)) for t in ins])
            if _functional(op) is not None and isinstance(op, keras.Model):
                inner = _functional(op)
                for outer_t, inner_t in zip(ins, inner.inputs):
                    rf_by_tensor[id(inner_t)] = rf_by_tensor.get(id(outer_t))
                _walk(op, rf_by_tensor, bias, keras, f"{prefix}{op.name}/", rows)
                for outer_t, inner_t in zip(outs, inner.outputs):
                    rf_by_tensor[id(outer_t)] = rf_by_tensor.get(id(inner_t))
                continue
            in_shapes = [_shape(t) for t in ins]
            out_shapes = [_shape(t) for t in outs]
            row, rf = _layer_row(op, in_shapes, out_shapes, rf_in, bias, keras)
            row.name = prefix + row.name
            if row.output_shape != out_shapes[0]:
                row.note = (row.note + "; " if row.note else "") + (
                    f"computed shape {row.output_shape} differs from Keras {out_shapes[0]}"
                )
            rows.append(row)
            for t in outs:
                rf_by_tensor[id(t)] = rf


def report_from_model(
    model, name: str | None = None, bias: bool = True, reference: Reference | None = None,
    notes: Sequence[str] = (),
) -> NetworkReport:
    """NetworkReport of an already built Keras model; ``reference``: a published total, if there is one."""
    keras = _keras()
    rows: list[LayerRow] = []
    _walk(model, {}, bias, keras, "", rows)
    graph = _functional(model)
    input_shape = _shape(graph.inputs[0])
    keras_count = model.count_params()
    notes = [n for n in notes if n]
    report = NetworkReport(
        name=name or model.name,
        input_shape=input_shape,
        bias=bias,
        rows=rows,
        reference=reference,
        notes=notes,
    )
    if report.total_params != keras_count:  # consistency check against Keras' own count (not a reference)
        notes.append(
            f"Counted {report.total_params:,} parameters, Keras' count_params() says {keras_count:,}"
            + (" (biases left out on request)" if not bias else "")
        )
    unknown = [r.name for r in rows if r.kind == KIND_UNKNOWN]
    if unknown:
        notes.append(f"MACs not counted for unknown layers: {', '.join(unknown)}")
    notes.append("Activations count every layer's output (activation, BatchNorm and merge layers too).")
    return report


def from_keras(name_or_path: str, input_shape: Sequence[int] | str | None = None, bias: bool = True) -> NetworkReport:
    """Report of ``keras.applications.<Name>(weights=None)`` (case-insensitive name) or of a saved .keras file.

    The reference is the count the Keras Applications docs publish for the application (``PUBLISHED_PARAMS``),
    only for the published configuration (default input, biases); otherwise none, and a note says why.
    """
    if isinstance(input_shape, str):
        from dltool.archcalc.networks import parse_input  # noqa: PLC0415

        input_shape = parse_input(input_shape)
    model, label, app = load_model(str(name_or_path), input_shape)
    notes = []
    if app is not None and input_shape is None and any(d is None for d in tuple(model.inputs[0].shape[1:])):
        # Some applications (MobileNetV3) leave their input size open; count them at the usual 224x224x3.
        model, label, app = load_model(str(name_or_path), (224, 224, 3))
        notes.append(f"keras.applications.{app} leaves its input size open: counted at 224x224x3 "
                     "(--input for another).")
    reference, note = published_reference(app, input_shape, bias)
    return report_from_model(model, name=label, bias=bias, reference=reference, notes=[note, *notes])
