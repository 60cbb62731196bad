"""`dltool reproduce`: --list, bad input, a real run of report 004's rows (architecture counts: no training), the
drift check against a planted change, --resume, and SIGTERM keeping the finished rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _dltool(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dltool", *args], capture_output=True, text=True, timeout=timeout,
                          **kw)


def test_help(cli):
    result = cli("reproduce", "--help")
    assert result.exit_code == 0
    for option in ("--tier", "--list", "--check", "--page", "--resume", "--jobs"):
        assert option in result.output


def test_list_json_without_tensorflow():
    code = ("import sys, io, contextlib, json\nfrom dltool.cli.app import main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n    try:\n        main(['reproduce', '--list', '--json'])\n"
            "    except SystemExit:\n        pass\nrows = json.loads(buf.getvalue())\n"
            "print(json.dumps({'rows': rows, 'tf': 'tensorflow' in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    doc = json.loads(out.stdout)
    assert doc["tf"] is False
    rows = doc["rows"]
    assert sum(r["kind"] == "numeric" for r in rows) >= 88 and sum(r["kind"] == "claim" for r in rows) >= 40
    assert {"id", "report", "where", "kind", "tier", "committed", "command"} <= rows[0].keys()
    assert sum(r["basis"] == "calibrated" for r in rows) >= 3
    assert {r["tier"] for r in rows} == {"quick", "full"}


def test_list_one_report(cli):
    result = cli("reproduce", "002", "--list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert rows and {r["report"] for r in rows} == {"002"}


@pytest.mark.parametrize("args, code, text", [
    (["005"], 2, "unknown report"),
    (["--tier", "medium"], 2, "medium"),
    (["--page", "x.md"], 2, "--tier full"),
    (["--jobs", "0"], 2, "--jobs"),
    (["--against", "/nonexistent/reproduction.json", "004"], 3, "does not exist"),
    (["--resume", "/nonexistent-run-folder"], 2, "no results.json"),
])
def test_bad_input(cli, tmp_path, args, code, text):
    result = cli("reproduce", *args, "--out", str(tmp_path / "run")) if "--resume" not in args else \
        cli("reproduce", *args)
    assert result.exit_code == code, result.output
    assert text in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()  # refused before the run folder is made


@pytest.fixture(scope="module")
def run_004(tmp_path_factory):
    """Report 004's quick rows for real: six archcalc processes, no TensorFlow, a few seconds."""
    out = tmp_path_factory.mktemp("repro") / "run"
    proc = _dltool("reproduce", "004", "--out", str(out), "--json", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(proc.stdout)


def test_run_keeps_every_row(run_004):
    out, doc = run_004
    rows = doc["rows"]
    assert len(rows) >= 30 and all(r["report"] == "004" for r in rows)
    by = {r["id"]: r for r in rows}
    assert by["004-vgg-23-weights"]["verdict"] == "computed" and by["004-vgg-23-weights"]["ours"] == 16_777_216
    assert by["004-alexnet"]["verdict"] == "reference from elsewhere"
    assert by["004-googlenet-3a"]["ours"] == 128_049_152
    assert by["004-dropout-scale"]["verdict"] == "differs"
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "finished" and len(saved["runs"]) == len(rows)
    assert len((out / "runs.jsonl").read_text().splitlines()) == len(rows)  # each row on disk as it was judged
    assert (out / "reproduction.md").read_text().startswith("# Reproduction of the reports")
    assert len(list((out / "studies").glob("*.json"))) == 6


def test_page_prints_values_as_the_report_and_sources_do(run_004):
    out, _ = run_004
    page = (out / "reproduction.md").read_text()
    assert "| 16,777,216 |" in page and "| 3.2M |" in page  # as the homework prints them
    assert "60,965,224 (not in the report)" in page and "e+07" not in page
    assert "**Measured at** commit" in page and "matmul peaks" in page
    tolerances = [line for line in page.splitlines() if line.startswith("- **exact**") or line.startswith("- **±")]
    assert tolerances and tolerances[0].startswith("- **exact**")  # sorted by size, exact first
    assert "“VGGNet is very expensive to evaluate" in page


def test_check_fails_on_a_planted_change(run_004, tmp_path):
    _, doc = run_004
    same = tmp_path / "same.json"
    same.write_text(json.dumps({"rows": doc["rows"]}))
    ok = _dltool("reproduce", "004", "--check", "--against", str(same), "--no-save", cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    planted = [dict(r) for r in doc["rows"]]
    for r in planted:
        if r["id"] == "004-vgg-23-weights":
            r["ours"] = 16_777_217  # one parameter more than the code computes: outside the exact tolerance
    bad = tmp_path / "planted.json"
    bad.write_text(json.dumps({"rows": planted}))
    moved = _dltool("reproduce", "004", "--check", "--against", str(bad), "--no-save", cwd=ROOT)
    assert moved.returncode == 1
    assert "004-vgg-23-weights" in moved.stderr and "1 row(s) moved" in moved.stderr


def test_resume_keeps_finished_studies(run_004, tmp_path):
    src, doc = run_004
    out = tmp_path / "resumed"
    subprocess.run(["cp", "-r", str(src), str(out)], check=True)
    saved = json.loads((out / "results.json").read_text())
    saved["runs"] = saved["runs"][:5]
    saved["status"] = "interrupted"
    (out / "results.json").write_text(json.dumps(saved))
    (out / "studies" / "inception.json").unlink()  # not finished: runs again
    kept = json.loads((out / "studies" / "alexnet.json").read_text())
    kept["doc"]["total_params"] = 1  # a kept study is not run again: its (planted) value is used
    (out / "studies" / "alexnet.json").write_text(json.dumps(kept))
    proc = _dltool("reproduce", "--resume", str(out), "--json", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"]: r for r in json.loads(proc.stdout)["rows"]}
    assert len(rows) == len(doc["rows"])
    assert rows["004-alexnet"]["ours"] == 1 and rows["004-alexnet"]["verdict"] == "differs"
    assert rows["004-inception-naive-mults"]["ours"] == 1_115_684_864
    assert json.loads((out / "results.json").read_text())["status"] == "finished"


@pytest.mark.slow
def test_sigterm_keeps_finished_rows(tmp_path, mnist_dir):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "dltool", "reproduce", "001", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not list((out / "studies").glob("*.json")):
        time.sleep(0.5)
    assert list((out / "studies").glob("*.json")), "no study finished in time"
    time.sleep(1.0)  # the next study's process has started
    children = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                               text=True).stdout.split()]
    assert children, "no study process running"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    saved = json.loads((out / "results.json").read_text())
    assert saved["status"] == "terminated" and saved["runs"]
    for pid in children:  # the running study's process went with it
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
