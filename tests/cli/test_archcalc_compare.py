"""archcalc with several networks: one comparison table (every output format), published counts and Δ, --sort,
options refused or applied to all, and no TensorFlow for built-ins."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from dltool.archcalc import FC, Conv, Reference, analyze
from dltool.archcalc.compare import SORT_KEYS, compare, depth, summarize

THREE = ("vgg16", "vgg19", "alexnet")


def _json(cli, *args):
    result = cli("archcalc", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_is_an_array_with_one_object_per_network(cli):
    doc = _json(cli, *THREE)
    assert isinstance(doc, list) and [n["name"] for n in doc] == list(THREE)
    vgg16, vgg19, alexnet = doc
    assert (vgg16["depth"], vgg19["depth"], alexnet["depth"]) == (16, 19, 8)  # the papers' layer counts
    assert (vgg16["total_params"], vgg19["total_params"], alexnet["total_params"]) == (138_357_544, 143_667_240,
                                                                                       60_965_224)
    assert vgg19["total_macs"] == 19_632_062_464 and vgg19["total_flops"] == 2 * 19_632_062_464
    assert vgg19["total_activations"] == 16_542_184
    assert vgg19["input_shape"] == [224, 224, 3] and alexnet["input_shape"] == [227, 227, 3]
    assert vgg19["memory"]["params_bytes"] == 143_667_240 * 4
    assert vgg19["memory"]["activation_bytes"] == 16_542_184 * 4


def test_json_has_published_values_sources_and_delta(cli):
    vgg16, vgg19, alexnet = _json(cli, *THREE)
    assert vgg19["published_params"] == 143_667_240 and vgg19["delta_params"] == 0 and vgg19["params_agree"]
    assert "vgg19" in vgg19["published_params_source"]
    # torchvision's table: 19.63 G; ours 19,632,062,464 → Δ = +2,062,464, which rounds to the published figure
    assert vgg19["published_macs"] == 19_630_000_000 and vgg19["delta_macs"] == 2_062_464
    assert vgg19["macs_agree"] is True and "torchvision" in vgg19["published_macs_source"]
    assert vgg16["published_macs"] == 15_470_000_000 and vgg16["delta_macs"] == 264_320
    assert alexnet["published_params"] == 60_965_224 and alexnet["delta_params"] == 0
    assert alexnet["published_macs"] is None and alexnet["delta_macs"] is None  # nothing published
    assert alexnet["reference"]["source"].startswith("Caffe")


def test_rows_equal_the_single_network_totals(cli):
    for row in _json(cli, "vgg11", "alexnet-torchvision", "--batch-size", "8", "--dtype", "bf16"):
        one = _json(cli, row["name"], "--batch-size", "8", "--dtype", "bf16")
        assert {k: row[k] for k in ("total_params", "total_macs", "total_flops", "total_activations", "memory",
                                    "reference", "input_shape")} == \
               {k: one[k] for k in ("total_params", "total_macs", "total_flops", "total_activations", "memory",
                                    "reference", "input_shape")}


def test_table_shows_every_network_published_values_and_delta(cli):
    result = cli("archcalc", *THREE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 networks compared (memory at batch 1, fp32)" in out
    for text in ("vgg16", "vgg19", "alexnet", "depth", "params, Δ", "MACs, Δ", "143,667,240", "19.632 G",
                 "39.264 G", "574.67 MB", "66.17 MB", "+2,062,464 ✓", "+264,320 ✓", "19.63 G [2]",
                 "[2] torchvision model table", "[4] Caffe bvlc_alexnet", "227×227×3"):
        assert text in out, text
    assert "in the order given" in out


def test_terminal_table_shows_whole_numbers_at_120_columns():
    """With a column per value (13) rich cut the numbers of a 120-column terminal to '138,3…'; stacked in pairs
    (8 columns) every number and the longest built-in name stay whole."""
    from rich.console import Console

    from dltool import archcalc as ac
    from dltool.report.tables import to_rich
    from dltool.report.views.archcalc import comparison

    names = ("resnet101-torchvision", "mobilenetv2-keras", "vgg19", "alexnet")
    result = compare([ac.build(n) for n in names])
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(to_rich(comparison(result, stacked=True)[0][0]))
    text = console.export_text()
    assert "…" not in text
    for n in result.networks:
        for whole in (n.name, f"{n.total_params:,}", f"{n.total_activations:,}", f"{n.delta_macs:+,}" if
                      n.delta_macs is not None else "—", f"{n.memory.params_mb:,.2f} MB"):
            assert whole in text, whole


def test_csv_has_one_row_per_network_with_raw_numbers(cli):
    result = cli("archcalc", *THREE, "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["name"] for r in rows] == list(THREE)
    vgg19 = rows[1]
    assert vgg19["total_params"] == "143667240" and vgg19["total_macs"] == "19632062464"
    assert vgg19["delta_macs"] == "2062464" and vgg19["published_macs"] == "19630000000"
    assert vgg19["depth"] == "19" and vgg19["input_shape"] == "224x224x3"
    assert rows[2]["published_macs"] == "" and rows[2]["delta_params"] == "0"


def test_markdown_table(cli):
    result = cli("archcalc", "vgg16", "alexnet", "--markdown")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "### 2 networks compared"
    header = next(line for line in lines if line.startswith("| network"))
    assert "Δ params" in header and "published MACs" in header
    body = [line for line in lines if line.startswith("| vgg16") or line.startswith("| alexnet")]
    assert len(body) == 2 and "138,357,544 [1]" in body[0] and "+0 ✓" in body[0]


@pytest.mark.parametrize("key, order", [
    ("params", ["alexnet", "alexnet-torchvision", "vgg11"]),  # 60,965,224 < 61,100,840 < 132,863,336
    ("macs", ["alexnet-torchvision", "alexnet", "vgg11"]),  # 0.714 G < 0.724 G < 7.609 G
    ("memory", ["alexnet-torchvision", "alexnet", "vgg11"]),
])
def test_sort(cli, key, order):
    doc = _json(cli, "vgg11", "alexnet-torchvision", "alexnet", "--sort", key)
    assert [n["name"] for n in doc] == order
    values = [n["total_params"] if key == "params" else n["total_macs"] if key == "macs"
              else n["memory"]["total_bytes"] for n in doc]
    assert values == sorted(values)
    table = cli("archcalc", "vgg11", "alexnet-torchvision", "alexnet", "--sort", key).stdout
    assert f"sorted by {SORT_KEYS[key]} (--sort {key}), smallest first" in table
    assert [table.index(f"│ {name} ") for name in order] == sorted(table.index(f"│ {name} ") for name in order)


def test_sort_keys_of_the_cli_are_the_comparisons():
    from dltool.cli.commands.archcalc import SortKey

    assert [k.value for k in SortKey] == list(SORT_KEYS)


def test_no_bias_and_input_apply_to_every_network(cli):
    doc = _json(cli, "vgg19", "alexnet", "--no-bias")
    assert doc[0]["total_params"] == 143_652_544 and doc[0]["bias"] is False
    assert all(n["published_params"] is None and n["delta_params"] is None for n in doc)  # not the published model
    assert any("no biases" in note for note in doc[0]["notes"])
    doc = _json(cli, "vgg16", "alexnet", "--input", "224x224x3")
    assert [n["input_shape"] for n in doc] == [[224, 224, 3], [224, 224, 3]]
    assert doc[0]["published_params"] == 138_357_544  # vgg16's own input: still the published model
    assert doc[1]["published_params"] is None  # alexnet at 224 is not


def test_one_network_keeps_the_per_layer_view(cli):
    doc = _json(cli, "vgg19")
    assert isinstance(doc, dict) and len(doc["rows"]) == 25 and "depth" not in doc


@pytest.mark.parametrize("args, needle", [
    (["vgg16", "vgg20"], "unknown network 'vgg20'. did you mean 'vgg19'?"),
    (["vgg16", "resnet5"], "did you mean 'resnet50'"),
    (["vgg16", "inception"], "'inception' is not a network and cannot be compared"),
    (["receptive-field", "vgg16"], "'receptive-field' is not a network"),
    (["vgg16", "list"], "'list' is not a network"),
    (["vgg16", "vgg-d"], "vgg16 is given twice (as 'vgg16' and 'vgg-d')"),
    (["vgg16", "vgg19", "--f1", "3"], "--f1 applies to one network's per-layer view"),
    (["vgg16", "vgg19", "--preset", "googlenet-3a"], "--preset applies to one network's per-layer view"),
    (["vgg16", "vgg19", "-n", "3", "-f", "5"], "--layers, --kernel apply to one network's per-layer view"),
    (["vgg16", "vgg19", "--no-formulas"], "--formulas/--no-formulas applies to one network's"),
    (["vgg16", "vgg19", "--sort", "depth"], "'depth' is not one of 'params', 'macs', 'memory'"),
    (["vgg19", "--sort", "params"], "--sort orders the rows of a comparison of several networks"),
    (["vgg16", "vgg19", "--batch-size", "0"], "--batch-size"),
    (["vgg16", "vgg19", "--dtype", "fp8"], "Unknown dtype"),
    (["vgg16", "vgg19", "--input", "abc"], "224x224x3"),
    (["vgg16", "alexnet", "--input", "16x16x3"], "vgg16 needs an input of at least 32x32x3"),
    (["vgg16", "no-such-file.keras"], "No such model file: no-such-file.keras"),
    (["vgg16", "vgg19", "--json", "--csv"], "only use one of"),
])
def test_bad_input_is_one_line_exit_2(cli, args, needle):
    result = cli("archcalc", *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dltool: error:"), lines
    assert needle in lines[0]
    assert result.stdout == ""


def _in_subprocess(tmp_path, *args):
    code = ("import sys\nfrom dltool.cli.app import main\n"
            "print('RC', main(['archcalc', *sys.argv[1:]]), 'tensorflow' in sys.modules, 'keras' in sys.modules,"
            " 'numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path,
                          env=dict(os.environ), timeout=120)
    return done.stdout.splitlines()[-1].split(), done


@pytest.mark.parametrize("names", [THREE, ("resnet50", "googlenet", "mobilenetv2", "densenet121", "squeezenet1_1")])
def test_built_ins_are_compared_without_tensorflow(tmp_path, names):
    last, done = _in_subprocess(tmp_path, *names, "--json")
    assert last == ["RC", "0", "False", "False", "False"], (done.stdout[-500:], done.stderr)  # nor numpy
    assert [n["name"] for n in json.loads(done.stdout[:done.stdout.rindex("RC")])] == list(names)


@pytest.mark.parametrize("args", [("efficientnetb0", "vgg20"), ("efficientnetb0", "missing.keras"),
                                  ("efficientnetb0", "vgg16", "-f", "3"), ("efficientnetb0", "vgg16", "--input", "7"),
                                  ("xception", "efficientnetb0", "Xception")])
def test_bad_names_among_keras_ones_are_refused_before_tensorflow(tmp_path, args):
    """A Keras application imports TensorFlow (seconds): every name and option is checked before that."""
    last, done = _in_subprocess(tmp_path, *args)
    assert last == ["RC", "2", "False", "False", "False"], (done.stdout, done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_keras_application_beside_built_ins(cli):
    pytest.importorskip("tensorflow")
    doc = _json(cli, "efficientnetb0", "resnet18", "mobilenetv2", "--sort", "params")
    assert [n["name"] for n in doc] == ["mobilenetv2", "EfficientNetB0", "resnet18"]  # 3.50 M < 5.33 M < 11.69 M
    keras = doc[1]
    assert keras["total_params"] == 5_330_571 and keras["published_params"] == 5_330_571
    assert keras["delta_params"] == 0 and keras["params_agree"] is True
    assert keras["published_macs"] is None and keras["delta_macs"] is None  # the Keras table publishes no MACs
    assert keras["depth"] == 82  # 81 convolutions (depthwise and 1x1 included) + the classifier
    assert "keras.io/api/applications" in keras["published_params_source"]


def test_every_built_in_network_of_the_registry_is_compared(cli):
    """The comparison reads only a report's totals: every name the registry builds takes part, whatever its family."""
    from dltool import archcalc as ac

    names = ac.known_names()
    doc = _json(cli, *names)
    assert [n["name"] for n in doc] == names
    for row in doc:
        report = ac.build(row["name"])
        assert (row["total_params"], row["total_macs"], row["total_activations"]) == \
            (report.total_params, report.total_macs, report.total_activations)
        assert 1 <= row["depth"] < len(report.rows)
        if report.reference is not None:
            assert row["delta_params"] == report.total_params - report.reference.params
            assert row["params_agree"] == report.reference.params_match(report.total_params)


