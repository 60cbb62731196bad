"""A small graph builder for the family networks: rows in the order a forward pass computes them.

The VGG/AlexNet built-ins are a plain list of layers (``core.analyze``). ResNet, GoogLeNet, MobileNet, DenseNet
and SqueezeNet branch and merge, so their builders call this class instead: every method takes the tensors it
reads (``T``: a shape and a receptive-field state), appends one row made by the same row builders as the plain
networks (``core.conv_row``, ``core.pool_row``, ``core.fc_row``), and returns the tensor it writes.

Counting conventions (the same for every family, stated once):

* A convolution has a bias only where the network's own definition has one (``has_bias``): torchvision's
  ResNet/GoogLeNet/MobileNet/DenseNet convolutions have none (a BatchNorm follows), Keras' ResNet v1 and every
  SqueezeNet convolution have one. ``bias=False`` (``--no-bias``) drops the convolution and FC biases that exist;
  BatchNorm's beta stays (as in ``keras_model``).
* BatchNorm (one row each): gamma -> weights, beta -> biases (the 2 trainable values per channel that
  torchvision's ``num_params`` counts, ``sum(p.numel() for p in model.parameters())``); moving mean and variance
  -> ``other_params`` (2 non-trainable values per channel) only when ``bn_stats`` is on, as Keras'
  ``count_params()`` counts them. 0 MACs (foldable into the convolution before it).
* ReLU / ReLU6 run in place and have no row. Add and concatenation rows have no parameters and 0 MACs; their
  output counts as activations (a framework stores it). Dropout has no row.
* Pooling in PyTorch's ``ceil_mode=True`` (GoogLeNet, SqueezeNet): Hout = ceil((H + 2p - k)/s) + 1, minus one
  when the last window would start in the right padding only; a window may hang over the edge (PyTorch clips
  it), so the smallest inputs are torchvision's ``min_size`` (GoogLeNet 15, SqueezeNet 1.0 21, 1.1 17).
* Receptive field: through an add or a concatenation, the largest of the inputs' (``keras_model`` does the same).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from dltool.archcalc.core import (
    KIND_BATCHNORM,
    KIND_GLOBAL_POOL,
    KIND_OTHER,
    KIND_POOL,
    LayerRow,
    Padding,
    RFState,
    Shape,
    _act_formula,
    _need_spatial,
    _pair,
    _params_formula,
    _prod,
    _rf_fields,
    _rf_step,
    conv_row,
    fc_row,
    fmt,
    input_row,
    pool_row,
)
from dltool.errors import UsageError


class T(NamedTuple):
    """A tensor of the graph: its (H, W, C) or (N,) shape and the receptive field of its units."""

    shape: Shape
    rf: RFState | None


def _merge_rf(rfs: Sequence[RFState | None]) -> RFState | None:
    if not rfs or any(r is None for r in rfs):
        return None
    return RFState(max(r.rh for r in rfs), max(r.rw for r in rfs), max(r.jh for r in rfs), max(r.jw for r in rfs))


class Graph:
    """Rows of one network, built call by call. ``bias``: count the biases that exist (False: ``--no-bias``);
    ``bn_stats``: count BatchNorm's moving mean and variance (Keras) or not (torchvision)."""

    def __init__(self, input_shape: Sequence[int], *, bias: bool = True, bn_stats: bool = False) -> None:
        row, rf = input_row(input_shape)
        self.rows: list[LayerRow] = [row]
        self.input = T(row.output_shape, rf)
        self.bias = bias
        self.bn_stats = bn_stats

    def _add(self, row: LayerRow, rf: RFState | None) -> T:
        self.rows.append(row)
        return T(row.output_shape, rf)

    def conv(self, x: T, filters: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
             padding: Padding = 0, *, groups: int = 1, has_bias: bool = False, name: str) -> T:
        row, rf = conv_row(x.shape, x.rf, filters=filters, kernel=kernel, stride=stride, padding=padding,
                           groups=groups, bias=self.bias and has_bias, name=name,
                           kind="depthwise_conv" if groups > 1 and groups == x.shape[-1] else "conv")
        return self._add(row, rf)

    def bn(self, x: T, name: str) -> T:
        c = x.shape[-1]
        other = 2 * c if self.bn_stats else 0
        row = LayerRow(
            name=name, kind=KIND_BATCHNORM, input_shape=x.shape, output_shape=x.shape,
            activations=_prod(x.shape), weights=c, biases=c, params=2 * c + other, macs=0,
            detail="BatchNorm: gamma, beta" + (" + moving mean, variance (non-trainable)" if other else ""),
            shape_formula="unchanged", activations_formula=_act_formula(x.shape),
            weights_formula=f"{c} (gamma)", biases_formula=f"{c} (beta)",
            params_formula=_params_formula(c, c, other) + (" (moving mean + variance: 2*" + str(c) + ")"
                                                           if other else ""),
            macs_formula="0 (foldable into the previous convolution)",
            rf_formula="unchanged" if x.rf else "whole input", other_params=other, **_rf_fields(x.rf),
        )
        return self._add(row, x.rf)

    def conv_bn(self, x: T, filters: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                padding: Padding = 0, *, groups: int = 1, has_bias: bool = False, name: str,
                bn_name: str | None = None) -> T:
        """Convolution then BatchNorm (the activation after it runs in place: no row)."""
        x = self.conv(x, filters, kernel, stride, padding, groups=groups, has_bias=has_bias, name=name)
        return self.bn(x, bn_name or f"{name}.bn")

    def pool(self, x: T, kernel: int, stride: int | None = None, padding: Padding = 0, *, mode: str = "max",
             ceil: bool = False, name: str) -> T:
        if not ceil:
            row, rf = pool_row(x.shape, x.rf, kernel=kernel, stride=stride, padding=padding, mode=mode, name=name)
            return self._add(row, rf)
        return self._add(*self._ceil_pool(x, kernel, stride or kernel, int(padding), mode, name))

    def _ceil_pool(self, x: T, k: int, s: int, p: int, mode: str, name: str) -> tuple[LayerRow, RFState | None]:
        h, w, c = _need_spatial(x.shape, name)
        _pair(k, "pool size", name)

        def out(size: int) -> tuple[int, str]:
            n = -(-(size + 2 * p - k) // s) + 1  # a window may hang over the edge (PyTorch clips it)
            if n > 1 and (n - 1) * s >= size + p:  # the last window would start in the padding only
                n -= 1
            if n < 1:
                raise UsageError(f"{name}: pool size {k} is larger than its input {size}",
                                 hint="Use a larger input (e.g. --input 224x224x3).")
            inner = f"{size} + 2*{p} - {k}" if p else f"{size} - {k}"
            return n, f"ceil(({inner})/{s}) + 1 = {n}"

        ho, fh = out(h)
        wo, fw = out(w)
        shape = (ho, wo, c)
        new_rf, rf_formula = _rf_step(x.rf, k, k, s, s)
        row = LayerRow(
            name=name, kind=KIND_POOL, input_shape=x.shape, output_shape=shape, activations=ho * wo * c,
            weights=0, biases=0, params=0, macs=0,
            detail=f"{mode} {k}x{k}, stride {s}" + (f", pad {p}" if p else "") + ", ceil mode",
            shape_formula=f"H: {fh}" if fh == fw else f"H: {fh}; W: {fw}",
            activations_formula=_act_formula(shape), macs_formula="0 (pooling: comparisons/sums only)",
            rf_formula=rf_formula, **_rf_fields(new_rf),
        )
        return row, new_rf

    def _merge(self, xs: Sequence[T], shape: Shape, name: str, detail: str) -> T:
        rf = _merge_rf([x.rf for x in xs])
        row = LayerRow(
            name=name, kind=KIND_OTHER, input_shape=xs[0].shape, output_shape=shape, activations=_prod(shape),
            weights=0, biases=0, params=0, macs=0, detail=detail, shape_formula="x".join(map(str, shape)),
            activations_formula=_act_formula(shape), macs_formula="0",
            rf_formula="largest of the inputs" if rf else "whole input", **_rf_fields(rf),
        )
        return self._add(row, rf)

    def add(self, a: T, b: T, name: str) -> T:
        """Residual addition: the shapes must agree (a projection shortcut makes them)."""
        if a.shape != b.shape:
            raise UsageError(f"{name}: cannot add {a.shape} and {b.shape}")
        return self._merge([a, b], a.shape, name, "add (residual), no parameters")

    def concat(self, xs: Sequence[T], name: str) -> T:
        """Concatenation along channels: the spatial sizes must agree."""
        if len({x.shape[:2] for x in xs}) != 1:
            raise UsageError(f"{name}: cannot concatenate {', '.join(str(x.shape) for x in xs)}",
                             hint="Use a larger input (e.g. --input 224x224x3).")
        channels = [x.shape[2] for x in xs]
        shape = (*xs[0].shape[:2], sum(channels))
        return self._merge(xs, shape, name, "concatenate channels " + " + ".join(map(str, channels)) +
                           f" = {shape[2]}")

    def global_pool(self, x: T, name: str = "avgpool") -> T:
        h, w, c = _need_spatial(x.shape, name)
        row = LayerRow(
            name=name, kind=KIND_GLOBAL_POOL, input_shape=x.shape, output_shape=(c,), activations=c,
            weights=0, biases=0, params=0, macs=0, detail=f"global average over {h}x{w}", shape_formula=str(c),
            activations_formula=fmt(c), macs_formula="0 (pooling: sums only)", rf_formula="whole input",
            **_rf_fields(None),
        )
        return self._add(row, None)

    def fc(self, x: T, units: int, name: str = "fc", has_bias: bool = True) -> T:
        row, rf = fc_row(x.shape, x.rf, units=units, bias=self.bias and has_bias, name=name)
        return self._add(row, rf)
