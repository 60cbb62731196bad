"""The README's word on `dltool runs --json` with no runs/ yet is the document the command prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_shows_the_json_of_no_runs_yet(cli, tmp_path, monkeypatch):
    """The README said "an empty list"; the command prints an object with the folder and an empty list."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    said = re.search(r"With no `runs/` yet, `dltool runs` [^(]*\(`--json`: `(\{[^`]*\})`\)", text)
    assert said, "the README no longer shows the --json document of `dltool runs` with no runs/"
    monkeypatch.chdir(tmp_path)
    result = cli("runs", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == json.loads(said[1])
