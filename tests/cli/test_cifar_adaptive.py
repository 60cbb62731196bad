"""dltool cifar-adaptive end to end: --help content, the --quick preset with --json and its run folder, and the
exit code of each kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


@pytest.fixture
def cifar_dir(monkeypatch) -> Path:
    if not (DATASETS / "cifar-10-sample").is_dir():
        pytest.skip("the CIFAR-10 sample is not in ../shared/datasets")
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(DATASETS))
    return DATASETS


def test_help_shows_update_equations_and_the_dropout_note(cli):
    result = cli("cifar-adaptive", "--help", terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for needle in ("AdaGrad (η=0.01): r ← r + g²", "RMSProp + Nesterov (η=0.0001)", "v ← μv + η·g/√(r+ε)",
                   "AdaDelta (η=1)", "Adam (η=0.0001): m ← β₁m + (1−β₁)g", "β₂=0.999", "inverted dropout",
                   "multiplies the outgoing weights by p at test time", "λ=1e-4", "[default: 200]"):
        assert needle in text, needle


def test_quick_json_and_run_folder(cli, cifar_dir, tmp_path):
    out = tmp_path / "run"
    result = cli("cifar-adaptive", "--quick", "--json", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    methods = ["adagrad", "rmsprop", "rmsprop-nesterov", "adadelta", "adam"]
    assert [r["method"] for r in doc["rows"]] == methods
    assert [(r["part"], r["method"]) for r in doc["runs"]] == [(p, m) for p in (2, 3) for m in methods]
    assert doc["config"]["epochs"] == 2 and doc["config"]["subset"] == 512 and doc["dataset"]["test"] == 256
    assert doc["parameters"] == 4_084_010
    for run in doc["runs"]:
        assert run["status"] == "finished" and len(run["epoch_losses"]) == 2 and run["steps"] == 8
        assert 0 <= run["test_accuracy"] <= 1
    for row in doc["rows"]:
        assert row["time_ratio"] == pytest.approx(row["seconds_dropout"] / row["seconds"])
        assert row["best_loss"] <= row["final_loss"]
    assert doc["dropout_check"]["max_abs_diff"] < 1e-4
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == 10
    assert len((out / "runs.jsonl").read_text().splitlines()) == 10
    for png in ("training_loss.png", "test_accuracy.png"):
        assert (out / png).stat().st_size > 20_000


def test_markdown_table(cli, cifar_dir):
    result = cli("cifar-adaptive", "--quick", "--methods", "adam", "--parts", "2", "--epochs", "1", "--no-save",
                 "--markdown")
    assert result.exit_code == 0, result.stderr
    assert "| adam" in result.stdout and "test acc" in result.stdout


@pytest.mark.parametrize("args,code,needle", [
    (["--methods", "adamm"], 2, "did you mean 'adam'"),
    (["--methods", "gd"], 2, "not one of this study's methods"),
    (["--lrs", "adam"], 2, "method=lr"),
    (["--lrs", "adam=-1"], 2, "positive"),
    (["--parts", "4"], 2, "--parts"),
    (["--dropout", "1.5"], 2, "--dropout"),
    (["--epochs", "0"], 2, "--epochs"),
    (["--json", "--csv"], 2, "only use one of"),
])
def test_bad_input_exit_codes(cli, args, code, needle):
    result = cli("cifar-adaptive", *args, "--no-save")
    assert result.exit_code == code
    assert needle in result.stderr
    assert result.stdout == ""


def test_missing_data_exits_3_without_a_run_folder(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("DLTOOL_DATA_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    out = tmp_path / "run"
    result = cli("cifar-adaptive", "--quick", "--data-dir", str(tmp_path / "empty"), "--out", str(out))
    assert result.exit_code == 3
    assert "cifar10" in result.stderr and not out.exists()
