"""Two real `dltool cutout train` processes on one run folder: the second is refused (exit 2, one line) while the
first holds the folder, and two `--resume` started together finish the study once, with no run trained twice
and runs.jsonl intact.

The lock is the run folder's (``RunRecorder``, an exclusive ``flock`` for the writing process' life); the resume
tests in test_cutout.py and the recorder's unit tests run in one process and cannot show two processes racing.
Training is the short run of test_cutout.py (ResNet-8, 200 images, one epoch per M): the processes' TensorFlow
start-up dominates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TINY = ["--quick", "--ms", "1,2", "--epochs", "1", "--subset", "200", "--validation", "64", "--test-subset", "64"]
# a process that reports the exit code of the CLI and whether TensorFlow was imported by then
WRAPPER = ("import sys\nfrom dltool.cli.app import main\ncode = main(sys.argv[1:])\n"
           "print('EXIT', code, 'tensorflow' in sys.modules)")


@pytest.fixture
def start():
    """Start `dltool ARGS` (or the WRAPPER with ``wrapped``); every process still running at the end is killed."""
    procs: list[subprocess.Popen] = []

    def _start(*args: str, wrapped: bool = False) -> subprocess.Popen:
        command = [sys.executable, "-c", WRAPPER, *args] if wrapped else [sys.executable, "-m", "dltool", *args]
        procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        return procs[-1]

    yield _start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _wait_for(condition, what: str, proc: subprocess.Popen | None = None, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the first process ended (exit {proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _refused(stderr: str, folder: Path) -> bool:
    """One error line, the last (``cutout train --resume`` says which folder it resumes before the folder's lock
    is tried), naming the folder; no traceback."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("dltool: error: ")]
    return (errors == lines[-1:] and "Traceback" not in stderr
            and f"another dltool process is writing into {folder}" in errors[0])


@pytest.mark.slow
def test_a_second_process_on_a_busy_run_folder_is_refused_and_the_study_finishes_once(cifar_dir, tmp_path, start):
    """≈ 2 min here (four processes, three of them start TensorFlow, on a shared 2-core machine)."""
    out = tmp_path / "run"
    first = start("cutout", "train", *TINY, "--out", str(out))
    # 1. While the first process trains, a --resume of its folder is refused: exit 2, one error line, and no
    #    TensorFlow import (≈ 1.7 s here, the CLI's start-up and the CIFAR sample's read).
    _wait_for(lambda: (out / "results.json").exists(), "results.json appeared", first)
    t0 = time.monotonic()
    second = start("cutout", "train", "--resume", str(out), wrapped=True)
    stdout, stderr = second.communicate(timeout=120)
    seconds = time.monotonic() - t0
    assert first.poll() is None, "the first process finished before the second tried: nothing was tested"
    assert second.returncode == 0 and stdout.split()[-3:] == ["EXIT", "2", "False"], (stdout, stderr)
    assert _refused(stderr, out), stderr
    assert seconds < 30, seconds
    print(f"second process refused in {seconds:.2f} s")

    # 2. Stop the first process after its first run (M = 1): the folder is an interrupted study.
    _wait_for(lambda: (out / "runs.jsonl").exists() and len(_jsonl(out / "runs.jsonl")) >= 1,
              "the first run finished", first)
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=120)
    assert first.returncode == 143
    stopped = json.loads((out / "results.json").read_text())
    assert stopped["status"] == "terminated" and [r["m"] for r in stopped["runs"]] == [1]

    # 3. Two --resume at once: one trains the missing M = 2, the other is refused; no run twice, no torn line.
    pair = [start("cutout", "train", "--resume", str(out), "--json") for _ in range(2)]
    results = [p.communicate(timeout=600) for p in pair]
    codes = sorted(p.returncode for p in pair)
    assert codes == [0, 2], (codes, [r[1][-2000:] for r in results])
    winner = results[[p.returncode for p in pair].index(0)]
    loser = results[[p.returncode for p in pair].index(2)]
    assert _refused(loser[1], out), loser[1]
    assert loser[0] == ""  # nothing on stdout: --json consumers see no half document
    doc = json.loads(winner[0])
    assert doc["resumed"] == [1] and [r["m"] for r in doc["runs"]] == [1, 2]
    final = json.loads((out / "results.json").read_text())
    assert final["status"] == "finished" and [r["m"] for r in final["runs"]] == [1, 2]
    assert [r["m"] for r in _jsonl(out / "runs.jsonl")] == [1, 2]
    assert final["runs"][0] == stopped["runs"][0]  # the kept run is the first process' own record
    assert not any(name.startswith(".") or name.endswith(".tmp") for name in os.listdir(out))
