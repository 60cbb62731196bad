"""models/: each builder's parameter count against archcalc's framework-free arithmetic or a count done by
hand, logits out (no softmax in the model), and the registry's names and refusals."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from dltool import models  # noqa: E402
from dltool.archcalc import FC, Conv, Pool, analyze  # noqa: E402
from dltool.errors import UsageError  # noqa: E402


def _trainable(model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _outputs_logits(model) -> None:
    last = model.layers[-1]
    assert last.name == "logits" and last.activation.__name__ == "linear"


def test_deep_mnist_cnn_matches_archcalc_and_the_tutorial_count():
    model = models.deep_mnist_cnn()
    layers = [Conv(32, 5), Pool(2), Conv(64, 5), Pool(2), FC(1024), FC(10)]
    assert model.count_params() == analyze("deep", (28, 28, 1), layers).total_params == 3_274_634
    assert model.output_shape == (None, 10)
    _outputs_logits(model)


def test_deep_mnist_cnn_tutorial_init_and_a_bad_init():
    model = models.deep_mnist_cnn(init="tutorial")
    biases = [w.numpy() for w in model.weights if w.name == "bias"]
    assert len(biases) == 4 and all(np.all(b == np.float32(0.1)) for b in biases)
    kernel = model.layers[0].kernel.numpy()
    assert np.abs(kernel).max() <= 0.2 + 1e-6 and 0.05 < kernel.std() < 0.1  # N(0, 0.1²) cut at 2σ
    with pytest.raises(UsageError):
        models.deep_mnist_cnn(init="he")


@pytest.mark.parametrize("filters", [8, 64])
def test_filters_cnn_matches_archcalc(filters):
    layers = [Conv(filters, 3), Pool(2), Conv(filters, 3), Pool(2), FC(128), FC(10)]
    assert models.filters_cnn(filters).count_params() == analyze("f", (28, 28, 1), layers).total_params


def test_softmax_and_its_zero_start():
    model = models.softmax((28, 28, 1), init="zeros")
    assert model.count_params() == 784 * 10 + 10 == analyze("s", (28, 28, 1), [FC(10)]).total_params
    assert all(not np.any(w.numpy()) for w in model.weights)
    _outputs_logits(model)


def test_mlp_counts_with_and_without_normalisation_and_regularisation():
    plain = models.mlp((28, 28, 1), (100,), 10)
    assert plain.count_params() == analyze("m", (28, 28, 1), [FC(100), FC(10)]).total_params == 79_510
    _outputs_logits(plain)
    batch = models.mlp((28, 28, 1), (100, 50), 10, batch_norm=True)
    dense = 784 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10
    assert batch.count_params() == dense + 4 * (100 + 50)  # γ, β, moving mean, moving variance
    assert _trainable(batch) == dense + 2 * (100 + 50)
    layer = models.mlp((28, 28, 1), (100,), 10, layer_norm=True)
    assert layer.count_params() == 79_510 + 2 * 100
    regular = models.mlp((20,), (16, 16), 3, l2=1e-4, input_dropout=0.2, dropout=0.5)
    assert len(regular.losses) == 2  # L2 on the two hidden kernels, not on the logits
    assert [type(x).__name__ for x in regular.layers].count("Dropout") == 3


def _cifar_resnet_count(n: int) -> tuple[int, int]:
    """He et al. (2016) §4.2 by hand: 3×3 convolutions without bias, BatchNorm (4 numbers per channel, 2 of
    them trained) after each, option-A shortcuts (no parameters), dense 64 → 10."""
    convs = 3 * 3 * 3 * 16
    bn = 16
    for cin, cout in ((16, 16), (16, 32), (32, 64)):
        convs += 3 * 3 * cin * cout + (2 * n - 1) * 3 * 3 * cout * cout
        bn += 2 * n * cout
    total = convs + 4 * bn + 64 * 10 + 10
    return total, total - 2 * bn


def test_cifar_resnet20_count_by_hand():
    model = models.cifar_resnet(20)
    total, trainable = _cifar_resnet_count(3)
    assert (model.count_params(), _trainable(model)) == (total, trainable) == (271_098, 269_722)
    assert model.output_shape == (None, 10) and model.name == "resnet20"
    _outputs_logits(model)


def test_cifar_resnet_option_a_shortcut_is_strided_and_zero_padded():
    model = models.cifar_resnet(20, weight_decay=0.0)
    shortcut = next(layer for layer in model.layers if type(layer).__name__ == "Lambda")
    x = np.arange(2 * 32 * 32 * 16, dtype="float32").reshape(2, 32, 32, 16)
    y = np.asarray(shortcut(x))
    assert y.shape == (2, 16, 16, 32)
    assert np.array_equal(y[..., 8:24], x[:, ::2, ::2, :])
    assert not np.any(y[..., :8]) and not np.any(y[..., 24:])
    assert model.losses == []  # weight_decay=0: no L2 terms


@pytest.mark.parametrize("depth", [7, 21, 45])
def test_cifar_resnet_depth_must_be_6n_plus_2(depth):
    with pytest.raises(UsageError, match="6n\\+2"):
        models.cifar_resnet(depth)


def test_build_by_name():
    assert models.build("softmax", (28, 28, 1)).count_params() == 7_850
    assert models.build("deep-mnist-cnn", (28, 28, 1)).count_params() == 3_274_634
    assert models.build("Filters_CNN", (28, 28, 1), filters=8).name == "filters_cnn_8"
    assert models.build("mlp", (4,), 3, hidden=(5,)).count_params() == 4 * 5 + 5 + 5 * 3 + 3
    assert models.build("resnet20", (32, 32, 3)).count_params() == 271_098
    with pytest.raises(UsageError) as info:
        models.build("vgg", (32, 32, 3))
    message = info.value.one_line()  # every builder named; the CIFAR ResNets by their depths
    assert all(name in message for name in models.MODELS if name != "cifar_resnet"), message
    assert "CIFAR ResNet (resnet20, resnet32, resnet44, resnet56, resnet110)" in message


def test_resnet50_needs_32x32x3():
    with pytest.raises(UsageError, match="at least 32×32×3"):
        models.resnet50((28, 28, 1))
