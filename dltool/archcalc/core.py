"""Layer arithmetic for CNNs: output shape, weights, biases, activations, MACs and receptive field per layer.

Pure Python (stdlib only) so that ``dltool archcalc`` answers without importing TensorFlow.

Conventions (the ones homework sets and the papers' tables use):

* Shapes are (H, W, C) for feature maps and (N,) after a fully connected layer; one image (batch 1).
* ``weights`` counts kernel entries, ``biases`` one per output channel when ``bias=True``; ``params`` =
  weights + biases + ``other_params`` (other_params is only used by the Keras path: BatchNorm moving statistics,
  layers whose parameters are not classified).
* ``activations`` is the number of output elements of the layer per image. The INPUT row counts the image itself,
  so a network's total includes it (VGG19: 16,542,184 = 150,528 input + 16,391,656 layer outputs).
* ``macs`` is multiply-accumulates per image of convolutions and fully connected layers only:
  conv = (kh*kw*Cin/groups) * Hout*Wout*Cout, FC = fan_in * units. Bias additions, pooling (comparisons / sums),
  LRN and activations count 0. FLOPs are reported separately as 2*MACs.
* Receptive field: the side, in input pixels, of the input window a unit of the layer sees, by the jump
  recursion r_out = r_in + (k_eff - 1) * j_in, j_out = j_in * s, starting from r = 1, j = 1 at the input
  (k_eff = dilation*(k-1)+1). It may exceed the image (VGG19's last conv sees 252 > 224 pixels; the excess is
  padding). Fully connected and global pooling layers see the whole input: their receptive field is ``None``.
  ``receptive_field`` is along the height axis; ``receptive_field_w`` along the width (equal for square kernels).
* Padding: ``'valid'`` (none), ``'same'`` (Keras/TensorFlow rule: Hout = ceil(H/s), pad as needed) or an int p
  added on every side (Hout = floor((H + 2p - k)/s) + 1). A kernel larger than its padded input is an error.

Evidence for the numbers: see ``networks.py`` (VGG/AlexNet totals against Keras, torchvision and Caffe) and
``tests/unit/test_archcalc.py``, which asserts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence, Union

from dltool.errors import UsageError

Shape = tuple[int, ...]
Padding = Union[str, int]

# Bytes per stored value for the memory helpers. fp16 and bf16 both take 2 bytes.
DTYPE_BYTES: dict[str, int] = {
    "fp64": 8,
    "fp32": 4,
    "fp16": 2,
    "bf16": 2,
    "int8": 1,
}
_DTYPE_ALIASES = {
    "float64": "fp64",
    "double": "fp64",
    "float32": "fp32",
    "float": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
}

KIND_INPUT = "input"
KIND_CONV = "conv"
KIND_DEPTHWISE = "depthwise_conv"
KIND_SEPARABLE = "separable_conv"
KIND_POOL = "pool"
KIND_ADAPTIVE_POOL = "adaptive_pool"
KIND_GLOBAL_POOL = "global_pool"
KIND_LRN = "lrn"
KIND_FC = "fc"
KIND_BATCHNORM = "batchnorm"
KIND_OTHER = "other"  # known parameter-free shape layers (activation, add, flatten, padding, ...)
KIND_UNKNOWN = "unknown"  # not understood: params from the framework, MACs not counted


def fmt(n: int) -> str:
    """12345 -> '12,345' (how the formula strings write numbers)."""
    return f"{n:,}"


def _prod_str(parts: Sequence[int]) -> str:
    return "*".join(str(p) for p in parts)


def _prod(parts: Sequence[int]) -> int:
    out = 1
    for p in parts:
        out *= p
    return out


# --------------------------------------------------------------------------------------------------------
# Specs of built-in layers (what a network definition lists)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conv:
    """2-D convolution. ``kernel``/``stride``/``dilation``: int or (h, w). ``groups`` > 1: grouped convolution
    (AlexNet's two-GPU layers use groups=2; groups == Cin == filters/multiplier is depthwise)."""

    filters: int
    kernel: int | tuple[int, int]
    stride: int | tuple[int, int] = 1
    padding: Padding = "same"
    groups: int = 1
    dilation: int | tuple[int, int] = 1
    name: str | None = None


@dataclass(frozen=True)
class Pool:
    """Max or average pooling. ``stride`` defaults to ``kernel`` (non-overlapping)."""

    kernel: int | tuple[int, int]
    stride: int | tuple[int, int] | None = None
    padding: Padding = "valid"
    mode: str = "max"
    name: str | None = None


@dataclass(frozen=True)
class AdaptiveAvgPool:
    """torchvision's AdaptiveAvgPool2d: fixed output size whatever the input size."""

    output_size: int | tuple[int, int]
    name: str | None = None


@dataclass(frozen=True)
class LRN:
    """Local response normalisation across channels (AlexNet): no parameters, shape unchanged."""

    size: int = 5
    name: str | None = None


@dataclass(frozen=True)
class FC:
    """Fully connected layer; a (H, W, C) input is flattened first."""

    units: int
    name: str | None = None


LayerSpec = Union[Conv, Pool, AdaptiveAvgPool, LRN, FC]


# --------------------------------------------------------------------------------------------------------
# Result rows
# --------------------------------------------------------------------------------------------------------


class RFState(NamedTuple):
    """Receptive field (r) and jump (j, the input-pixel distance between neighbouring units) per axis."""

    rh: int
    rw: int
    jh: int
    jw: int


RF_INPUT = RFState(1, 1, 1, 1)


@dataclass
class LayerRow:
    """One layer's numbers per image, with the formulas a homework writes for them."""

    name: str  # "CONV3-64", "POOL2", "FC-4096", "INPUT", ...
    kind: str  # one of the KIND_* constants
    input_shape: Shape | None  # None for the INPUT row
    output_shape: Shape  # (H, W, C) or (N,)
    activations: int  # output elements per image
    weights: int
    biases: int
    params: int  # weights + biases + other_params
    macs: int  # multiply-accumulates per image
    receptive_field: int | None  # along H, input pixels; None = the whole input (FC, global pooling)
    receptive_field_w: int | None  # along W
    jump: int | None  # input pixels between neighbouring output units (cumulative stride), along H
    detail: str = ""  # "3x3, stride 1, pad same", ...
    shape_formula: str = ""
    activations_formula: str = ""
    weights_formula: str = "0"
    biases_formula: str = "0"
    params_formula: str = "0"
    macs_formula: str = "0"
    rf_formula: str = ""
    other_params: int = 0  # BatchNorm moving mean/variance, unknown layers (Keras path)
    note: str = ""  # e.g. "unknown layer: MACs not counted"

    @property
    def flops(self) -> int:
        """2 * MACs (one multiply and one add)."""
        return 2 * self.macs

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "output_shape": list(self.output_shape),
            "activations": self.activations,
            "weights": self.weights,
            "biases": self.biases,
            "other_params": self.other_params,
            "params": self.params,
            "macs": self.macs,
            "flops": self.flops,
            "receptive_field": self.receptive_field,
            "receptive_field_w": self.receptive_field_w,
            "jump": self.jump,
            "detail": self.detail,
            "formulas": {
                "shape": self.shape_formula,
                "activations": self.activations_formula,
                "weights": self.weights_formula,
                "biases": self.biases_formula,
                "params": self.params_formula,
                "macs": self.macs_formula,
                "receptive_field": self.rf_formula,
            },
            "note": self.note,
        }


