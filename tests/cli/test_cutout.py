"""dltool cutout show / train end to end: the figure on real sample images, the --quick training preset with
--json, resuming a run folder, and the exit code of each kind of bad input."""

from __future__ import annotations

import json

import pytest


def test_help(cli):
    result = cli("cutout", "--help")
    assert result.exit_code == 0 and "show" in result.stdout and "train" in result.stdout
    result = cli("cutout", "train", "--help")
    text = " ".join(result.stdout.split())
    for needle in ("ResNet-44 with batch augmentation", "--resume", "--target", "0.94", "--max-epochs", "--ms",
                   "--quick: a demo that learns", "ResNet-8", "not the 94 % target", "--lr-schedule", "He et al.",
                   "Hoffer et al., 2019"):
        assert needle in text, needle


def test_show_two_real_images(cli, cifar_dir, tmp_path):
    out = tmp_path / "show"
    result = cli("cutout", "show", "--json", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["images"]) == 2 and doc["config"]["size"] == 16
    for image in doc["images"]:
        y1, y2, x1, x2 = image["box"]
        cy, cx = image["centre"]
        assert (y1, y2, x1, x2) == (max(cy - 8, 0), min(cy + 8, 32), max(cx - 8, 0), min(cx + 8, 32))
        assert 0 < image["zeroed_pixels"] <= (y2 - y1) * (x2 - x1)
    figure = out / "cutout_examples.png"
    assert doc["figure"] == str(figure) and figure.stat().st_size > 20_000



def test_show_no_save_writes_nothing(cli, cifar_dir, tmp_path, monkeypatch):
    """--no-save (every other command has it; show refused it as an unknown option): the same table and JSON,
    no run folder and no figure."""
    monkeypatch.chdir(tmp_path)
    result = cli("cutout", "show", "-n", "3", "--no-save", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["images"]) == 3 and doc["figure"] is None
    result = cli("cutout", "show", "--no-save", "--markdown")
    assert result.exit_code == 0, result.output
    assert "cutout show: 2 CIFAR-10 train images" in result.stdout and "Figure not saved" in result.stdout
    assert list(tmp_path.iterdir()) == []  # no runs/ folder, no PNG
    refused = cli("cutout", "show", "--no-save", "--out", str(tmp_path / "x"))
    assert refused.exit_code == 2 and "--no-save" in refused.stderr and not (tmp_path / "x").exists()

@pytest.mark.slow
def test_quick_demo_learns_and_says_what_it_cannot_show(cli, cifar_dir, tmp_path):
    """--quick must show learning: both Ms above 20 % validation accuracy (chance: 10 %; a smaller preset of two
    steps ended at 7.81 %, a constant predictor). Measured 24.4 % (M = 1) and 26.8 % (M = 2), ≈ 30 s of CPU."""
    out = tmp_path / "train"
    result = cli("cutout", "train", "--quick", "--json", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["m"] for r in doc["runs"]] == [1, 2]
    assert [r["images_per_step"] for r in doc["runs"]] == [64, 128]
    assert doc["parameters"] == 75_770 and doc["config"]["depth"] == 8  # --quick uses ResNet-8
    assert doc["config"]["lr_schedule"] == "constant" and doc["config"]["target"] == 0.94
    assert doc["dataset"]["train"] == 1_500 and doc["dataset"]["validation"] == 500
    for run in doc["runs"]:
        assert run["status"] == "finished" and run["epochs_run"] == 2 and run["time_to_target"] is None
        assert run["final_val_accuracy"] > 0.20, run["final_val_accuracy"]
        assert run["test_accuracy"] > 0.15
        assert run["train_losses"][-1] < run["train_losses"][0]
    # the run says how it differs from the assignment, so its numbers are not read as the 94 % study
    gaps = " ".join(doc["setup_gaps"])
    for needle in ("ResNet-8, not ResNet-44", "1,500 training images", "2 epochs, not up to 100", "constant η",
                   "without M = 4, 8, 16, 32"):
        assert needle in gaps, needle
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 2
    assert saved["setup_gaps"] == doc["setup_gaps"]
    assert (out / "validation_error.png").stat().st_size > 20_000

    # Resume: everything is finished already, so nothing trains and the stored runs come back as they were.
    again = cli("cutout", "train", "--resume", str(out), "--json")
    assert again.exit_code == 0, again.stderr
    redo = json.loads(again.stdout)
    assert redo["resumed"] == [1, 2] and redo["runs"] == doc["runs"]
    assert len(json.loads((out / "results.json").read_text())["runs"]) == 2


