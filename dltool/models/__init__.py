"""Model builders by name: THE registry. Every builder returns an uncompiled Keras model that outputs logits.

:func:`canonical` turns a user's spelling into a registry name, :func:`build` builds it, :func:`build_uint8`
puts the input adaptation of the throughput studies (uint8 images in, ResNets fed 32×32×3) in front.

Parameter counts these builders are tested against:
- ``deep_mnist_cnn``: conv 5×5×32 → pool → conv 5×5×64 → pool → dense 1024 → dropout 0.5 → dense 10 = 3,274,634.
- ``fast_cnn``: conv 5×5×16 → pool → conv 5×5×32 → pool → dense 256 → dense 10 = 417,482 (the fast99 network).
- ``filters_cnn(F)``: two 3×3 convolutions with F filters ('same'), 2×2 max-pool after each, dense 128, dense 10:
  52,258 · 104,250 · 211,690 · 440,394 · 953,098 · 2,199,690 for F = 8 … 256.
- ``cifar_resnet(44)``: He et al. (2016) §4.2, 3 stages × 7 basic blocks, 16/32/64 filters, option-A shortcuts
  (identity, zero-padded channels, no parameters): ≈ 0.66 M parameters as in the paper's Table 6.
"""

from __future__ import annotations

from typing import Any, Sequence

from dltool.errors import UsageError

MODELS = ("softmax", "mlp", "deep_mnist_cnn", "fast_cnn", "filters_cnn", "cifar_resnet", "resnet50")
ALIASES = {"deep": "deep_mnist_cnn", "fast": "fast_cnn",  # the mnist studies' short names
           "cifar_resnet": "resnet20"}  # a CIFAR ResNet without a depth: the smallest of He et al.'s, ResNet-20
CIFAR_DEPTHS = (20, 32, 44, 56, 110)  # He et al. (2016), Table 6; any depth 6n + 2 ≥ 8 builds
NAMES = MODELS + tuple(a for a in ALIASES if a not in MODELS)  # every spelling :func:`build` accepts
# the models the scaling studies (scale, allreduce) train from uint8 images (:func:`build_uint8`)
THROUGHPUT_MODELS = ("resnet50", "cifar_resnet", "deep_mnist_cnn", "mlp", "softmax")
RGB32 = (32, 32, 3)  # ResNet-50 needs at least 32×32×3; the CIFAR ResNets are built for CIFAR's 32×32×3


def _keras():
    import keras

    return keras


def softmax(input_shape: Sequence[int], num_classes: int = 10, init: str = "glorot_uniform"):
    """Softmax regression: flatten, one dense layer (the softmax lives in the loss). ``init="zeros"`` is the
    TensorFlow tutorial's W = 0, b = 0 (softmax regression is convex, so zeros are a valid start)."""
    keras = _keras()
    return keras.Sequential([keras.Input(tuple(input_shape)), keras.layers.Flatten(),
                             keras.layers.Dense(num_classes, kernel_initializer=init, name="logits")],
                            name="softmax")


def mlp(input_shape: Sequence[int], hidden: Sequence[int] = (100,), num_classes: int = 10, *,
        activation: str = "relu", l2: float = 0.0, l1: float = 0.0, input_dropout: float = 0.0,
        dropout: float = 0.0, layer_norm: bool = False, batch_norm: bool = False, name: str = "mlp"):
    """Dense layers with optional L1/L2 on the hidden weights, dropout, layer or batch normalisation."""
    keras = _keras()
    reg = None
    if l1 or l2:
        reg = keras.regularizers.L1L2(l1=l1, l2=l2)
    layers: list[Any] = [keras.Input(tuple(input_shape)), keras.layers.Flatten()]
    if input_dropout:
        layers.append(keras.layers.Dropout(input_dropout))
    for i, width in enumerate(hidden):
        layers.append(keras.layers.Dense(width, kernel_regularizer=reg, name=f"hidden{i + 1}"))
        if layer_norm:
            layers.append(keras.layers.LayerNormalization())
        if batch_norm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation(activation))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(num_classes, name="logits"))
    return keras.Sequential(layers, name=name)


