"""Faults a user or a scheduler causes: SIGTERM, a closed pipe, --traceback, a refused run, two writers of one
run folder, and the worker launcher's temp files. Each test states the behaviour the README promises."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from dltool.errors import MissingError, RunError, UsageError

HERE = str(Path(__file__).resolve().parent)
MODULE = Path(__file__).stem
ROOT = str(Path(__file__).resolve().parents[2])


# ---- targets (run in worker processes) ----------------------------------------------------------------------

def sleeper(config: dict) -> dict:
    time.sleep(config.get("seconds", 120))
    return {}


def temp_user(config: dict) -> dict:
    """Writes where a worker's temp files go (autograph's __autograph_generated_file*.py land there too)."""
    where = tempfile.gettempdir()
    Path(where, "__autograph_generated_fileXYZ.py").write_text("# generated\n")
    if config.get("fail"):
        raise ValueError("this worker fails on purpose")
    return {"tempdir": where}


# ---- helpers ---------------------------------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return True


def _env(**extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env.update(extra)
    return env


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


# ---- SIGTERM ---------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_sigterm_during_a_real_sweep_keeps_finished_runs_and_exits_143(tmp_path):
    """`timeout`, `docker stop` and Slurm send SIGTERM: the finished runs stay, results.json says terminated."""
    out, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    lrs = ",".join(f"0.00{i}" for i in range(1, 10)) + ",0.01,0.011,0.012,0.013,0.014,0.015"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dltool", "fit-line", "--optimizers", "gd", "--lrs", lrs, "--momentums", "",
         "--iterations", "3000", "--out", str(out), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_env(TMPDIR=str(scratch)))
    try:
        _wait_for(lambda: (out / "runs.jsonl").exists() and (out / "runs.jsonl").read_text().count("\n") >= 1
                  or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143
    assert stdout == ""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[-1] == "dltool: terminated (SIGTERM); finished results were kept."  # after the progress lines
    assert sum(line.startswith("dltool:") for line in lines) == 1 and "Traceback" not in stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["status"] == "terminated" and "finished" in doc
    assert 1 <= len(doc["runs"]) < 15
    assert not [p for p in scratch.iterdir() if p.name.startswith("dltool-workers-")]


LAUNCHER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from types import SimpleNamespace
    import typer
    sys.path.insert(0, {here!r})
    from dltool.cli.app import _DltoolGroup
    from dltool.cli.sweep import run_sweep
    from dltool.engine import workers
    from dltool.report.export import new_run_dir
    from dltool.report.output import Format

    app = typer.Typer(cls=_DltoolGroup)

    @app.command()
    def sweep(out: str, pids: str):
        run_dir = new_run_dir("sweep", Path(out))
        started = []

        def on_event(index, event):
            if event["event"] == "started":
                started.append(event["pid"])
                Path(pids).write_text(json.dumps(started))

        def run(on_run, progress):
            on_run({{"k": 1, "note": "finished before the signal"}})
            workers.launch("{module}:sleeper", {{"seconds": 120}}, 2, python_path=[{here!r}], on_event=on_event,
                           log_dir=run_dir / "workers")

        view = SimpleNamespace(tables=lambda r: ([], []), plots=lambda r, d: None)
        run_sweep("sweep", {{"k": [1, 2]}}, 2, run, view, Format.JSON, run_dir)

    @app.command()
    def other():
        pass

    sys.exit(typer.main.get_command(app).main(sys.argv[1:], standalone_mode=False))
""")