def test_short_run_table_says_it_is_not_the_assignment(cli, cifar_dir):
    result = cli("cutout", "train", "--quick", "--ms", "1", "--epochs", "1", "--subset", "200", "--validation",
                 "64", "--test-subset", "64", "--no-save")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "a short run (not the assignment's set-up)" in text
    assert "What it cannot show: the epochs and time to 94 %" in text
    assert "target 94 %" not in text.split("┏")[0]  # the title does not promise the target


def test_resume_of_a_partial_run_trains_only_the_missing_m(cli, cifar_dir, tmp_path):
    out = tmp_path / "partial"
    first = cli("cutout", "train", "--quick", "--ms", "1", "--epochs", "1", "--subset", "200", "--validation", "64",
                "--test-subset", "64", "--json", "--out", str(out))
    assert first.exit_code == 0, first.stderr
    doc = json.loads((out / "results.json").read_text())
    doc["config"]["ms"] = [1, 2]  # as if M = 2 had been interrupted
    doc["status"] = "interrupted"
    (out / "results.json").write_text(json.dumps(doc))
    result = cli("cutout", "train", "--resume", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    redo = json.loads(result.stdout)
    assert [r["m"] for r in redo["runs"]] == [1, 2] and redo["resumed"] == [1]
    assert redo["runs"][0] == json.loads(first.stdout)["runs"][0]
    assert len(json.loads((out / "results.json").read_text())["runs"]) == 2


@pytest.mark.parametrize("args,needle", [
    (["show", "-n", "0"], "-n"),
    (["show", "--size", "40"], "--size"),
    (["show", "--split", "valid"], "--split"),
    (["train", "--ms", "0,2"], "--ms"),
    (["train", "--ms", "two"], "not a whole number"),
    (["train", "--target", "1.5"], "--target"),
    (["train", "--depth", "45"], "6n+2"),
    (["train", "--lr", "-1"], "--lr"),
    (["train", "--lr-schedule", "cosine"], "--lr-schedule"),
    (["train", "--resume", "no-such-folder"], "no results.json"),
    (["train", "--json", "--markdown"], "only use one of"),
])
def test_bad_input_exits_2(cli, args, needle, tmp_path):
    extra = ["--no-save"] if args[0] == "train" and "--resume" not in args else []
    result = cli("cutout", *args, *extra)
    assert result.exit_code == 2, result.stderr
    assert needle in result.stderr and result.stdout == ""


def test_missing_data_exits_3(cli, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(empty))
    for args in (["show"], ["train", "--quick"]):
        out = tmp_path / f"run-{args[0]}"
        result = cli("cutout", *args, "--data-dir", str(empty), "--out", str(out))
        assert result.exit_code == 3 and "cifar10" in result.stderr
        assert not out.exists()


def test_show_run_folder_is_a_run_folder(cli, cifar_dir, tmp_path, monkeypatch):
    """show's --out promised results.json but wrote only the PNG, so `runs show` said "not a run folder" and
    `dltool runs` did not list it. Now results.json is the --json document with the bookkeeping and the table."""
    monkeypatch.chdir(tmp_path)
    result = cli("cutout", "show", "-n", "3", "--json")  # the default folder, runs/cutout-show-<time>/
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (folder,) = (tmp_path / "runs").iterdir()
    saved = json.loads((folder / "results.json").read_text())
    here = f"runs/{folder.name}"  # as made: relative to where the command ran
    assert {k: saved[k] for k in doc} == doc and doc["figure"] == f"{here}/cutout_examples.png"
    assert (saved["command"], saved["status"], saved["run_dir"]) == ("cutout show", "finished", here)
    listed = json.loads(cli("runs", "--json").stdout)["runs"]
    assert [(r["name"], r["command"], r["status"]) for r in listed] == [(folder.name, "cutout show", "finished")]
    shown = cli("runs", "show", str(folder))
    assert shown.exit_code == 0, shown.stderr
    assert "cutout show: 3 CIFAR-10 train images" in shown.stdout
    assert all(f"{image['index']:,}" in shown.stdout for image in doc["images"])
