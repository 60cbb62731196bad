"""archcalc through the CLI: the numbers of the issue, every output format, bad input."""

from __future__ import annotations

import csv
import io
import json

import pytest


def _json(cli, *args):
    result = cli("archcalc", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_vgg19_json_has_every_row_and_totals(cli):
    doc = _json(cli, "vgg19")
    assert doc["total_params"] == 143_667_240
    assert doc["total_activations"] == 16_542_184
    assert len(doc["rows"]) == 1 + 16 + 5 + 3  # input, 16 convolutions, 5 pools, 3 FC
    first_conv = doc["rows"][1]
    assert (first_conv["name"], first_conv["activations"], first_conv["weights"]) == ("CONV3-64", 3_211_264, 1_728)
    fc = next(r for r in doc["rows"] if r["name"] == "FC-4096")
    assert fc["weights"] == 102_760_448
    assert doc["rows"][2]["formulas"]["weights"] == "(3*3*64)*64 = 36,864"
    assert doc["reference"]["params"] == 143_667_240


def test_vgg19_without_biases(cli):
    assert _json(cli, "vgg19", "--no-bias")["total_params"] == 143_652_544


@pytest.mark.parametrize("name,params", [("alexnet", 60_965_224), ("alexnet-ungrouped", 62_378_344),
                                         ("alexnet-torchvision", 61_100_840)])
def test_alexnet_variants(cli, name, params):
    assert _json(cli, name)["total_params"] == params


def test_memory_units_follow_batch_and_dtype(cli):
    doc = _json(cli, "vgg16", "--batch-size", "32", "--dtype", "bf16")
    memory = doc["memory"]
    assert memory["params_bytes"] == 138_357_544 * 2
    assert memory["activation_bytes"] == doc["total_activations"] * 32 * 2
    assert memory["params_mb"] == pytest.approx(memory["params_bytes"] / 1e6)
    assert memory["params_mib"] == pytest.approx(memory["params_bytes"] / 2**20)


def test_inception_defaults(cli):
    doc = _json(cli, "inception", "--input", "32x32x256")
    assert doc["naive"]["total_multiplications"] == 1_115_684_864
    assert doc["reduced"]["total_multiplications"] == 354_418_688
    assert doc["naive"]["output_shape"] == [32, 32, 672]
    assert doc["reduced"]["output_shape"] == [32, 32, 480]


def test_inception_report_004_has_no_published_number(cli):
    doc = _json(cli, "inception")
    assert doc["preset"] == "report-004" and doc["reference"] is None
    assert doc["reduced"]["total_multiplications"] == 354_418_688


@pytest.mark.parametrize("args", [
    ["--preset", "googlenet-3a"],
    ["--input", "28x28x192", "--f1", "64", "--f3", "128", "--f5", "32", "--reduce3", "96", "--reduce5", "16",
     "--pool-proj", "32"],
])
def test_inception_googlenet_3a(cli, args):
    doc = _json(cli, "inception", *args)
    assert doc["reduced"]["total_multiplications"] == 128_049_152
    assert doc["reduced"]["output_shape"] == [28, 28, 256]
    assert doc["preset"] == "googlenet-3a"
    assert doc["reference"]["published_as"] == "128M"
    assert doc["reference"]["source"].startswith("Szegedy et al. 2015, Table 1")


def test_inception_googlenet_3a_table_shows_the_reference(cli):
    result = cli("archcalc", "inception", "--preset", "googlenet-3a")
    assert result.exit_code == 0, result.stderr
    assert "128,049,152" in result.stdout and "128M" in result.stdout
    assert "Szegedy et al. 2015, Table 1" in result.stdout and "agrees" in result.stdout


def test_inception_shared_reduce_is_not_googlenet(cli):
    doc = _json(cli, "inception", "--input", "28x28x192", "--f1", "64", "--f3", "128", "--f5", "32",
                "--reduce", "96", "--pool-proj", "32")
    assert doc["reduced"]["total_multiplications"] == 190_267_392
    assert doc["reference"] is None


def test_inception_preset_with_override(cli):
    doc = _json(cli, "inception", "--preset", "googlenet-3a", "--reduce5", "96")
    assert doc["reduced"]["total_multiplications"] == 190_267_392 and doc["reference"] is None


def test_receptive_field_of_three_5x5(cli):
    assert _json(cli, "receptive-field", "-n", "3", "-f", "5")["receptive_field"] == 13


def test_table_output_shows_formulas_and_reference(cli):
    result = cli("archcalc", "vgg19")
    assert result.exit_code == 0
    assert "(3*3*64)*64 = 36,864" in result.stdout
    assert "143,667,240" in result.stdout and "MiB" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour codes when stdout is not a terminal


def test_csv_has_raw_numbers(cli):
    result = cli("archcalc", "vgg19", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[1]["layer"] == "CONV3-64" and rows[1]["weights"] == "1728"
    assert sum(int(r["params"]) for r in rows) == 143_667_240


def test_markdown_table(cli):
    result = cli("archcalc", "alexnet", "--markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("### alexnet")
    assert "|" in result.stdout and "60,965,224" in result.stdout


def test_list(cli):
    doc = _json(cli, "list")
    assert {n["name"] for n in doc["networks"]} >= {"alexnet", "vgg11", "vgg13", "vgg16", "vgg19"}


@pytest.mark.parametrize("args,needle", [
    (["vgg91"], "did you mean 'vgg19'"),
    (["vgg19", "--input", "224x224"], None),  # H×W means C=3: valid
    (["vgg19", "--input", "abc"], "224x224x3"),
    (["vgg19", "--input", "0x224x3"], None),
    (["vgg19", "--input", "16x16x3"], "larger than its"),
    (["receptive-field", "-n", "0"], None),
    (["inception", "--input", "32x32x-1"], None),
    (["vgg19", "--batch-size", "0"], "--batch-size"),
    (["vgg19", "--dtype", "fp8"], None),
    (["inception", "--reduce", "64", "--reduce3", "96"], "--reduce cannot be combined with --reduce3"),
    (["inception", "--reduce", "64", "--reduce5", "16"], "--reduce cannot be combined with --reduce5"),
    (["inception", "--reduce", "1", "--reduce3", "2", "--reduce5", "3"], "--reduce3 and --reduce5"),
    (["inception", "--reduce3", "0"], "reduce3 must be a positive integer"),
    (["inception", "--reduce5", "-4"], "reduce5 must be a positive integer"),
    (["inception", "--preset", "googlenet-3z"], "googlenet-3a"),
    (["vgg19", "--reduce3", "96"], "--reduce3 applies only to 'dltool archcalc inception'"),
    (["alexnet", "--preset", "googlenet-3a", "--f1", "3"], "--preset, --f1 apply only to"),
    (["vgg19", "--kernel", "3"], "--kernel applies only to 'dltool archcalc receptive-field', not to 'vgg19'"),
    (["alexnet", "-n", "2", "-f", "3"], "--layers, --kernel apply only to 'dltool archcalc receptive-field'"),
    (["inception", "--layers", "4"], "--layers applies only to 'dltool archcalc receptive-field'"),
    (["resnet50", "-f", "7"], "--kernel applies only to"),  # refused before TensorFlow builds ResNet50
])
def test_bad_input_is_one_line_exit_2(cli, args, needle):
    result = cli("archcalc", *args)
    if args == ["vgg19", "--input", "224x224"]:
        assert result.exit_code == 0
        return
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dltool: error:")
    if needle:
        assert needle in lines[0]


def test_vgg19_note_says_parameters_are_not_compute(cli):
    result = cli("archcalc", "vgg19", "--no-bias")
    assert result.exit_code == 0
    assert "Parameters (Compute)" in result.stdout and "not compute" in result.stdout


@pytest.mark.slow
def test_keras_application_by_name(cli):
    pytest.importorskip("tensorflow")
    doc = _json(cli, "resnet50v2")  # a Keras application with no built-in twin: built by TensorFlow
    assert doc["total_params"] == 25_613_800
    assert doc["reference"]["params"] == 25_613_800
    assert "keras.io/api/applications" in doc["reference"]["source"]


def test_resnet50_is_built_in_in_both_counts(cli):
    """resnet50 counts as torchvision does; resnet50-keras as Keras' table (convolution biases, BN statistics)."""
    assert _json(cli, "resnet50")["total_params"] == 25_557_032
    assert _json(cli, "resnet50-keras")["total_params"] == 25_636_712


def test_receptive_field_options_keep_their_defaults(cli):
    assert (_json(cli, "receptive-field")["n"], _json(cli, "receptive-field")["f"]) == (3, 5)
    doc = _json(cli, "rf", "-n", "2", "-f", "3")
    assert (doc["n"], doc["f"], doc["receptive_field"]) == (2, 3, 5)


@pytest.mark.parametrize("name, suggestion", [("nosuchnet", None), ("resnet5", "did you mean 'resnet50'"),
                                              ("mobilenetv4", "did you mean 'mobilenetv2'")])
def test_unknown_network_is_answered_without_tensorflow(tmp_path, name, suggestion):
    """The unknown-name path (and its "did you mean" among Keras applications) used to import TensorFlow (≈ 3.7 s)
    to list keras.applications; the list is now known without it."""
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom dltool.cli.app import main\n"
            "print(main(['archcalc', sys.argv[1]]), 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, cwd=tmp_path,
                          env=dict(os.environ), timeout=120)
    assert done.stdout.split() == ["2", "False", "False"], (done.stdout, done.stderr)
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"dltool: error: unknown network {name!r}")
    assert (suggestion in line) if suggestion else ("did you mean" not in line)
