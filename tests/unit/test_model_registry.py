"""The model registry: one name → builder switch for every study (spellings, aliases, the scaling studies'
subset and its error text), the uint8 input adaptation's shapes, and the throughput studies' synthetic images."""

from __future__ import annotations

import pytest

from dltool import models
from dltool.errors import UsageError


@pytest.mark.parametrize("name, key", [("deep", "deep_mnist_cnn"), ("fast", "fast_cnn"), ("MLP", "mlp"),
                                       ("cifar_resnet", "resnet20"), ("ResNet-44", "resnet44"),
                                       ("resnet_56", "resnet56"), ("resnet50", "resnet50"),
                                       ("filters-cnn", "filters_cnn")])
def test_spellings_and_aliases(name, key):
    assert models.canonical(name) == key


def test_the_scaling_studies_subset_and_its_error():
    T = models.THROUGHPUT_MODELS
    assert models.canonical("resnet8", T) == "resnet8"  # 6n + 2 with n = 1
    for name in ("deep", "fast_cnn", "filters_cnn", "resnet10", "vgg16"):
        with pytest.raises(UsageError) as info:
            models.canonical(name, T, "scale")
        assert info.value.message == f"unknown model {name!r} for scale"
        assert info.value.hint == ("use resnet50, a CIFAR ResNet (resnet20, resnet32, resnet44, resnet56, resnet110), "
                                   "deep_mnist_cnn, mlp or softmax")


@pytest.mark.parametrize("name, data, native", [("resnet50", (28, 28, 1), (32, 32, 3)),
                                                ("resnet20", (32, 32, 3), (32, 32, 3)),
                                                ("softmax", (28, 28, 1), (28, 28, 1)),
                                                ("deep_mnist_cnn", (28, 28, 1), (28, 28, 1))])
def test_native_shape(name, data, native):
    assert models.native_shape(name, data) == native
    assert models.needs_rgb32(name) == (native == (32, 32, 3))


def test_build_by_name_gives_the_tested_parameter_counts():
    pytest.importorskip("keras")
    assert models.build("deep", (28, 28, 1), 10).count_params() == 3_274_634
    assert models.build("fast", (28, 28, 1), 10).count_params() == 417_482
    assert models.build("filters_cnn", (28, 28, 1), 10, filters=8).count_params() == 52_258
    assert models.build("mlp", (28, 28, 1), 10).count_params() == 784 * 100 + 100 + 100 * 10 + 10
    assert models.build("softmax", (28, 28, 1), 10).count_params() == 7_850


def test_uint8_adaptation_of_a_small_model_only_rescales():
    pytest.importorskip("keras")
    model = models.build_uint8("softmax", (28, 28, 1))
    names = [layer.name for layer in model.layers]
    assert "to_unit_range" in names and "pad_to_32" not in names and "grey_to_rgb" not in names
    assert model.count_params() == 7_850


def test_synthetic_throughput_images_come_in_the_shape_asked_for():
    pytest.importorskip("tensorflow")
    from dltool.data.throughput import SYNTHETIC_EPOCH, SYNTHETIC_POOL, load_images

    ds, y, n, described = load_images("synthetic", seed=0, synthetic_shape=(32, 32, 3))
    assert y is None and n == SYNTHETIC_EPOCH == int(ds.cardinality())
    assert described["input_shape"] == [32, 32, 3] and described["distinct_images"] == SYNTHETIC_POOL
    image, _ = next(iter(ds))
    assert image.shape == (32, 32, 3) and image.dtype.name == "uint8"