# ---- the numbers (dltool.archcalc.compare), without the CLI ----------------------------------------------

def _three():
    """A: FC-heavy (many params, few activations); B: a conv on a large input (many MACs and activations); C: small."""
    a = analyze("A", (8, 8, 1), [FC(9_000)])  # params 585,000, MACs 576,000, activations 9,064
    b = analyze("B", (64, 64, 3), [Conv(16, 3)])  # params 448, MACs 1,769,472, activations 77,824
    c = analyze("C", (32, 32, 3), [Conv(8, 3)])  # params 224, MACs 221,184, activations 11,264
    return a, b, c


def test_compare_sorts_smallest_first_by_each_key():
    reports = _three()
    assert compare(reports, sort="params").names == ["C", "B", "A"]
    assert compare(reports, sort="macs").names == ["C", "A", "B"]
    assert compare(reports, sort="memory").names == ["C", "B", "A"]  # batch 1: A's parameters dominate
    assert compare(reports, batch_size=100, sort="memory").names == ["C", "A", "B"]  # B's activations do
    assert compare(reports).names == ["A", "B", "C"]


def test_depth_counts_weighted_layers_only():
    report = analyze("net", (32, 32, 3), [Conv(8, 3), Conv(8, 3, groups=8), FC(10)])
    assert depth(report) == 3
    from dltool.archcalc import Pool

    assert depth(analyze("pools", (32, 32, 3), [Pool(2), Conv(4, 3), Pool(2), FC(5)])) == 2


def test_published_values_rounded_and_exact():
    a = _three()[0]
    a.reference = Reference(585_000, "exact", 0.000576, "macs source")
    s = summarize(a)
    assert (s.delta_params, s.params_agree, s.published_macs, s.delta_macs, s.macs_agree) == (0, True, 576_000, 0,
                                                                                              True)
    a.reference = Reference(600_000, "rounded", 0.001, "macs source", params_published_as="0.6M", params_unit=100_000)
    s = summarize(a)
    assert (s.published_params_text, s.delta_params, s.params_agree) == ("0.6M", -15_000, True)  # rounds to 0.6 M
    assert (s.delta_macs, s.macs_agree) == (-424_000, True)  # 0.000576 G is 0.001 G at three decimals
    a.reference = Reference(586_000, "off by 1,000", 0.0007, "macs source")
    s = summarize(a)
    assert (s.delta_params, s.params_agree, s.delta_macs, s.macs_agree) == (-1_000, False, -124_000, False)
    a.reference = None
    s = summarize(a)
    assert (s.published_params, s.delta_params, s.params_agree, s.published_macs, s.macs_agree) == (None,) * 5
