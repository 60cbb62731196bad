"""dltool.archcalc: the numbers homework tables and published totals give, and the errors bad inputs get."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dltool import archcalc
from dltool.archcalc import (
    FC,
    Conv,
    Pool,
    analyze,
    build,
    inception,
    parse_input,
    receptive_field_steps,
    stacked_receptive_field,
)
from dltool.archcalc.core import conv_row, fc_row, input_row, pool_row
from dltool.errors import ExitCode, UsageError

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------ VGG


def test_vgg19_totals_with_and_without_bias():
    r = build("vgg19")
    assert r.total_params == 143_667_240
    assert r.total_biases == 14_696
    assert r.total_weights == 143_667_240 - 14_696
    assert r.reference is not None and r.reference.params == 143_667_240
    assert r.total_params == r.total_weights + r.total_biases

    nb = build("vgg19", bias=False)
    assert nb.total_params == 143_652_544
    assert nb.total_biases == 0
    assert nb.reference is None  # published total is for the model with biases
    assert any("no biases" in n for n in nb.notes)


def test_vgg19_activations_count_the_input():
    r = build("vgg19")
    assert r.total_activations == 16_542_184
    assert r.input_activations == 224 * 224 * 3 == 150_528
    assert r.rows[0].kind == "input" and r.rows[0].activations_formula == "224*224*3 = 150,528"


def test_vgg19_rows_and_formulas():
    r = build("vgg19")
    first_conv = r.rows[1]
    assert first_conv.name == "CONV3-64"
    assert first_conv.output_shape == (224, 224, 64)
    assert first_conv.activations == 3_211_264
    assert first_conv.weights == 1_728
    assert first_conv.biases == 64
    assert first_conv.weights_formula == "(3*3*3)*64 = 1,728"
    assert first_conv.activations_formula == "224*224*64 = 3,211,264"
    assert first_conv.macs == 3 * 3 * 3 * 224 * 224 * 64

    second = r.rows[2]
    assert second.weights_formula == "(3*3*64)*64 = 36,864"
    assert second.macs_formula == "(3*3*64)*224*224*64 = 1,849,688,064"
    assert second.params_formula == "36,864 + 64 = 36,928"
    assert second.flops == 2 * 1_849_688_064

    pool = r.rows[3]
    assert pool.name == "POOL2" and pool.output_shape == (112, 112, 64) and pool.params == 0 and pool.macs == 0
    assert pool.shape_formula == "H: (224 - 2)/2 + 1 = 112"

    fc1 = r.row("FC-4096")
    assert fc1.weights == 102_760_448
    assert fc1.weights_formula == "(7*7*512)*4096 = 102,760,448"
    assert fc1.input_shape == (7, 7, 512)
    assert fc1.receptive_field is None
    assert [row.name for row in r.rows[-3:]] == ["FC-4096", "FC-4096", "FC-1000"]
    assert r.output_shape == (1000,)
    assert sum(row.kind == "conv" for row in r.rows) == 16
    assert sum(row.kind == "pool" for row in r.rows) == 5


@pytest.mark.parametrize(
    ("name", "params", "gmacs"),
    [
        ("vgg11", 132_863_336, 7.61),
        ("vgg13", 133_047_848, 11.31),
        ("vgg16", 138_357_544, 15.47),
        ("vgg19", 143_667_240, 19.63),
    ],
)
def test_vgg_family_matches_published(name, params, gmacs):
    r = build(name)
    assert r.total_params == params == r.reference.params
    assert round(r.total_macs / 1e9, 2) == gmacs == r.reference.gmacs
    assert r.total_flops == 2 * r.total_macs


def test_vgg16_macs_exact():
    assert build("vgg16").total_macs == 15_470_264_320


def test_vgg_with_small_input_changes_only_first_fc():
    r = build("vgg19", input_shape="32x32x3")
    assert r.input_shape == (32, 32, 3)
    assert r.row("FC-4096").weights == 512 * 4096
    conv_params = sum(row.params for row in r.rows if row.kind == "conv")
    assert conv_params == sum(row.params for row in build("vgg19").rows if row.kind == "conv")
    assert r.reference is None and any("32x32x3" in n for n in r.notes)


def test_too_small_input_names_the_smallest_one():
    with pytest.raises(UsageError) as info:
        build("vgg19", input_shape=(16, 16, 3))
    assert "larger than" in info.value.message
    assert "32x32x3" in info.value.hint
    assert info.value.code == ExitCode.USAGE


# ------------------------------------------------------------------------------------------------ AlexNet


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("alexnet", 60_965_224),
        ("alexnet-paper", 60_965_224),
        ("alexnet-ungrouped", 62_378_344),
        ("alexnet-torchvision", 61_100_840),
    ],
)
def test_alexnet_variants(name, params):
    r = build(name)
    assert r.total_params == params
    assert r.reference is not None and r.reference.params == params


def test_alexnet_paper_shapes_groups_and_lrn():
    r = build("alexnet")
    assert r.input_shape == (227, 227, 3)
    shapes = [row.output_shape for row in r.rows if row.kind in ("conv", "pool")]
    assert shapes == [
        (55, 55, 96),
        (27, 27, 96),
        (27, 27, 256),
        (13, 13, 256),
        (13, 13, 384),
        (13, 13, 384),
        (13, 13, 256),
        (6, 6, 256),
    ]
    grouped = [row for row in r.rows if "groups 2" in row.detail]
    assert [g.weights for g in grouped] == [5 * 5 * 48 * 256, 3 * 3 * 192 * 384, 3 * 3 * 192 * 256]
    assert grouped[0].weights_formula == "(5*5*96/2)*256 = 307,200"
    lrn = [row for row in r.rows if row.kind == "lrn"]
    assert len(lrn) == 2 and all(x.params == 0 and x.macs == 0 for x in lrn)
    assert r.row("CONV11-96/s4").shape_formula == "H: (227 - 11)/4 + 1 = 55"
    # The grouped and ungrouped layouts differ only in conv2/4/5 weights.
    assert build("alexnet-ungrouped").total_params - r.total_params == 307_200 + 663_552 + 442_368
    assert build("alexnet-ungrouped").total_macs > r.total_macs


def test_alexnet_torchvision_layout():
    r = build("alexnet-torchvision")
    assert r.rows[1].output_shape == (55, 55, 64)
    assert r.rows[1].shape_formula == "H: floor((224 + 2*2 - 11)/4) + 1 = 55"
    adaptive = [row for row in r.rows if row.kind == "adaptive_pool"]
    assert len(adaptive) == 1 and adaptive[0].output_shape == (6, 6, 256)
    assert round(r.total_macs / 1e9, 2) == 0.71
    # Adaptive pooling keeps the classifier's size whatever the input: same params at 256x256.
    big = build("alexnet-torchvision", input_shape="256x256x3")
    assert big.total_params == 61_100_840
    assert big.total_macs > r.total_macs


# ------------------------------------------------------------------------------------------------ receptive field


def test_stacked_receptive_field():
    s = stacked_receptive_field(3, 5)
    assert s.rf == 13
    assert s.formula == "3*(5-1)+1 = 13"
    assert [step.as_tuple() for step in s.steps] == [
        ("layer 1", 5, "1 + (5-1) = 5"),
        ("layer 2", 9, "5 + (5-1) = 9"),
        ("layer 3", 13, "9 + (5-1) = 13"),
    ]
    assert stacked_receptive_field(2, 3).rf == 5  # two 3x3 see what one 5x5 sees
    assert stacked_receptive_field(3, 3).rf == 7
    assert stacked_receptive_field(1, 7).rf == 7
    for n, f in [(0, 3), (3, 0), (-1, 3), (2, -5)]:
        with pytest.raises(UsageError):
            stacked_receptive_field(n, f)


def test_receptive_field_with_strides():
    vgg16 = build("vgg16")
    convs = [row for row in vgg16.rows if row.kind == "conv"]
    assert [c.receptive_field for c in convs[:2]] == [3, 5]
    assert convs[-1].receptive_field == 196
    assert vgg16.rows[-4].name == "POOL2" and vgg16.rows[-4].receptive_field == 212
    assert vgg16.rows[-4].jump == 32
    assert build("vgg19").rows[-5].receptive_field == 252  # last conv: larger than the 224 image
    alex = build("alexnet")
    assert alex.row("CONV11-96/s4").receptive_field == 11
    assert alex.rows[-4].receptive_field == 195  # pool5
    steps = receptive_field_steps(alex)
    assert steps[1].formula == "1 + (11-1)*1 = 11"
    assert steps[-1].rf is None and steps[-1].formula == "whole input"


def test_receptive_field_non_square_and_dilated():
    row, rf = conv_row((32, 32, 8), input_row((32, 32, 8))[1], filters=4, kernel=(1, 7), padding="same")
    assert (row.receptive_field, row.receptive_field_w) == (1, 7)
    row, _ = conv_row((32, 32, 8), rf, filters=4, kernel=3, dilation=2, padding="same")
    assert (row.receptive_field, row.receptive_field_w) == (5, 11)
    assert row.weights == 3 * 3 * 8 * 4


# ------------------------------------------------------------------------------------------------ Inception


def test_inception_naive_vs_reduced():
    c = inception(32, 32, 256)
    assert c.naive.total_multiplications == 1_115_684_864
    assert c.reduced.total_multiplications == 354_418_688
    assert c.naive.output_shape == (32, 32, 672)
    assert c.reduced.output_shape == (32, 32, 480)
    assert c.naive.concat_formula == "128+192+96+256 = 672 channels"
    assert c.saving == 1_115_684_864 - 354_418_688
    assert c.saving_pct == pytest.approx(68.233, abs=1e-3)
    assert c.ratio == pytest.approx(3.148, abs=1e-3)

    naive = {b.name: b for b in c.naive.branches}
    assert naive["1x1"].multiplications == 33_554_432
    assert naive["3x3"].multiplications == 452_984_832
    assert naive["5x5"].multiplications == 629_145_600
    assert naive["pool"].multiplications == 0 and naive["pool"].out_channels == 256
    assert naive["3x3"].ops[0].formula == "(3*3*256)*32*32*192 = 452,984,832"

    reduced = {b.name: b for b in c.reduced.branches}
    assert [op.multiplications for op in reduced["3x3"].ops] == [16_777_216, 113_246_208]
    assert [op.multiplications for op in reduced["5x5"].ops] == [16_777_216, 157_286_400]
    assert [op.multiplications for op in reduced["pool"].ops] == [0, 16_777_216]
    assert reduced["pool"].out_channels == 64
    json.dumps(c.to_dict())


def test_report_004_inception_is_the_default_preset_and_has_no_published_number():
    c = inception(32, 32, 256)
    assert c.preset == "report-004"
    assert c.reference is None  # the homework asks for the count; it gives none
    cfg = archcalc.inception_config()
    assert cfg == archcalc.inception_preset("report-004").config
    assert cfg.input_shape == (32, 32, 256)
    assert inception(*cfg.input_shape, **cfg.filters()).reduced.total_multiplications == 354_418_688


def test_googlenet_3a_with_separate_reducers():
    """Szegedy et al. 2015, Table 1, inception (3a): 128M ops."""
    c = inception(28, 28, 192, f1=64, f3=128, f5=32, pool_proj=32, reduce3=96, reduce5=16)
    assert c.reduced.total_multiplications == 128_049_152
    assert c.reduced.output_shape == (28, 28, 256)
    assert c.reduced.concat_formula == "64+128+32+32 = 256 channels"
    assert c.naive.output_shape == (28, 28, 64 + 128 + 32 + 192)
    reduced = {b.name: b for b in c.reduced.branches}
    assert [op.multiplications for op in reduced["1x1"].ops] == [9_633_792]
    assert [op.multiplications for op in reduced["3x3"].ops] == [14_450_688, 86_704_128]
    assert [op.multiplications for op in reduced["5x5"].ops] == [2_408_448, 10_035_200]
    assert [op.multiplications for op in reduced["pool"].ops] == [0, 4_816_896]
    assert reduced["5x5"].ops[0].formula == "(1*1*192)*28*28*16 = 2,408,448"
    # The published figure: the paper's 128M, matched at its rounding; named by the preset.
    assert c.preset == "googlenet-3a"
    ref = c.reference
    assert ref is not None and ref.variant == "reduced" and ref.published_as == "128M"
    assert ref.multiplications == 128_000_000 and ref.source.startswith("Szegedy et al. 2015, Table 1")
    assert ref.matches(c.reduced.total_multiplications)
    assert not ref.matches(190_267_392)
    doc = json.loads(json.dumps(c.to_dict()))
    assert doc["reference"]["published_as"] == "128M" and doc["preset"] == "googlenet-3a"
    # One reducer of 96 for both branches (what a single --reduce gave) is a different module: 190,267,392.
    shared = inception(28, 28, 192, f1=64, f3=128, f5=32, pool_proj=32, reduce3=96, reduce5=96)
    assert shared.reduced.total_multiplications == 190_267_392
    assert shared.reference is None and shared.preset is None


def test_inception_presets_and_overrides():
    preset = archcalc.inception_preset("GoogLeNet_3a")
    assert preset.name == "googlenet-3a"
    c = inception(*preset.config.input_shape, **preset.config.filters())
    assert c.reduced.total_multiplications == 128_049_152
    # Options given beside a preset override its sizes; the reference goes with the exact published sizes only.
    cfg = archcalc.inception_config("googlenet-3a", reduce5=32)
    assert (cfg.reduce3, cfg.reduce5, cfg.f1) == (96, 32, 64)
    assert inception(*cfg.input_shape, **cfg.filters()).reference is None
    cfg = archcalc.inception_config("googlenet-3a", (14, 14, 192))
    assert cfg.input_shape == (14, 14, 192) and cfg.f3 == 128
    # --reduce sets both reducers.
    cfg = archcalc.inception_config(input_shape=(28, 28, 192), f1=64, f3=128, f5=32, pool_proj=32, reduce=96)
    assert (cfg.reduce3, cfg.reduce5) == (96, 96)
    cfg = archcalc.inception_config(input_shape=(28, 28, 192), f1=64, f3=128, f5=32, pool_proj=32, reduce3=96,
                                    reduce5=16)
    assert cfg == preset.config


@pytest.mark.parametrize("kwargs", [{"reduce": 8, "reduce3": 8}, {"reduce": 8, "reduce5": 4},
                                    {"reduce": 8, "reduce3": 8, "reduce5": 4}])
def test_inception_reduce_conflicts(kwargs):
    with pytest.raises(UsageError) as info:
        archcalc.inception_config(**kwargs)
    assert "--reduce cannot be combined with" in info.value.message
    assert info.value.code == ExitCode.USAGE


def test_inception_errors():
    with pytest.raises(UsageError):
        inception(0, 32, 256)
    with pytest.raises(UsageError):
        inception(32, 32, 256, f3=-1)
    with pytest.raises(UsageError, match="reduce5"):
        inception(28, 28, 192, reduce5=0)
    with pytest.raises(UsageError) as info:
        archcalc.inception_preset("googlenet-9z")
    assert "googlenet-3a" in info.value.hint and "report-004" in info.value.hint


def test_vgg19_says_parameters_are_not_compute():
    notes = " ".join(build("vgg19").notes + build("vgg19", bias=False).notes)
    assert '"Parameters (Compute)"' in notes and "not compute" in notes


# ------------------------------------------------------------------------------------------------ memory and JSON


def test_memory_helpers():
    r = build("vgg19")
    assert r.params_bytes("fp32") == 143_667_240 * 4
    assert r.params_bytes("fp16") == r.params_bytes("bf16") == 143_667_240 * 2
    assert r.activation_bytes(32, "fp32") == 16_542_184 * 32 * 4
    m = r.memory(batch_size=1, dtype="float32")
    assert m.dtype == "fp32" and m.bytes_per_value == 4
    assert m.params_mb == pytest.approx(574.66896)
    assert m.params_mib == pytest.approx(548.047, abs=1e-3)
    assert m.activation_mb == pytest.approx(66.168736)
    assert m.activation_mib == pytest.approx(63.103, abs=1e-3)
    assert r.memory(8, "bf16").activation_bytes == 16_542_184 * 8 * 2
    with pytest.raises(UsageError):
        r.memory(1, "fp12")
    with pytest.raises(UsageError):
        r.activation_bytes(0)


def test_to_dict_is_json_with_every_row():
    r = build("alexnet")
    d = json.loads(json.dumps(r.to_dict(batch_size=4, dtype="fp16")))
    assert d["total_params"] == 60_965_224
    assert d["total_flops"] == 2 * d["total_macs"]
    assert d["total_activations"] == r.total_activations
    assert len(d["rows"]) == len(r.rows)
    assert d["rows"][0]["name"] == "INPUT"
    assert d["memory"]["batch_size"] == 4 and d["memory"]["bytes_per_value"] == 2
    assert d["reference"]["params"] == 60_965_224
    assert d["rows"][4]["formulas"]["weights"] == "(5*5*96/2)*256 = 307,200"
    assert sum(row["params"] for row in d["rows"]) == d["total_params"]


# ------------------------------------------------------------------------------------------------ names and inputs


@pytest.mark.parametrize("name", ["VGG19", "vgg-19", "vgg_19", " Vgg19 ", "vgg-e"])
def test_name_spellings(name):
    assert build(name).name == "vgg19"


def test_unknown_name_suggests_closest():
    with pytest.raises(UsageError) as info:
        build("vgg91")
    assert "Unknown network 'vgg91'" in info.value.message
    assert "Did you mean 'vgg19'" in info.value.hint
    assert "alexnet-torchvision" in info.value.hint
    with pytest.raises(UsageError) as info:
        build("alexnet-torchvison")
    assert "'alexnet-torchvision'" in info.value.hint
    with pytest.raises(UsageError) as info:
        build("zzz")
    assert "Did you mean" not in info.value.hint and "vgg16" in info.value.hint


@pytest.mark.parametrize(
    ("text", "shape"),
    [("224x224x3", (224, 224, 3)), ("32X32X1", (32, 32, 1)), ("64×48×3", (64, 48, 3)), (" 227 x 227 ", (227, 227, 3))],
)
def test_parse_input(text, shape):
    assert parse_input(text) == shape


@pytest.mark.parametrize("text", ["", "224", "224x224x", "abc", "224x224x3x1", "-1x224x3", "0x224x3", "224.5x224x3"])
def test_parse_input_rejects(text):
    with pytest.raises(UsageError) as info:
        parse_input(text)
    assert info.value.hint and "224x224x3" in info.value.hint


@pytest.mark.parametrize("shape", [(0, 224, 3), (224, 224), (224, -3, 3), (224, 224, 0)])
def test_build_rejects_bad_shapes(shape):
    with pytest.raises(UsageError):
        build("vgg16", input_shape=shape)


# ------------------------------------------------------------------------------------------------ layer validation


def test_layer_validation():
    shape = (8, 8, 4)
    rf = input_row(shape)[1]
    with pytest.raises(UsageError, match="larger than"):
        conv_row(shape, rf, filters=4, kernel=9, padding="valid")
    with pytest.raises(UsageError, match="larger than"):
        conv_row(shape, rf, filters=4, kernel=11, padding=1)  # 8 + 2 < 11
    conv_row(shape, rf, filters=4, kernel=10, padding=1)  # 8 + 2 = 10: fits exactly
    assert conv_row(shape, rf, filters=4, kernel=9, padding="same")[0].output_shape == (8, 8, 4)
    with pytest.raises(UsageError, match="filters"):
        conv_row(shape, rf, filters=0, kernel=3)
    with pytest.raises(UsageError, match="stride"):
        conv_row(shape, rf, filters=4, kernel=3, stride=0)
    with pytest.raises(UsageError, match="kernel"):
        conv_row(shape, rf, filters=4, kernel=0)
    with pytest.raises(UsageError, match="groups"):
        conv_row(shape, rf, filters=6, kernel=3, groups=4)
    with pytest.raises(UsageError, match="padding"):
        conv_row(shape, rf, filters=4, kernel=3, padding="full")
    with pytest.raises(UsageError, match="padding"):
        conv_row(shape, rf, filters=4, kernel=3, padding=-1)
    with pytest.raises(UsageError, match="larger than"):
        pool_row((1, 1, 4), rf, kernel=2)
    with pytest.raises(UsageError, match="units"):
        fc_row(shape, rf, units=0)
    with pytest.raises(UsageError, match="HxWxC"):
        conv_row((10,), None, filters=4, kernel=3)
    with pytest.raises(UsageError):
        analyze("bad", (0, 8, 3), [Conv(4, 3)])


def test_custom_network_with_strides_and_same_padding():
    r = analyze("toy", (33, 33, 3), [Conv(8, 3, 2, padding="same"), Pool(3, 2, padding="same"), FC(10)], bias=False)
    assert r.rows[1].output_shape == (17, 17, 8)  # ceil(33/2)
    assert r.rows[1].shape_formula == "H: ceil(33/2) = 17"
    assert r.rows[2].output_shape == (9, 9, 8)
    assert r.rows[-1].weights == 9 * 9 * 8 * 10
    assert r.total_biases == 0
    assert r.total_macs == 3 * 3 * 3 * 8 * 17 * 17 + 9 * 9 * 8 * 10


def test_depthwise_conv_row():
    row, _ = conv_row((16, 16, 32), None, filters=32, kernel=3, groups=32, bias=False)
    assert row.weights == 3 * 3 * 32
    assert row.weights_formula == "(3*3*1)*32 = 288"
    assert row.macs == 288 * 16 * 16


# ------------------------------------------------------------------------------------------------ import weight


def test_import_does_not_load_heavy_modules():
    code = (
        "import sys, dltool.archcalc as a; r = a.build('vgg19'); a.inception(32, 32, 256); "
        "assert r.total_params == 143667240; "
        "heavy = [m for m in ('tensorflow', 'keras', 'typer', 'rich', 'matplotlib', 'numpy') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_public_api_exports():
    for name in archcalc.__all__:
        assert hasattr(archcalc, name), name
    assert set(archcalc.NETWORKS) >= {
        "alexnet",
        "alexnet-ungrouped",
        "alexnet-torchvision",
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
    }


# ------------------------------------------------------------------------------------------------ Keras path


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


def _tiny_model(keras):
    L = keras.layers
    inp = keras.Input((16, 16, 4), name="image")
    x = L.Conv2D(8, 3, padding="same", groups=2, name="grouped")(inp)
    x = L.BatchNormalization(name="bn")(x)
    x = L.ReLU(name="relu")(x)
    x = L.DepthwiseConv2D(3, strides=2, depth_multiplier=2, name="dw")(x)
    x = L.SeparableConv2D(12, 3, name="sep")(x)
    x = L.MaxPooling2D(2, name="pool")(x)
    x = L.Conv2DTranspose(4, 2, strides=2, name="deconv")(x)  # not understood: counted via count_params()
    x = L.Flatten(name="flat")(x)
    out = L.Dense(10, name="fc")(x)
    return keras.Model(inp, out, name="tiny")


def test_keras_saved_model(keras, tmp_path):
    from dltool.archcalc.keras_model import from_keras

    model = _tiny_model(keras)
    path = tmp_path / "tiny.keras"
    model.save(path)
    r = from_keras(str(path))
    assert model.count_params() == 1_538
    assert r.total_params == 1_538
    assert r.reference is None  # a saved model has no published count; count_params() is not a reference
    assert any("saved model has no published" in n for n in r.notes)
    assert not any("count_params() says" in n for n in r.notes)  # our count agrees with Keras'
    rows = {row.name: row for row in r.rows}
    assert rows["image"].kind == "input" and rows["image"].activations == 16 * 16 * 4
    assert rows["grouped"].weights == 3 * 3 * 2 * 8 and rows["grouped"].macs == 144 * 16 * 16
    assert rows["bn"].weights == 8 and rows["bn"].biases == 8 and rows["bn"].other_params == 16
    assert rows["dw"].output_shape == (7, 7, 16) and rows["dw"].weights == 3 * 3 * 16
    assert rows["sep"].output_shape == (5, 5, 12)
    assert rows["sep"].weights == 3 * 3 * 16 + 16 * 12 and rows["sep"].biases == 12
    assert rows["sep"].macs == 3 * 3 * 16 * 25 + 16 * 12 * 25
    assert rows["pool"].output_shape == (2, 2, 12)
    assert rows["deconv"].kind == "unknown" and rows["deconv"].params == 196 and rows["deconv"].macs == 0
    assert "unknown layer type Conv2DTranspose" in rows["deconv"].note
    assert rows["fc"].weights == 64 * 10 and rows["fc"].macs == 640
    # Receptive field through conv 3 -> depthwise 3/2 -> separable 3 -> pool 2/2.
    assert [rows[n].receptive_field for n in ("grouped", "relu", "dw", "sep", "pool")] == [3, 3, 5, 9, 11]
    assert rows["deconv"].receptive_field is None
    assert r.total_macs == 144 * 256 + 144 * 49 + 3600 + 4800 + 640
    json.dumps(r.to_dict())

    no_bias = from_keras(str(path), bias=False)
    assert no_bias.total_params == 1_538 - (8 + 16 + 12 + 10)  # deconv (unknown) keeps its bias
    assert any("count_params() says 1,538" in n for n in no_bias.notes)
    with pytest.raises(UsageError, match="fixed input shape"):
        from_keras(str(path), input_shape=(32, 32, 4))


def test_keras_sequential_and_nested(keras):
    from dltool.archcalc.keras_model import report_from_model

    L = keras.layers
    block = keras.Sequential([keras.Input((8, 8, 3)), L.Conv2D(4, 3, padding="same"), L.ReLU()], name="block")
    inp = keras.Input((8, 8, 3))
    x = block(inp)
    x = L.GlobalAveragePooling2D()(x)
    out = L.Dense(2)(x)
    model = keras.Model(inp, out)
    r = report_from_model(model)
    assert r.total_params == model.count_params() == (27 * 4 + 4) + (4 * 2 + 2)
    conv = [row for row in r.rows if row.kind == "conv"]
    assert len(conv) == 1 and conv[0].name.startswith("block/")
    assert [row.kind for row in r.rows].count("input") == 1
    gap = [row for row in r.rows if row.kind == "global_pool"][0]
    assert gap.output_shape == (4,) and gap.receptive_field is None


def test_keras_resnet50(keras):
    from dltool.archcalc.keras_model import from_keras

    r = from_keras("resnet50")
    assert r.name == "ResNet50"
    assert r.total_params == 25_636_712 == r.reference.params
    assert r.reference.source.startswith("Keras Applications docs")
    assert not [row for row in r.rows if row.kind == "unknown"]
    assert not [row for row in r.rows if "differs from Keras" in row.note]
    assert round(r.total_macs / 1e9, 2) == 3.86  # ResNet-50 v1 (stride on the 1x1): 3.86 G multiply-adds
    assert r.rows[-1].output_shape == (1000,)
    small = from_keras("resnet50", input_shape="128x128x3")  # global pooling: same parameters, fewer MACs
    assert small.input_shape == (128, 128, 3)
    assert small.total_params == 25_636_712
    assert small.reference is None and any("default input" in n for n in small.notes)
    assert small.total_macs < r.total_macs / 2


def test_keras_mobilenetv2_by_lowercase_name(keras):
    from dltool.archcalc.keras_model import from_keras

    r = from_keras("MOBILENET_v2")
    assert r.name == "MobileNetV2"
    assert r.total_params == 3_538_984 == r.reference.params
    assert round(r.total_macs / 1e6) == 301  # paper: 300 M multiply-adds
    assert any(row.kind == "depthwise_conv" for row in r.rows)


def test_static_application_names_match_keras(keras):
    """The list that answers unknown names without TensorFlow is the installed keras.applications' list."""
    from dltool.archcalc.keras_model import APPLICATION_NAMES, application_names, keras_application_names

    assert list(APPLICATION_NAMES) == sorted(APPLICATION_NAMES)  # sorted, no duplicates
    assert len(set(APPLICATION_NAMES)) == len(APPLICATION_NAMES)
    assert application_names() == keras_application_names()


