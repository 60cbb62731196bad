"""report/export.py: --out is checked before anything is made, run folders are never reused, results.json is
written atomically and kept current run by run."""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from dltool.errors import ExitCode, UsageError
from dltool.report import export
from dltool.report.export import (
    RunRecorder,
    check_out,
    discard_run_dir,
    new_run_dir,
    write_json_atomic,
    write_text_atomic,
)


def _refused(call, *args, **kwargs) -> str:
    with pytest.raises(UsageError) as info:
        call(*args, **kwargs)
    assert info.value.code == ExitCode.USAGE
    return info.value.one_line()


# ---- check_out: before TensorFlow, makes nothing ---------------------------------------------------------

def test_check_out_accepts_new_nested_and_empty_folders_and_makes_nothing(tmp_path):
    check_out(None)
    check_out(None, no_save=True)
    check_out(tmp_path / "a" / "b")
    (tmp_path / "empty").mkdir()
    check_out(tmp_path / "empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"] and not any((tmp_path / "empty").iterdir())


def test_check_out_refusals(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "results.json").write_text("{}")
    assert "--no-save writes no run folder" in _refused(check_out, tmp_path / "new", no_save=True)
    assert "is a file" in _refused(check_out, tmp_path / "file")
    assert "already exists and is not empty" in _refused(check_out, tmp_path / "full")
    assert "file is a file" in _refused(check_out, tmp_path / "file" / "below")
    check_out(tmp_path / "full", resume=True)  # resuming writes into the folder it resumes


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_check_out_refuses_a_read_only_parent(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert "is not writable" in _refused(check_out, locked / "run")
    finally:
        locked.chmod(0o700)


# ---- new_run_dir: a fresh folder every time ---------------------------------------------------------------

def test_new_run_dir_names_by_command_and_time_and_never_reuses(tmp_path, monkeypatch):
    fixed = datetime.datetime(2026, 1, 2, 3, 4, 5)
    monkeypatch.setattr(export, "_dt", SimpleNamespace(datetime=SimpleNamespace(now=lambda: fixed)))
    made = [new_run_dir("fit-line", root=tmp_path) for _ in range(3)]
    assert [p.name for p in made] == ["fit-line-20260102-030405", "fit-line-20260102-030405-2",
                                      "fit-line-20260102-030405-3"]
    assert all(p.is_dir() and p.parent == tmp_path for p in made)


def test_new_run_dir_with_out(tmp_path):
    out = new_run_dir("scale", out=tmp_path / "mine" / "run")
    assert out == tmp_path / "mine" / "run" and out.is_dir()
    assert new_run_dir("scale", out=out) == out  # empty: used as it is
    (out / "results.json").write_text("{}")
    assert "already exists and is not empty" in _refused(new_run_dir, "scale", out=out)
    assert new_run_dir("scale", out=out, resume=True) == out
    (tmp_path / "file").write_text("x")
    assert "is a file" in _refused(new_run_dir, "scale", out=tmp_path / "file")


# ---- atomic writes ----------------------------------------------------------------------------------------

def test_atomic_write_replaces_whole_files_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "deep" / "results.json"
    write_json_atomic(path, {"loss": float("nan"), "n": 1})
    write_text_atomic(path.with_name("notes.txt"), "one\n")
    write_json_atomic(path, {"n": 2})
    assert json.loads(path.read_text()) == {"n": 2}
    assert sorted(p.name for p in path.parent.iterdir()) == ["notes.txt", "results.json"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask  # not mkstemp's 0600


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "results.json"
    write_json_atomic(path, {"n": 1})
    with pytest.raises(TypeError):
        write_text_atomic(path, 123)  # fails inside the write, after the temporary file was made
    assert json.loads(path.read_text()) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


# ---- RunRecorder and discard_run_dir ----------------------------------------------------------------------

def test_recorder_keeps_results_current_and_resumes(tmp_path):
    run_dir = new_run_dir("demo", out=tmp_path / "run")
    recorder = RunRecorder(run_dir, "demo", {"lr": 0.1, "path": Path("x")}, {"tf": "2.21"})
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["command"] == "demo" and doc["status"] == "running" and doc["runs"] == []
    assert doc["config"] == {"lr": 0.1, "path": "x"} and doc["environment"] == {"tf": "2.21"}
    recorder.add_run({"loss": 0.5})
    recorder.add_run({"loss": float("nan")})
    assert json.loads((run_dir / "results.json").read_text())["runs"] == [{"loss": 0.5}, {"loss": None}]
    assert [json.loads(line) for line in (run_dir / "runs.jsonl").read_text().splitlines()] == \
        [{"loss": 0.5}, {"loss": None}]
    recorder.finish("interrupted", summary={"best": 0.5})
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["status"] == "interrupted" and doc["summary"] == {"best": 0.5} and "finished" in doc

    again = RunRecorder(run_dir, "demo", {"lr": 0.1})
    assert again.resumed and again.runs == [{"loss": 0.5}, {"loss": None}]
    again.close()


def test_a_finished_run_s_results_json_is_the_printed_document_and_its_bookkeeping(tmp_path):
    """results.json kept the records as they were appended and the config's summary keys beside them, while
    --json printed the Result: two documents (scale's saved runs had no speedups). Now finish() turns results.json
    into the printed document plus what only the folder keeps, and returns that document."""
    run_dir = new_run_dir("demo", out=tmp_path / "run")
    recorder = RunRecorder(run_dir, "demo", {"lr": 0.1})
    recorder.add_run({"learners": 2, "speedup": None})
    result = {"config": {"lr": 0.1, "derived": 3}, "runs": [{"learners": 2, "speedup": 1.7}], "best": 1.7,
              "environment": {"tf": "2.21"}}
    printed = recorder.finish(result=result, tables=[{"title": "t"}], footer=["f"])
    saved = json.loads((run_dir / "results.json").read_text())
    assert printed == {"command": "demo", "started": saved["started"], "finished": saved["finished"],
                       "status": "finished", "run_dir": str(run_dir), **result}
    assert saved == {**printed, "tables": [{"title": "t"}], "footer": ["f"]}
    assert set(saved) - set(printed) <= set(export.STORED_ONLY)

    # a result without runs of its own: the appended records stay in results.json (`dltool runs` reads them)
    other = RunRecorder(new_run_dir("demo", out=tmp_path / "other"), "demo", {})
    other.add_run({"test_rmse": 3.0})
    printed = other.finish(result={"config": {}, "networks": [{"test_rmse": 3.0}], "environment": {}})
    saved = json.loads((tmp_path / "other" / "results.json").read_text())
    assert "runs" not in printed and saved["runs"] == [{"test_rmse": 3.0}]
    assert printed == {k: v for k, v in saved.items() if k in printed}


def test_without_a_run_folder_nothing_is_written_and_the_document_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recorder = RunRecorder(None, "demo", {"lr": 0.1})
    recorder.add_run({"loss": 0.5})
    printed = recorder.finish(result={"config": {"lr": 0.1}, "runs": [{"loss": 0.5}]})
    assert printed["run_dir"] is None and printed["status"] == "finished" and printed["runs"] == [{"loss": 0.5}]
    assert list(tmp_path.iterdir()) == []
    # a result that is not a mapping is kept whole beside the bookkeeping, not merged into it; a result without
    # a config of its own prints the recorder's
    done = RunRecorder(None, "demo", {"lr": 1.0}).finish(result=[1, 2])
    assert done["result"] == [1, 2] and done["config"] == {"lr": 1.0} and done["command"] == "demo"


def test_a_second_recorder_on_a_busy_folder_is_refused(tmp_path):
    run_dir = new_run_dir("demo", out=tmp_path / "run")
    first = RunRecorder(run_dir, "demo", {})
    try:
        assert "another dltool process is writing into" in _refused(RunRecorder, run_dir, "demo", {})
    finally:
        first.close()
    RunRecorder(run_dir, "demo", {}).close()  # free again once the first one is closed


def test_discard_run_dir_removes_only_what_a_run_wrote(tmp_path):
    run_dir = new_run_dir("demo", out=tmp_path / "run")
    RunRecorder(run_dir, "demo", {}).close()
    (run_dir / "workers").mkdir()
    (run_dir / "workers" / "0.log").write_text("x")
    discard_run_dir(run_dir)
    assert not run_dir.exists()

    kept = new_run_dir("demo", out=tmp_path / "kept")
    RunRecorder(kept, "demo", {}).close()
    (kept / "mine.txt").write_text("the user's")
    discard_run_dir(kept)
    assert [p.name for p in kept.iterdir()] == ["mine.txt"]