def deep_mnist_cnn(input_shape: Sequence[int] = (28, 28, 1), num_classes: int = 10, dropout: float = 0.5,
                   init: str = "keras"):
    """TensorFlow's "Deep MNIST for experts" CNN (3,274,634 parameters at 28×28×1).

    ``init="tutorial"``: the tutorial's own initial values (weights from a normal truncated at 2σ, σ = 0.1; every
    bias 0.1) instead of Keras' Glorot-uniform weights and zero biases."""
    keras = _keras()
    L = keras.layers
    if init == "tutorial":
        kw = {"kernel_initializer": keras.initializers.TruncatedNormal(stddev=0.1),
              "bias_initializer": keras.initializers.Constant(0.1)}
    elif init == "keras":
        kw = {}
    else:
        raise UsageError(f"unknown initialiser {init!r}", "use tutorial or keras")
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        L.Conv2D(32, 5, padding="same", activation="relu", **kw), L.MaxPooling2D(2),
        L.Conv2D(64, 5, padding="same", activation="relu", **kw), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(1024, activation="relu", **kw), L.Dropout(dropout),
        L.Dense(num_classes, name="logits", **kw),
    ], name="deep_mnist_cnn")


def fast_cnn(input_shape: Sequence[int] = (28, 28, 1), num_classes: int = 10):
    """The fast99 network: conv 5×5×16 → pool → conv 5×5×32 → pool → dense 256 → dense 10
    (417,482 parameters)."""
    keras = _keras()
    L = keras.layers
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        L.Conv2D(16, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(32, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(256, activation="relu"), L.Dense(num_classes, name="logits"),
    ], name="fast_cnn")


def filters_cnn(filters: int = 32, input_shape: Sequence[int] = (28, 28, 1), num_classes: int = 10):
    """The filters study's CNN: two 3×3 convolutions with F filters, 2×2 max-pool after each, dense 128."""
    if filters < 1:
        raise UsageError(f"filter count must be ≥ 1, got {filters}", "use e.g. --filters 8,16,32")
    keras = _keras()
    L = keras.layers
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        L.Conv2D(filters, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(filters, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(128, activation="relu"), L.Dense(num_classes, name="logits"),
    ], name=f"filters_cnn_{filters}")


