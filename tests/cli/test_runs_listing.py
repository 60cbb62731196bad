"""dltool runs: where there are no runs yet, and the headline of runs whose records group rows (allreduce)."""

from __future__ import annotations

import json

import pytest

# an allreduce results.json as it is written: one run record per implementation × device count, holding its bus
# rows (bytes/s) and its training row (examples/s)
BUS = [{"strategy": "mirrored", "implementation": impl, "devices": 2, "message": msg, "bytes": size,
        "algbw": bw, "busbw": bw, "status": "ok"}
       for impl, msg, size, bw in (("ring", "4 KiB", 4096, 2.0e8), ("ring", "256 KiB", 262144, 3.5e9),
                                   ("reduction-to-one-device", "256 KiB", 262144, 1.25e9))]


def _allreduce(train: bool) -> dict:
    runs = [{"strategy": "mirrored", "implementation": "none", "devices": 1, "bus": [],
             "train": {"implementation": "none", "devices": 1, "throughput": 410.0} if train else None}]
    for impl in ("ring", "reduction-to-one-device"):
        runs.append({"strategy": "mirrored", "implementation": impl, "devices": 2,
                     "bus": [r for r in BUS if r["implementation"] == impl],
                     "train": {"implementation": impl, "devices": 2,
                               "throughput": 700.0 if impl == "ring" else 650.0} if train else None})
    return {"command": "allreduce", "status": "finished", "started": "2026-01-01T12:00:00",
            "finished": "2026-01-01T12:01:00", "config": {"train": train}, "runs": runs}


@pytest.fixture
def allreduce_runs(tmp_path):
    for name, train in (("trained", True), ("bus-only", False)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(_allreduce(train)))
    return tmp_path


def test_allreduce_runs_have_a_headline(cli, allreduce_runs):
    """allreduce keeps its numbers inside each run record's bus rows and training row: the list had no headline
    (—) and `runs compare` no results for it. Now: the best throughput, or the best busbw without training."""
    result = cli("runs", str(allreduce_runs), "--json")
    assert result.exit_code == 0, result.stderr
    listed = {r["name"]: r for r in json.loads(result.stdout)["runs"]}
    assert (listed["trained"]["headline_metric"], listed["trained"]["headline_value"],
            listed["trained"]["headline_run"]) == ("throughput", 700.0, "ring × 2")
    assert (listed["bus-only"]["headline_metric"], listed["bus-only"]["headline_value"],
            listed["bus-only"]["headline_run"]) == ("busbw", 3.5e9, "ring × 2, 256 KiB")
    table = cli("runs", str(allreduce_runs)).stdout
    assert "throughput 700" in table and "busbw 3.5 GB/s" in table  # bytes/s shown in GB/s, as allreduce does
    compared = cli("runs", "compare", str(allreduce_runs / "trained"), str(allreduce_runs / "bus-only"), "--json")
    assert compared.exit_code == 0, compared.stderr
    results = json.loads(compared.stdout)["results"]
    assert results["throughput"] == [700.0, None] and results["busbw"] == [3.5e9, 3.5e9]
    assert "best busbw (GB/s)" in cli("runs", "compare", str(allreduce_runs / "trained"),
                                      str(allreduce_runs / "bus-only")).stdout


def test_a_saved_allreduce_json_document_has_a_headline_too(cli, tmp_path):
    """A document without run records (allreduce --json saved to a file) is read from its bus and train rows."""
    doc = {"command": "allreduce", "status": "finished", "bus": BUS, "train": []}
    (tmp_path / "saved.json").write_text(json.dumps(doc))
    from dltool import runlog

    assert runlog.headline(runlog.load(tmp_path / "saved.json")) == ("busbw", 3.5e9, "ring × 2, 256 KiB")


def test_no_runs_folder_yet_is_one_line_on_stderr_and_exit_0(cli, tmp_path, monkeypatch):
    """With no runs/ the list printed an empty table with nothing on stderr; now one line says why there is
    nothing and what to do, --json and --csv still give an empty document (exit 0). A DIR that was typed and
    does not exist stays a mistake (exit 2): a typo must not read as "no runs"."""
    monkeypatch.chdir(tmp_path)
    message = "no runs yet in runs/ (run a training command first, or give the folder that holds your runs)"
    result = cli("runs")
    assert (result.exit_code, result.stdout, result.stderr.strip()) == (0, "", message)
    result = cli("runs", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == {"root": "runs", "runs": []}
    assert result.stderr.strip() == message
    result = cli("runs", "--csv")
    assert result.exit_code == 0 and result.stdout.startswith("run,command,started") and len(
        result.stdout.strip().splitlines()) == 1
    result = cli("runs", str(tmp_path / "runz"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