def test_application_names_are_resolved_without_keras():
    code = (
        "import sys\nfrom dltool.archcalc.keras_model import resolve_application\n"
        "from dltool.errors import UsageError\n"
        "names = [resolve_application(n) for n in ('resnet50', 'MOBILENET_v2', 'efficientnet-v2s')]\n"
        "try:\n    resolve_application('resnet5')\nexcept UsageError as err:\n    hint = err.hint\n"
        "print(names, hint.startswith(\"Did you mean 'ResNet50'\"), 'keras' in sys.modules, "
        "'tensorflow' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['ResNet50', 'MobileNetV2', 'EfficientNetV2S'] True False False", proc.stdout

def test_keras_errors(keras, tmp_path):
    from dltool.archcalc.keras_model import from_keras

    with pytest.raises(UsageError) as info:
        from_keras("resnet5")
    assert "Did you mean 'ResNet50'" in info.value.hint
    with pytest.raises(UsageError, match="No such model file"):
        from_keras(str(tmp_path / "missing.keras"))
    bad = tmp_path / "bad.keras"
    bad.write_text("not a zip")
    with pytest.raises(UsageError, match="Cannot load"):
        from_keras(str(bad))


# The counts the issue names (published in the Keras Applications docs table); the rest of the table is checked
# by the slow test below. Each build is weights=None: no download, runs offline.
ISSUE_PUBLISHED = {
    "ResNet50": 25_636_712,
    "DenseNet121": 8_062_504,
    "MobileNet": 4_253_864,
    "EfficientNetB0": 5_330_571,
    "VGG16": 138_357_544,
}


def test_published_table_holds_the_documented_counts():
    from dltool.archcalc.keras_model import KERAS_APPLICATIONS_SOURCE, PUBLISHED_PARAMS

    for app, params in ISSUE_PUBLISHED.items():
        assert PUBLISHED_PARAMS[app] == params
    assert "keras.io/api/applications" in KERAS_APPLICATIONS_SOURCE


def _check_published(app):
    from dltool.archcalc.keras_model import KERAS_APPLICATIONS_SOURCE, PUBLISHED_PARAMS, from_keras

    r = from_keras(app)
    assert r.name == app
    assert r.reference is not None and r.reference.params == PUBLISHED_PARAMS[app]
    assert r.reference.source == KERAS_APPLICATIONS_SOURCE
    assert r.total_params == PUBLISHED_PARAMS[app], f"{app}: ours {r.total_params:,} vs published"
    assert not [row for row in r.rows if "differs from Keras" in row.note]


@pytest.mark.parametrize("app", sorted(set(ISSUE_PUBLISHED) - {"ResNet50"}))  # ResNet50: test_keras_resnet50
def test_keras_count_equals_published(keras, app):
    _check_published(app)


def _rest_of_table():
    from dltool.archcalc.keras_model import PUBLISHED_PARAMS

    return sorted(set(PUBLISHED_PARAMS) - set(ISSUE_PUBLISHED))


@pytest.mark.slow
@pytest.mark.parametrize("app", _rest_of_table())
def test_keras_count_equals_published_whole_table(keras, app):
    _check_published(app)


def test_keras_application_without_published_count_shows_none(keras):
    from dltool.archcalc.keras_model import PUBLISHED_PARAMS, from_keras

    assert "MobileNetV3Small" not in PUBLISHED_PARAMS
    r = from_keras("MobileNetV3Small")  # it leaves its input size open: counted at 224x224x3
    assert r.reference is None
    assert any("lists no parameter count for MobileNetV3Small" in n for n in r.notes)
    assert any("counted at 224x224x3" in n for n in r.notes)
    assert r.input_shape == (224, 224, 3)
    assert r.to_dict()["reference"] is None


def _check_rounded(app):
    from dltool.archcalc.keras_model import PUBLISHED_PARAMS_ROUNDED, from_keras

    r = from_keras(app)
    ref = r.reference
    assert ref is not None and ref.params_published_as == PUBLISHED_PARAMS_ROUNDED[app]
    assert ref.params_unit == 100_000 and ref.params == round(float(ref.params_published_as[:-1]) * 1e6)
    assert ref.params_match(r.total_params), f"{app}: ours {r.total_params:,} vs published {ref.params_published_as}"
    assert not ref.params_match(r.total_params + 100_000)
    return r


def test_keras_rounded_published_count(keras):
    r = _check_rounded("EfficientNetV2B0")
    assert r.total_params == 7_200_312  # the table: 7.2M
    assert "rounded" in r.reference.source


@pytest.mark.slow
@pytest.mark.parametrize("app", ["EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2S",
                                 "EfficientNetV2M", "EfficientNetV2L"])
def test_keras_rounded_published_count_whole_table(keras, app):
    _check_rounded(app)


def test_published_reference_only_for_the_published_configuration():
    from dltool.archcalc.keras_model import published_reference

    ref, note = published_reference("MobileNet", None, True)
    assert ref.params == 4_253_864 and note == ""
    ref, note = published_reference("MobileNet", None, False)
    assert ref is None and "no biases" in note
    ref, note = published_reference("MobileNet", (160, 160, 3), True)
    assert ref is None and "default input" in note
    ref, note = published_reference("ConvNeXtTiny", None, True)
    assert ref is None and "ConvNeXtTiny" in note
    ref, note = published_reference(None, None, True)
    assert ref is None and "saved model" in note
    ref, note = published_reference("EfficientNetV2L", None, True)
    assert ref.params == 119_000_000 and ref.params_text() == "119.0M"
    assert ref.params_match(119_027_848) and not ref.params_match(119_051_000)