def test_sigterm_reaps_workers_removes_temp_folders_and_records_the_status(tmp_path):
    """The launcher of worker processes gets SIGTERM: workers reaped (no orphan), scratch folder gone, 143."""
    script, out, pids_file, scratch = tmp_path / "launcher.py", tmp_path / "run", tmp_path / "pids.json", \
        tmp_path / "scratch"
    scratch.mkdir()
    script.write_text(LAUNCHER.format(here=HERE, module=MODULE))
    proc = subprocess.Popen([sys.executable, str(script), "sweep", str(out), str(pids_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(TMPDIR=str(scratch)))
    try:
        _wait_for(lambda: pids_file.exists() and len(json.loads(pids_file.read_text() or "[]")) == 2
                  or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, proc.communicate()
        pids = json.loads(pids_file.read_text())
        assert any(p.name.startswith("dltool-workers-") for p in scratch.iterdir())  # the scratch folder exists
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143
    assert stderr.strip().splitlines()[-1] == "dltool: terminated (SIGTERM); finished results were kept."
    assert "Traceback" not in stderr
    assert not any(_alive(pid) for pid in pids)
    assert list(scratch.iterdir()) == []  # no dltool-workers-* left, no autograph files
    doc = json.loads((out / "results.json").read_text())
    assert doc["status"] == "terminated"
    assert doc["runs"] == [{"k": 1, "note": "finished before the signal"}]
    assert (out / "workers" / "worker-0.log").exists()


# ---- broken pipe, --traceback ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", [[], ["--json"], ["--markdown"], ["--csv"]])
def test_a_reader_that_leaves_early_is_not_an_error(fmt):
    """`dltool archcalc vgg19 | head -3`: exit 0 and nothing on stderr (scripts with pipefail keep working)."""
    proc = subprocess.Popen([sys.executable, "-m", "dltool", "archcalc", "vgg19", *fmt], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env())
    proc.stdout.close()  # before the first write: every write meets a closed pipe
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert stderr == b""


def test_pipefail_with_head():
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m dltool archcalc vgg19 | head -3"],
                          capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3 and done.stderr == ""


@pytest.mark.parametrize(("args", "code"), [(["fit-line", "--lrs", "x"], 2), (["archcalc", "vgg91"], 2),
                                            (["fit-line", "--points-csv", "no-such.csv"], 3)])
def test_traceback_adds_the_trace_and_keeps_the_exit_code(args, code, tmp_path):
    done = subprocess.run([sys.executable, "-m", "dltool", "--traceback", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(), timeout=120)
    assert done.returncode == code
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("dltool: error: ")


# ---- run folders -----------------------------------------------------------------------------------------------

def _sweep(run_dir: Path, run, **kwargs):
    from dltool.cli.sweep import run_sweep
    from dltool.report.output import Format

    view = SimpleNamespace(tables=lambda r: ([], []), plots=lambda r, d: None)
    return run_sweep("test", {"a": 1}, 1, run, view, Format.JSON, run_dir, **kwargs)


@pytest.mark.parametrize("error", [UsageError("late bad input"), MissingError("no data here")])
def test_a_run_refused_before_any_result_leaves_no_folder(tmp_path, error):
    """Exit 2 or 3 after the folder was made: the folder goes, so the fixed command can use the same --out."""
    from dltool.report.export import new_run_dir

    out = tmp_path / "out"
    run_dir = new_run_dir("test", out)

    def run(on_run, progress):
        raise error

    with pytest.raises(type(error)):
        _sweep(run_dir, run)
    assert not out.exists()
    assert new_run_dir("test", out) == out  # the same --out is accepted again


def test_a_failure_after_finished_runs_keeps_them(tmp_path):
    from dltool.report.export import new_run_dir

    run_dir = new_run_dir("test", tmp_path / "out")

    def run(on_run, progress):
        on_run({"run": 1})
        raise MissingError("the second run's data is gone")

    with pytest.raises(MissingError):
        _sweep(run_dir, run)
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["status"] == "failed" and doc["runs"] == [{"run": 1}]


def test_results_json_has_the_mode_of_the_other_run_files(tmp_path):
    from dltool.report.export import RunRecorder

    recorder = RunRecorder(tmp_path, "test", {"a": 1})
    recorder.add_run({"run": 1})
    plain = tmp_path / "plot.png"
    plain.write_bytes(b"")
    mode = stat.S_IMODE((tmp_path / "results.json").stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == stat.S_IMODE((tmp_path / "runs.jsonl").stat().st_mode)
    assert mode & stat.S_IRGRP  # not 0600


def test_two_writers_of_one_run_folder_are_refused(tmp_path):
    """Two `--resume` of one folder would both train the same runs: the second is refused while the first runs."""
    from dltool.report.export import RunRecorder

    first = RunRecorder(tmp_path, "test", {"a": 1})
    code = ("import sys\nfrom dltool.report.export import RunRecorder\nfrom dltool.errors import UsageError\n"
            "try:\n    RunRecorder(sys.argv[1], 'test', {})\nexcept UsageError as e:\n    print(e.one_line())\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=_env())
    assert "another dltool process is writing into" in done.stdout, done.stderr
    first.finish()  # a finished run releases its folder
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=_env())
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


def test_out_under_a_file_or_read_only_folder_is_a_usage_error(tmp_path):
    from dltool.report.export import check_out, new_run_dir

    afile = tmp_path / "afile"
    afile.write_text("x")
    for bad in (afile / "run", Path("/dev/null/run")):
        with pytest.raises(UsageError, match="cannot be created"):
            check_out(bad)
        with pytest.raises(UsageError, match="cannot be created"):
            new_run_dir("test", bad)
    with pytest.raises(UsageError, match="--no-save"):
        check_out(tmp_path / "new", no_save=True)


# ---- Markdown ----------------------------------------------------------------------------------------------------

def test_markdown_escapes_pipes_so_headers_and_separators_match():
    from dltool.report.tables import Column, TableSpec, to_markdown

    spec = TableSpec("fit", [Column("w", "|w − w*|"), Column("b", "|b − b*|"), Column("s", "status")],
                     [{"w": 0.5, "b": 0.1, "s": "a|b"}])
    lines = to_markdown(spec).splitlines()
    header, separator, row = lines[2], lines[3], lines[4]

    def cells(line: str) -> int:
        return len(line.replace("\\|", "").strip().strip("|").split("|"))

    assert cells(header) == cells(separator) == cells(row) == 3
    assert "\\|w − w*\\|" in header and "a\\|b" in row


# ---- worker temp files and logs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fail", [False, True])
def test_workers_leave_no_temp_files(tmp_path, monkeypatch, fail):
    """Worker temp files (autograph's included) go to the scratch folder, removed after success or failure."""
    from dltool.engine import workers

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    if fail:
        with pytest.raises(RunError) as info:
            workers.launch(f"{MODULE}:temp_user", {"fail": True}, 1, cluster=False, python_path=[HERE])
        assert "dltool-workers-" not in info.value.one_line()  # no pointer to a folder that is gone
    else:
        [result] = workers.launch(f"{MODULE}:temp_user", {}, 1, cluster=False, python_path=[HERE])
        assert Path(result["tempdir"]).is_relative_to(scratch) and not Path(result["tempdir"]).exists()
    assert list(scratch.iterdir()) == []


def test_mnist_workers_keeps_worker_logs_in_its_run_folder(cli, tmp_path, monkeypatch, data_dir):
    from dltool.engine import workers

    seen = []

    def launch(target, config, count, **kwargs):
        seen.append(kwargs.get("log_dir"))
        raise RunError("stop here: only the log folder matters")

    monkeypatch.setattr(workers, "launch", launch)
    out = tmp_path / "run"
    result = cli("mnist", "workers", "--quick", "--out", str(out))
    assert result.exit_code == 1
    assert seen == [out / "workers" / "k-1"]


def test_tfds_warning_is_kept_out_of_the_missing_data_line(tmp_path, caplog):
    """An empty tensorflow-datasets folder made absl warn "Variant folder … has no dataset_info.json" beside
    our one-line error."""
    pytest.importorskip("tensorflow_datasets")
    from dltool.data import sources

    (tmp_path / "mnist" / "3.0.1").mkdir(parents=True)
    with caplog.at_level("DEBUG"), pytest.raises(MissingError, match="no prepared copy"):
        sources.load_tfds(sources.get_spec("mnist"), sources.SearchLog(), data_dir=tmp_path, download=False)
    assert not [r for r in caplog.records if "dataset_info.json" in r.getMessage()]