# --------------------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------------------


def _pair(value: int | Sequence[int], what: str, layer: str, minimum: int = 1) -> tuple[int, int]:
    if isinstance(value, bool):
        raise UsageError(f"{layer}: {what} must be an integer, got {value!r}")
    if isinstance(value, int):
        pair = (value, value)
    else:
        try:
            pair = tuple(int(v) for v in value)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise UsageError(f"{layer}: {what} must be an integer or a pair, got {value!r}") from None
        if len(pair) != 2:
            raise UsageError(f"{layer}: {what} must be an integer or a pair, got {value!r}")
    if min(pair) < minimum:
        raise UsageError(
            f"{layer}: {what} must be >= {minimum}, got {value!r}",
            hint=f"Give a positive {what}." if minimum > 0 else None,
        )
    return pair  # type: ignore[return-value]


def positive(value: int, what: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{layer}: {what} must be a positive integer, got {value!r}")
    return value


def check_shape(shape: Sequence[int], layer: str = "input") -> Shape:
    """Check that every dimension is a positive integer."""
    dims = tuple(shape)
    if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise UsageError(
            f"{layer}: sizes must be positive integers, got {'x'.join(str(d) for d in dims) or 'nothing'}",
            hint="Give the input as HxWxC, e.g. 224x224x3.",
        )
    return dims


def _need_spatial(shape: Shape, layer: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise UsageError(
            f"{layer}: needs an HxWxC input but gets a flat vector of {fmt(_prod(shape))} values",
            hint="Put convolution and pooling layers before the fully connected ones.",
        )
    return shape  # type: ignore[return-value]


def _spatial_out(size: int, k: int, s: int, padding: Padding, axis: str, layer: str) -> tuple[int, str, str]:
    """Output size along one axis, the formula for it, and a short padding label."""
    if padding == "same":
        out = -(-size // s)  # ceil
        formula = f"ceil({size}/{s}) = {out}" if s > 1 else f"{size} (same)"
        return out, formula, "same"
    if padding == "valid":
        p = 0
    elif isinstance(padding, int) and not isinstance(padding, bool):
        if padding < 0:
            raise UsageError(f"{layer}: padding must be >= 0, got {padding}")
        p = padding
    else:
        raise UsageError(
            f"{layer}: padding must be 'same', 'valid' or an integer, got {padding!r}",
        )
    padded = size + 2 * p
    if k > padded:
        pad_txt = f" + 2*{p} = {padded}" if p else ""
        raise UsageError(
            f"{layer}: kernel {k} is larger than its {axis} input {size}{pad_txt}",
            hint="Use a larger input (e.g. --input 224x224x3), a smaller kernel or 'same' padding.",
        )
    out = (padded - k) // s + 1
    inner = f"{size} + 2*{p} - {k}" if p else f"{size} - {k}"
    if s == 1:
        formula = f"{inner} + 1 = {out}"
    elif (padded - k) % s == 0:
        formula = f"({inner})/{s} + 1 = {out}"
    else:
        formula = f"floor(({inner})/{s}) + 1 = {out}"
    return out, formula, ("valid" if p == 0 else f"pad {p}")


def _shape_formula(fh: str, fw: str) -> str:
    return f"H: {fh}" if fh == fw else f"H: {fh}; W: {fw}"


def _kernel_txt(kh: int, kw: int) -> str:
    return f"{kh}*{kw}"


def _rf_step(rf: RFState | None, kh: int, kw: int, sh: int, sw: int) -> tuple[RFState | None, str]:
    if rf is None:
        return None, "whole input"
    rh = rf.rh + (kh - 1) * rf.jh
    rw = rf.rw + (kw - 1) * rf.jw
    new = RFState(rh, rw, rf.jh * sh, rf.jw * sw)
    formula = f"{rf.rh} + ({kh}-1)*{rf.jh} = {rh}"
    if (kh, rf.jh) != (kw, rf.jw):
        formula += f"; W: {rf.rw} + ({kw}-1)*{rf.jw} = {rw}"
    return new, formula


def _rf_fields(rf: RFState | None) -> dict[str, int | None]:
    if rf is None:
        return {"receptive_field": None, "receptive_field_w": None, "jump": None}
    return {"receptive_field": rf.rh, "receptive_field_w": rf.rw, "jump": rf.jh}


def _act_formula(shape: Shape) -> str:
    n = _prod(shape)
    return f"{_prod_str(shape)} = {fmt(n)}" if len(shape) > 1 else fmt(n)


def _params_formula(weights: int, biases: int, other: int = 0) -> str:
    parts = [p for p in (weights, biases, other) if p]
    total = weights + biases + other
    if len(parts) <= 1:
        return fmt(total)
    return " + ".join(fmt(p) for p in parts) + f" = {fmt(total)}"


# --------------------------------------------------------------------------------------------------------
# Row builders: one per layer type. Each takes the input shape and the incoming receptive-field state and
# returns the row and the outgoing state. The Keras path calls them too.
# --------------------------------------------------------------------------------------------------------


def input_row(shape: Sequence[int], name: str = "INPUT") -> tuple[LayerRow, RFState]:
    shape = check_shape(shape, name)
    rf = RF_INPUT if len(shape) == 3 else None
    row = LayerRow(
        name=name,
        kind=KIND_INPUT,
        input_shape=None,
        output_shape=shape,
        activations=_prod(shape),
        weights=0,
        biases=0,
        params=0,
        macs=0,
        detail="the image (counted in total activations)",
        shape_formula="x".join(str(d) for d in shape),
        activations_formula=_act_formula(shape),
        rf_formula="1" if rf else "",
        **_rf_fields(rf),
    )
    return row, rf  # type: ignore[return-value]


def conv_row(
    in_shape: Shape,
    rf: RFState | None,
    *,
    filters: int,
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: Padding = "same",
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
    bias: bool = True,
    name: str | None = None,
    kind: str = KIND_CONV,
) -> tuple[LayerRow, RFState | None]:
    """Convolution (also grouped and depthwise). MACs = weights * Hout * Wout."""
    label = name or "(conv)"
    h, w, cin = _need_spatial(in_shape, label)
    filters = positive(filters, "filters", label)
    groups = positive(groups, "groups", label)
    kh, kw = _pair(kernel, "kernel size", label)
    sh, sw = _pair(stride, "stride", label)
    dh, dw = _pair(dilation, "dilation", label)
    if cin % groups or filters % groups:
        raise UsageError(
            f"{label}: groups={groups} must divide both input channels ({cin}) and filters ({filters})",
        )
    keh, kew = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # effective (dilated) kernel
    ho, fh, pad_label = _spatial_out(h, keh, sh, padding, "height", label)
    wo, fw, _ = _spatial_out(w, kew, sw, padding, "width", label)
    cin_g = cin // groups
    out = (ho, wo, filters)
    weights = kh * kw * cin_g * filters
    biases = filters if bias else 0
    macs = weights * ho * wo
    if groups == 1:
        fan_txt = f"{_kernel_txt(kh, kw)}*{cin}"
    elif groups == cin:
        fan_txt = f"{_kernel_txt(kh, kw)}*1"
    else:
        fan_txt = f"{_kernel_txt(kh, kw)}*{cin}/{groups}"
    new_rf, rf_formula = _rf_step(rf, keh, kew, sh, sw)
    detail = f"{kh}x{kw}, stride {sh if sh == sw else f'{sh}x{sw}'}, {pad_label}"
    if groups > 1:
        detail += f", groups {groups} ({cin}/{groups} = {cin_g} input channels per filter)"
    if (dh, dw) != (1, 1):
        detail += f", dilation {dh if dh == dw else f'{dh}x{dw}'}"
    row = LayerRow(
        name=name or f"CONV{kh if kh == kw else f'{kh}x{kw}'}-{filters}",
        kind=kind,
        input_shape=tuple(in_shape),
        output_shape=out,
        activations=ho * wo * filters,
        weights=weights,
        biases=biases,
        params=weights + biases,
        macs=macs,
        detail=detail,
        shape_formula=_shape_formula(fh, fw),
        activations_formula=_act_formula(out),
        weights_formula=f"({fan_txt})*{filters} = {fmt(weights)}",
        biases_formula=fmt(biases) if bias else "0 (no bias)",
        params_formula=_params_formula(weights, biases),
        macs_formula=f"({fan_txt})*{ho}*{wo}*{filters} = {fmt(macs)}",
        rf_formula=rf_formula,
        **_rf_fields(new_rf),
    )
    return row, new_rf


def pool_row(
    in_shape: Shape,
    rf: RFState | None,
    *,
    kernel: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: Padding = "valid",
    mode: str = "max",
    name: str | None = None,
) -> tuple[LayerRow, RFState | None]:
    """Max/average pooling: no parameters, 0 MACs (comparisons or sums only)."""
    label = name or "(pool)"
    h, w, c = _need_spatial(in_shape, label)
    kh, kw = _pair(kernel, "pool size", label)
    sh, sw = _pair(stride if stride is not None else (kh, kw), "stride", label)
    if mode not in ("max", "avg"):
        raise UsageError(f"{label}: pooling mode must be 'max' or 'avg', got {mode!r}")
    ho, fh, pad_label = _spatial_out(h, kh, sh, padding, "height", label)
    wo, fw, _ = _spatial_out(w, kw, sw, padding, "width", label)
    out = (ho, wo, c)
    new_rf, rf_formula = _rf_step(rf, kh, kw, sh, sw)
    default_name = ("POOL" if mode == "max" else "AVGPOOL") + str(kh if kh == kw else f"{kh}x{kw}")
    if (sh, sw) != (kh, kw):
        default_name += f"/s{sh if sh == sw else f'{sh}x{sw}'}"
    row = LayerRow(
        name=name or default_name,
        kind=KIND_POOL,
        input_shape=tuple(in_shape),
        output_shape=out,
        activations=ho * wo * c,
        weights=0,
        biases=0,
        params=0,
        macs=0,
        detail=f"{mode} {kh}x{kw}, stride {sh if sh == sw else f'{sh}x{sw}'}, {pad_label}",
        shape_formula=_shape_formula(fh, fw),
        activations_formula=_act_formula(out),
        macs_formula="0 (pooling: comparisons/sums only)",
        rf_formula=rf_formula,
        **_rf_fields(new_rf),
    )
    return row, new_rf


def adaptive_avgpool_row(
    in_shape: Shape, rf: RFState | None, *, output_size: int | tuple[int, int], name: str | None = None
) -> tuple[LayerRow, RFState | None]:
    """torchvision AdaptiveAvgPool2d. Window i spans [floor(i*H/O), ceil((i+1)*H/O)); for the receptive field
    we use the largest window and stride floor(H/O) (exact when O divides H; identity when H == O)."""
    label = name or "(adaptive avgpool)"
    h, w, c = _need_spatial(in_shape, label)
    oh, ow = _pair(output_size, "output size", label)
    out = (oh, ow, c)

    def window(size: int, o: int) -> tuple[int, int]:
        k = max(-(-(i + 1) * size // o) - (i * size // o) for i in range(o))
        return k, max(size // o, 1)

    kh, sh = window(h, oh)
    kw, sw = window(w, ow)
    new_rf, rf_formula = _rf_step(rf, kh, kw, sh, sw)
    if h % oh or w % ow:
        rf_formula += " (approximate: uneven windows)"
    row = LayerRow(
        name=name or f"ADAPTIVE-AVGPOOL{oh if oh == ow else f'{oh}x{ow}'}",
        kind=KIND_ADAPTIVE_POOL,
        input_shape=tuple(in_shape),
        output_shape=out,
        activations=oh * ow * c,
        weights=0,
        biases=0,
        params=0,
        macs=0,
        detail=f"average to {oh}x{ow}" + (" (identity at this input size)" if (h, w) == (oh, ow) else ""),
        shape_formula=f"{oh}x{ow} (fixed)",
        activations_formula=_act_formula(out),
        macs_formula="0 (pooling: sums only)",
        rf_formula=rf_formula,
        **_rf_fields(new_rf),
    )
    return row, new_rf


def lrn_row(in_shape: Shape, rf: RFState | None, *, size: int = 5, name: str | None = None):
    """Local response normalisation (across ``size`` neighbouring channels): no parameters, 0 MACs."""
    label = name or "(LRN)"
    positive(size, "LRN size", label)
    out = tuple(in_shape)
    row = LayerRow(
        name=name or "LRN",
        kind=KIND_LRN,
        input_shape=tuple(in_shape),
        output_shape=out,
        activations=_prod(out),
        weights=0,
        biases=0,
        params=0,
        macs=0,
        detail=f"across {size} channels, no parameters",
        shape_formula="unchanged",
        activations_formula=_act_formula(out),
        macs_formula="0 (normalisation not counted)",
        rf_formula="unchanged" if rf else "whole input",
        **_rf_fields(rf),
    )
    return row, rf


def fc_row(
    in_shape: Shape, rf: RFState | None, *, units: int, bias: bool = True, name: str | None = None
) -> tuple[LayerRow, None]:
    """Fully connected layer on the flattened input: weights = MACs = fan_in * units."""
    label = name or "(FC)"
    units = positive(units, "units", label)
    fan_in = _prod(in_shape)
    fan_txt = f"({_prod_str(in_shape)})" if len(in_shape) > 1 else str(fan_in)
    weights = fan_in * units
    biases = units if bias else 0
    row = LayerRow(
        name=name or f"FC-{units}",
        kind=KIND_FC,
        input_shape=tuple(in_shape),
        output_shape=(units,),
        activations=units,
        weights=weights,
        biases=biases,
        params=weights + biases,
        macs=weights,
        detail=f"{fmt(fan_in)} inputs" + (" (flattened)" if len(in_shape) > 1 else ""),
        shape_formula=f"{units}",
        activations_formula=fmt(units),
        weights_formula=f"{fan_txt}*{units} = {fmt(weights)}",
        biases_formula=fmt(biases) if bias else "0 (no bias)",
        params_formula=_params_formula(weights, biases),
        macs_formula=f"{fan_txt}*{units} = {fmt(weights)}",
        rf_formula="whole input",
        **_rf_fields(None),
    )
    return row, None


def spec_row(spec: LayerSpec, in_shape: Shape, rf: RFState | None, bias: bool) -> tuple[LayerRow, Any]:
    """Dispatch a built-in layer spec to its row builder."""
    if isinstance(spec, Conv):
        return conv_row(
            in_shape,
            rf,
            filters=spec.filters,
            kernel=spec.kernel,
            stride=spec.stride,
            padding=spec.padding,
            groups=spec.groups,
            dilation=spec.dilation,
            bias=bias,
            name=spec.name,
        )
    if isinstance(spec, Pool):
        return pool_row(
            in_shape, rf, kernel=spec.kernel, stride=spec.stride, padding=spec.padding, mode=spec.mode, name=spec.name
        )
    if isinstance(spec, AdaptiveAvgPool):
        return adaptive_avgpool_row(in_shape, rf, output_size=spec.output_size, name=spec.name)
    if isinstance(spec, LRN):
        return lrn_row(in_shape, rf, size=spec.size, name=spec.name)
    if isinstance(spec, FC):
        return fc_row(in_shape, rf, units=spec.units, bias=bias, name=spec.name)
    raise TypeError(f"not a layer spec: {spec!r}")


# --------------------------------------------------------------------------------------------------------
# Network report
# --------------------------------------------------------------------------------------------------------


def normalize_dtype(dtype: str) -> str:
    key = str(dtype).strip().lower()
    key = _DTYPE_ALIASES.get(key, key)
    if key not in DTYPE_BYTES:
        raise UsageError(
            f"Unknown dtype {dtype!r}",
            hint=f"Use one of: {', '.join(DTYPE_BYTES)} (or float32, float16, bfloat16).",
        )
    return key


def record(obj: Any, *names: str) -> dict[str, Any]:
    """``to_dict`` of a result object: the named fields and properties in this order, tuples as lists (JSON)."""
    return {n: list(v) if isinstance(v, tuple) else v for n in names for v in [getattr(obj, n)]}


def bytes_to_mb(n: int) -> float:
    """Decimal megabytes (10^6 bytes)."""
    return n / 1e6


def bytes_to_mib(n: int) -> float:
    """Binary mebibytes (2^20 bytes)."""
    return n / 2**20


@dataclass(frozen=True)
class Memory:
    """Memory of parameters and of one forward pass's activations (all layers' outputs kept, as for backprop)."""

    dtype: str
    bytes_per_value: int
    batch_size: int
    params_bytes: int
    activation_bytes: int

    params_mb = property(lambda self: bytes_to_mb(self.params_bytes))
    params_mib = property(lambda self: bytes_to_mib(self.params_bytes))
    activation_mb = property(lambda self: bytes_to_mb(self.activation_bytes))
    activation_mib = property(lambda self: bytes_to_mib(self.activation_bytes))
    total_bytes = property(lambda self: self.params_bytes + self.activation_bytes)
    total_mb = property(lambda self: bytes_to_mb(self.total_bytes))
    total_mib = property(lambda self: bytes_to_mib(self.total_bytes))

    def to_dict(self) -> dict[str, Any]:
        return record(self, "dtype", "bytes_per_value", "batch_size", "params_bytes", "params_mb", "params_mib",
                      "activation_bytes", "activation_mb", "activation_mib", "total_bytes", "total_mb", "total_mib")


@dataclass(frozen=True)
class Reference:
    """A published total to print beside the computed one."""

    params: int
    source: str
    gmacs: float | None = None  # published multiply-accumulates, in 10^9, where one exists
    gmacs_source: str | None = None
    # Where the source prints a rounded count ("7.2M"): its text and rounding step (100_000 for one decimal of M).
    # None: ``params`` is exact.
    params_published_as: str | None = None
    params_unit: int | None = None

    def params_match(self, params: int) -> bool:
        """``params`` equals the published count (at the published rounding, if it is rounded)."""
        if self.params_unit is None:
            return params == self.params
        return round(params / self.params_unit) * self.params_unit == self.params

    def params_text(self) -> str:
        return self.params_published_as or f"{self.params:,}"

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params, "source": self.source, "gmacs": self.gmacs, "gmacs_source": self.gmacs_source,
                "params_published_as": self.params_published_as, "params_unit": self.params_unit}


ACTIVATIONS_NOTE = "output elements per image of every row, the INPUT image included"
FLOPS_NOTE = "FLOPs = 2 x MACs (multiply + add); MACs count convolution and fully connected layers only"


@dataclass
class NetworkReport:
    """Rows of a network and their totals (per image)."""

    name: str
    input_shape: Shape
    bias: bool
    rows: list[LayerRow]
    reference: Reference | None = None
    notes: list[str] = field(default_factory=list)
    total_params: int = field(init=False)
    total_weights: int = field(init=False)
    total_biases: int = field(init=False)
    total_other_params: int = field(init=False)
    total_activations: int = field(init=False)  # includes the INPUT row
    total_macs: int = field(init=False)

    def __post_init__(self) -> None:
        self.total_weights = sum(r.weights for r in self.rows)
        self.total_biases = sum(r.biases for r in self.rows)
        self.total_other_params = sum(r.other_params for r in self.rows)
        self.total_params = sum(r.params for r in self.rows)
        self.total_activations = sum(r.activations for r in self.rows)
        self.total_macs = sum(r.macs for r in self.rows)

    @property
    def total_flops(self) -> int:
        """2 * total MACs."""
        return 2 * self.total_macs

    @property
    def input_activations(self) -> int:
        return sum(r.activations for r in self.rows if r.kind == KIND_INPUT)

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape

    def row(self, name: str) -> LayerRow:
        """The first row called ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def params_bytes(self, dtype: str = "fp32") -> int:
        return self.total_params * DTYPE_BYTES[normalize_dtype(dtype)]

    def activation_bytes(self, batch_size: int = 1, dtype: str = "fp32") -> int:
        """Bytes to keep every row's output (input included) for ``batch_size`` images."""
        batch_size = positive(batch_size, "batch size", "memory")
        return self.total_activations * batch_size * DTYPE_BYTES[normalize_dtype(dtype)]

    def memory(self, batch_size: int = 1, dtype: str = "fp32") -> Memory:
        key = normalize_dtype(dtype)
        return Memory(
            dtype=key,
            bytes_per_value=DTYPE_BYTES[key],
            batch_size=batch_size,
            params_bytes=self.params_bytes(key),
            activation_bytes=self.activation_bytes(batch_size, key),
        )

    def to_dict(self, batch_size: int = 1, dtype: str = "fp32") -> dict[str, Any]:
        """Everything as JSON-ready builtins (rows, totals, memory at ``batch_size``/``dtype``, reference)."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "bias": self.bias,
            "total_params": self.total_params,
            "total_weights": self.total_weights,
            "total_biases": self.total_biases,
            "total_other_params": self.total_other_params,
            "total_activations": self.total_activations,
            "total_activations_note": ACTIVATIONS_NOTE,
            "total_macs": self.total_macs,
            "total_flops": self.total_flops,
            "flops_note": FLOPS_NOTE,
            "memory": self.memory(batch_size, dtype).to_dict(),
            "reference": self.reference.to_dict() if self.reference else None,
            "notes": list(self.notes),
            "rows": [r.to_dict() for r in self.rows],
        }


def analyze(
    name: str,
    input_shape: Sequence[int],
    layers: Sequence[LayerSpec],
    bias: bool = True,
    reference: Reference | None = None,
    notes: Sequence[str] = (),
) -> NetworkReport:
    """Walk a sequential list of layer specs from ``input_shape`` and return its report."""
    row, rf = input_row(input_shape)
    rows = [row]
    shape = row.output_shape
    for index, spec in enumerate(layers, start=1):
        try:
            row, rf = spec_row(spec, shape, rf, bias)
        except UsageError as err:  # say where in the network it happened
            err.message = f"{name} layer {index} {err.message}"
            err.args = (err.message,)
            raise
        rows.append(row)
        shape = row.output_shape
    return NetworkReport(
        name=name, input_shape=tuple(input_shape), bias=bias, rows=rows, reference=reference, notes=list(notes)
    )
