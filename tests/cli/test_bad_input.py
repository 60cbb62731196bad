"""The standing bad-input test: every command refuses bad input with its exit code and one line on stderr.

For each case: the exit code (2 bad usage or input, 3 missing data), exactly one line on stderr that starts
``dltool: error:`` and says what was wrong, nothing on stdout, no traceback, and nothing left behind in the
working folder (no run folder, no half-written results.json). The cases run in-process (click's runner); a
sample runs in fresh processes to show that TensorFlow was never imported for them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

USAGE, MISSING = 2, 3

# (arguments, exit code, a fragment the one line must contain); {afile}, {garbage}, {resume}, {nowhere} are
# filled in per test (a regular file, a non-Keras ".keras" file, an empty folder, a path that does not exist)
CASES: list[tuple[str, int, str]] = [
    # archcalc
    ("archcalc vgg19 --batch-size 0", USAGE, "--batch-size"),
    ("archcalc vgg19 --batch-size many", USAGE, "--batch-size"),
    ("archcalc vgg19 --dtype fp128", USAGE, "fp128"),
    ("archcalc vgg19 --input 0x0", USAGE, "zero size"),
    ("archcalc vgg19 --input axb", USAGE, "axb"),
    ("archcalc vgg19 --f1 3", USAGE, "--f1"),
    ("archcalc inception --preset foo", USAGE, "foo"),
    ("archcalc receptive-field -n 0", USAGE, "receptive field"),
    ("archcalc vgg19 --json --csv", USAGE, "only use one of"),
    ("archcalc {garbage}", USAGE, "not a Keras model file"),
    ("archcalc vgg19 --no-such-option", USAGE, "--no-such-option"),
    # fit-line
    ("fit-line --seed -1", USAGE, "--seed"),
    ("fit-line --seed 99999999999999999999", USAGE, "--seed"),
    ("fit-line --seed 4294967296", USAGE, "--seed"),
    ("fit-line --noise nan", USAGE, "--noise"),
    ("fit-line --noise inf", USAGE, "--noise"),
    ("fit-line --noise -1", USAGE, "--noise"),
    ("fit-line --true-w nan", USAGE, "--true-w"),
    ("fit-line --true-b -inf", USAGE, "--true-b"),
    ("fit-line --lrs 0.1,,0.2", USAGE, "empty item"),
    ("fit-line --lrs 0.1,", USAGE, "empty item"),
    ("fit-line --lrs x", USAGE, "not a number"),
    ("fit-line --lrs -0.1", USAGE, "positive"),
    ("fit-line --optimizers foo", USAGE, "unknown optimizer"),
    ("fit-line --preset foo", USAGE, "unknown preset"),
    ("fit-line --points 1", USAGE, "--points"),
    ("fit-line --x-min 5 --x-max 1", USAGE, "x range"),
    ("fit-line --iterations 0", USAGE, "--iterations"),
    ("fit-line --points-csv {nowhere}", MISSING, "file not found"),
    ("fit-line --no-save --out out", USAGE, "--no-save"),
    ("fit-line --out {afile}", USAGE, "is a file"),
    ("fit-line --out {afile}/run", USAGE, "cannot be created"),
    ("fit-line --out /dev/null/run", USAGE, "cannot be created"),
    # eggholder
    ("eggholder --samples 0", USAGE, "--samples"),
    ("eggholder --widths 0", USAGE, "--widths"),
    ("eggholder --lr nan", USAGE, "--lr"),
    ("eggholder --seed -1", USAGE, "--seed"),
    ("eggholder --no-save --out out", USAGE, "--no-save"),
    # allreduce
    ("allreduce --implementations foo", USAGE, "--implementations"),
    ("allreduce --communications foo", USAGE, "--communications"),
    ("allreduce --min-size 0", USAGE, "--min-size"),
    ("allreduce --out {afile}", USAGE, "is a file"),
    # scale
    ("scale --cross-device-ops foo", USAGE, "--cross-device-ops"),
    ("scale --communication foo --strategy multiworker", USAGE, "--communication"),
    ("scale --lr nan", USAGE, "--lr"),
    ("scale --lr inf", USAGE, "--lr"),
    ("scale --price-per-hour nan", USAGE, "--price-per-hour"),
    ("scale --strategy foo", USAGE, "unknown strategy"),
    ("scale --mode foo", USAGE, "unknown mode"),
    ("scale --model foo", USAGE, "unknown model"),
    ("scale --gpus 0", USAGE, "--gpus"),
    ("scale --batch-size 3 --gpus 2", USAGE, "does not split evenly"),
    ("scale --data-dir {afile}", USAGE, "is a file, not a folder"),
    ("scale --data-dir {nowhere}", MISSING, "does not exist"),
    # cifar-adaptive
    ("cifar-adaptive --methods foo", USAGE, "unknown optimizer"),
    ("cifar-adaptive --parts foo", USAGE, "--parts"),
    ("cifar-adaptive --subset 0", USAGE, "--subset"),
    ("cifar-adaptive --momentum nan", USAGE, "--momentum"),
    ("cifar-adaptive --data-dir {afile}", USAGE, "is a file, not a folder"),
    # cutout
    ("cutout show -n 0", USAGE, "-n"),
    ("cutout show --split foo", USAGE, "--split"),
    ("cutout show --out {afile}", USAGE, "is a file"),
    ("cutout train --ms 0", USAGE, "--ms"),
    ("cutout train --ms 1,,2", USAGE, "empty item"),
    ("cutout train --depth 45", USAGE, "--depth"),
    ("cutout train --lr-schedule foo", USAGE, "--lr-schedule"),
    ("cutout train --target nan", USAGE, "--target"),
    ("cutout train --resume {resume} --ms 4", USAGE, "--ms"),
    ("cutout train --resume {resume} --max-epochs 3 --seed 2", USAGE, "--max-epochs, --seed"),
    ("cutout train --data-dir {nowhere}", MISSING, "does not exist"),
    # mnist
    ("mnist softmax --batch-size 10000000", USAGE, "larger than"),
    ("mnist softmax --subset 5", USAGE, "larger than --subset 5"),
    ("mnist softmax --loss foo", USAGE, "unknown loss"),
    ("mnist softmax --lrs 0.1,,0.2", USAGE, "empty item"),
    ("mnist cnn --subset 5", USAGE, "larger than --subset 5"),
    ("mnist cnn --lr nan", USAGE, "--lr"),
    ("mnist cnn --model foo", USAGE, "unknown model"),
    ("mnist cnn --dataset foo", USAGE, "unknown dataset"),
    ("mnist mlp --studies foo", USAGE, "unknown study"),
    ("mnist devices --cross-device-ops foo", USAGE, "cross-device ops"),
    ("mnist workers --workers 0", USAGE, "--workers"),
    ("mnist workers --communication foo", USAGE, "communication"),
    ("mnist workers --seed -5", USAGE, "--seed"),
    ("mnist softmax --data-dir {afile}", USAGE, "is a file, not a folder"),
    ("mnist softmax --no-save --out out", USAGE, "--no-save"),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working folder (default run folders go to ./runs) with the files some cases name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a folder\n")
    (tmp_path / "garbage.keras").write_text("not a zip archive\n")
    (tmp_path / "resume").mkdir()
    return tmp_path


def _fill(case: str, root: Path) -> list[str]:
    text = case.format(afile=root / "afile", garbage=root / "garbage.keras", resume=root / "resume",
                       nowhere=root / "nowhere")
    return text.split()


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_at_least_sixty_cases_over_all_eight_commands():
    commands = {case.split()[0] for case, _, _ in CASES}
    assert commands == {"archcalc", "fit-line", "eggholder", "allreduce", "scale", "cifar-adaptive", "cutout",
                        "mnist"}
    assert len(CASES) >= 60
    assert len({case for case, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("case", "code", "fragment"), CASES, ids=[c for c, _, _ in CASES])
def test_bad_input_is_one_line_and_leaves_nothing(cli, workdir, case, code, fragment):
    before = _snapshot(workdir)
    result = cli(*_fill(case, workdir))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == code, result.output
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dltool: error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert _snapshot(workdir) == before  # no run folder, no results.json, nothing half-written


SUBPROCESS_SAMPLE = [
    "fit-line --noise nan --out o", "eggholder --seed -1", "allreduce --min-size 0", "scale --cross-device-ops foo",
    "scale --lr nan", "cifar-adaptive --methods foo", "cutout train --ms 1,,2", "mnist softmax --batch-size 10000000",
    "mnist workers --communication foo", "archcalc vgg19 --dtype fp128",
]


def test_rejected_before_tensorflow_is_imported(tmp_path):
    """Each case in its own process: refused with exit 2, and TensorFlow never imported (a refusal is cheap)."""
    code = ("import shlex, sys\nfrom dltool.cli.app import main\ncodes = [main(shlex.split(a)) for a in sys.argv[1:]]\n"
            "print(codes, 'tensorflow' in sys.modules)")
    for case in SUBPROCESS_SAMPLE:
        done = subprocess.run([sys.executable, "-c", code, case], capture_output=True, text=True, cwd=tmp_path,
                              env=dict(os.environ), timeout=120)
        assert done.stdout.strip() == "[2] False", (case, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (case, done.stderr)
    assert list(tmp_path.iterdir()) == []


MISSING_DATA = ["mnist softmax --quick --out run", "mnist workers --quick --out run",
                "mnist cnn --quick --dataset fashion-mnist --out run", "scale --quick --dataset mnist --out run",
                "scale --quick --dataset mnist --data-dir empty --out run"]


def test_missing_data_is_found_before_tensorflow_and_before_the_folder(tmp_path):
    """No raw files, no prepared tensorflow-datasets copy, no network: exit 3 with one line, no run folder, and
    TensorFlow never imported (it used to take a 5–7 s import and leave a failed run folder behind)."""
    (tmp_path / "empty").mkdir()
    code = ("import shlex, sys\nfrom pathlib import Path\nfrom dltool.data import sources\n"
            "sources.network_available = lambda *a, **k: False\nsources.SYSTEM_DATA_DIR = Path('empty')\n"
            "from dltool.cli.app import main\nprint(main(shlex.split(sys.argv[1])), 'tensorflow' in sys.modules)")
    env = dict(os.environ, DLTOOL_DATA_DIR=str(tmp_path / "empty"), TFDS_DATA_DIR=str(tmp_path / "empty"))
    for case in MISSING_DATA:
        done = subprocess.run([sys.executable, "-c", code, case], capture_output=True, text=True, cwd=tmp_path,
                              env=env, timeout=120)
        assert done.stdout.split() == ["3", "False"], (case, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "dataset not found" in lines[0], (case, done.stderr)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
