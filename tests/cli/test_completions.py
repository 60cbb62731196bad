"""completions/ must match what the app generates now (regenerate: python -m dltool.cli.completions completions/)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dltool.cli.completions import SHELLS, generate, write_all

FOLDER = Path(__file__).resolve().parents[2] / "completions"


def test_completion_files_are_current(tmp_path):
    write_all(tmp_path)
    for shell in SHELLS:
        committed = (FOLDER / f"dltool.{shell}").read_text(encoding="utf-8")
        assert committed == (tmp_path / f"dltool.{shell}").read_text(encoding="utf-8"), (
            f"completions/dltool.{shell} is stale: run `python -m dltool.cli.completions completions/`")


def test_bash_completion_completes_commands_and_options():
    script = FOLDER / "dltool.bash"
    probe = (f"source {script}; COMP_WORDS=(dltool ar); COMP_CWORD=1; _dltool; echo ${{COMPREPLY[@]}}; "
             "COMP_WORDS=(dltool archcalc vgg19 --no-b); COMP_CWORD=3; _dltool; echo ${COMPREPLY[@]}")
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "archcalc"
    assert out[1] == "--no-bias"


def test_fish_lists_every_command():
    text = generate("fish")
    assert "-a 'archcalc'" in text and "-a 'fit-line'" in text
