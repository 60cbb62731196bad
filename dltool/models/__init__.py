"""Model builders by name. Every builder returns an uncompiled Keras model that outputs logits.

Parameter counts these builders are tested against:
- ``deep_mnist_cnn``: conv 5×5×32 → pool → conv 5×5×64 → pool → dense 1024 → dropout 0.5 → dense 10 = 3,274,634.
- ``filters_cnn(F)``: two 3×3 convolutions with F filters ('same'), 2×2 max-pool after each, dense 128, dense 10:
  52,258 · 104,250 · 211,690 · 440,394 · 953,098 · 2,199,690 for F = 8 … 256.
- ``cifar_resnet(44)``: He et al. (2016) §4.2, 3 stages × 7 basic blocks, 16/32/64 filters, option-A shortcuts
  (identity, zero-padded channels, no parameters): ≈ 0.66 M parameters as in the paper's Table 6.
"""

from __future__ import annotations

from typing import Any, Sequence

from dltool.errors import UsageError

MODELS = ("softmax", "mlp", "deep_mnist_cnn", "filters_cnn", "cifar_resnet", "resnet50")


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


def build(name: str, input_shape: Sequence[int], num_classes: int = 10, **kwargs):
    """A model by registry name (see ``MODELS``)."""
    builders = {"softmax": softmax, "mlp": mlp, "deep_mnist_cnn": deep_mnist_cnn, "cifar_resnet": cifar_resnet,
                "resnet50": resnet50}
    key = name.replace("-", "_").lower()
    if key == "filters_cnn":
        return filters_cnn(kwargs.pop("filters", 32), input_shape, num_classes)
    if key.startswith("resnet") and key[6:].isdigit() and key != "resnet50":
        return cifar_resnet(int(key[6:]), input_shape, num_classes, **kwargs)
    if key not in builders:
        raise UsageError(f"unknown model {name!r}", f"choose one of {', '.join(MODELS)}, resnet20/32/44/56")
    return builders[key](input_shape=input_shape, num_classes=num_classes, **kwargs)