def cifar_resnet(depth: int = 44, input_shape: Sequence[int] = (32, 32, 3), num_classes: int = 10,
                 weight_decay: float = 1e-4, bn_momentum: float = 0.99):
    """ResNet-n for CIFAR (He et al. 2016, §4.2): depth = 6n + 2, option-A (parameter-free) shortcuts.

    ``bn_momentum``: BatchNorm's moving-average momentum (Keras' 0.99 by default; 0.9 = PyTorch's 0.1, whose
    moving statistics settle within tens of steps, which short runs on small subsets need for evaluation).
    """
    if depth < 8 or (depth - 2) % 6:
        raise UsageError(f"CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56, 110), got {depth}", "use e.g. 44")
    keras = _keras()
    from keras import ops

    L = keras.layers
    n = (depth - 2) // 6
    reg = keras.regularizers.L2(weight_decay) if weight_decay else None

    def conv(filters, stride):
        return L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, kernel_regularizer=reg,
                        kernel_initializer="he_normal")

    inputs = keras.Input(tuple(input_shape))
    x = conv(16, 1)(inputs)
    x = L.ReLU()(L.BatchNormalization(momentum=bn_momentum)(x))
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(n):
            stride = 2 if stage > 0 and block == 0 else 1
            y = L.ReLU()(L.BatchNormalization(momentum=bn_momentum)(conv(filters, stride)(x)))
            y = L.BatchNormalization(momentum=bn_momentum)(conv(filters, 1)(y))
            if stride != 1 or x.shape[-1] != filters:
                pad = filters - x.shape[-1]
                shortcut = L.Lambda(lambda t, p=pad: ops.pad(t[:, ::2, ::2, :], [[0, 0], [0, 0], [0, 0],
                                                                                  [p // 2, p - p // 2]]))(x)
            else:
                shortcut = x
            x = L.ReLU()(L.Add()([y, shortcut]))
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(num_classes, kernel_regularizer=reg, name="logits")(x)
    return keras.Model(inputs, outputs, name=f"resnet{depth}")


def resnet50(input_shape: Sequence[int] = (32, 32, 3), num_classes: int = 10):
    """keras.applications.ResNet50 without weights, logits out (needs inputs of at least 32×32×3)."""
    keras = _keras()
    h, w, c = input_shape
    if h < 32 or w < 32 or c != 3:
        raise UsageError(f"ResNet-50 needs inputs of at least 32×32×3, got {h}×{w}×{c}",
                         "resize and repeat the channels first (the scale command does this)")
    return keras.applications.ResNet50(weights=None, input_shape=tuple(input_shape), classes=num_classes,
                                       classifier_activation=None)


def _cifar_depth(key: str) -> int | None:
    """N of 'resnetN' when N is a CIFAR ResNet depth (6n + 2 ≥ 8), else None."""
    if key.startswith("resnet") and key[6:].isdigit() and key != "resnet50":
        depth = int(key[6:])
        if depth >= 8 and (depth - 2) % 6 == 0:
            return depth
    return None


def _choices(among: Sequence[str]) -> str:
    names = [f"a CIFAR ResNet ({', '.join(f'resnet{d}' for d in CIFAR_DEPTHS)})" if m == "cifar_resnet" else m
             for m in among]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def canonical(name: str, among: Sequence[str] = NAMES, purpose: str | None = None) -> str:
    """The registry name of ``name``: case, spaces and '-'/'_' folded ('ResNet-44' → 'resnet44'), then an
    alias resolved (``ALIASES``); 'resnetN' names the CIFAR ResNet of depth N. ``among``: the spellings the
    caller accepts ('cifar_resnet' also standing for every resnetN); anything else is a UsageError (exit 2)
    that lists them, "for ``purpose``" when given."""
    key = name.strip().lower().replace("-", "_").replace("resnet_", "resnet")
    if key in among or (_cifar_depth(key) and "cifar_resnet" in among):
        return ALIASES.get(key, key)
    raise UsageError(f"unknown model {name!r}" + (f" for {purpose}" if purpose else ""), f"use {_choices(among)}")


def build(name: str, input_shape: Sequence[int], num_classes: int = 10, **kwargs):
    """A model by name (see :func:`canonical`); ``kwargs`` go to its builder (e.g. ``filters`` of filters_cnn,
    ``l2`` of mlp, ``init`` of deep_mnist_cnn)."""
    key = canonical(name)
    depth = _cifar_depth(key)
    if depth is not None:
        return cifar_resnet(depth, input_shape, num_classes, **kwargs)
    builders = {"softmax": softmax, "mlp": mlp, "deep_mnist_cnn": deep_mnist_cnn, "fast_cnn": fast_cnn,
                "filters_cnn": filters_cnn, "resnet50": resnet50}
    return builders[key](input_shape=input_shape, num_classes=num_classes, **kwargs)


def needs_rgb32(name: str) -> bool:
    """ResNets (ResNet-50 and the CIFAR ResNets) are built for 32×32×3 inputs (:func:`build_uint8` adapts)."""
    return canonical(name).startswith("resnet")


def native_shape(name: str, data_shape: Sequence[int]) -> tuple[int, ...]:
    """The input shape ``name`` is built for when the data has ``data_shape``: at least 32×32×3 for ResNets,
    the data's own otherwise."""
    h, w, _ = data_shape
    return (max(h, RGB32[0]), max(w, RGB32[1]), RGB32[2]) if needs_rgb32(name) else tuple(data_shape)


def build_uint8(name: str, data_shape: Sequence[int], num_classes: int = 10):
    """The model with the input adaptation in front: uint8 images of ``data_shape`` in, logits out.

    Rescaling to [0, 1], then (ResNets on smaller or grey images) zero-padding to the native size and the grey
    channel repeated to RGB, inside the model, so the input pipeline ships uint8 (12× fewer bytes than float32
    32×32×3 for 28×28×1 images). Padding keeps every pixel (a resize would interpolate)."""
    keras = _keras()
    h, w, c = data_shape
    native = native_shape(name, data_shape)
    base = build(name, native, num_classes)
    inputs = keras.Input(tuple(data_shape), dtype="uint8", name="images")
    x = keras.layers.Rescaling(1.0 / 255, name="to_unit_range")(inputs)
    if native[:2] != (h, w):
        dh, dw = native[0] - h, native[1] - w
        x = keras.layers.ZeroPadding2D(((dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2)), name="pad_to_32")(x)
    if native[2] != c:
        x = keras.layers.Concatenate(name="grey_to_rgb")([x] * native[2])
    return keras.Model(inputs, base(x), name=f"{name}_scale")
