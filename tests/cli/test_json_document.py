"""One document: what a training command prints with ``--json`` is what its run folder's results.json holds (the
Result's fields and the bookkeeping, the run folder among them), so that every jq pipeline of the README and the
docs reads a saved run (``results.json``, ``dltool runs show --json``) as it reads the live output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dltool.report.export import BOOKKEEPING, STORED_ONLY

ROOT = Path(__file__).resolve().parents[2]
# every command that trains (tests/conftest.py runs each once: the tiny_run fixture)
TRAINING = ["fit-line", "mnist softmax", "mnist cnn", "mnist filters", "mnist mlp", "mnist devices", "mnist workers",
            "cifar-adaptive", "scale", "allreduce", "cutout train", "eggholder"]
# `dltool <command …> --json | jq [-c|-r] '<filter>'` in the README and the docs
JQ_LINE = re.compile(r"dltool (?P<args>[^|#]*?)--json \| jq (?P<flags>(?:-\w+ )*)'(?P<filter>[^']*)'")
# a filter that reads the rows of a run (`.train[] | …`): a tiny run has some, so the example prints lines
ROWS = re.compile(r"\s*\.(runs|train|bus|networks|rows)\[\]")


def jq_examples() -> list[tuple[str, str, list[str], str]]:
    """(file, the command's arguments, jq's flags, jq's filter) of every jq pipeline the user is shown."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            for match in JQ_LINE.finditer(line):
                found.append((path.name, match["args"].strip(), match["flags"].split(), match["filter"]))
    return found


def _command_of(args: str, commands) -> str | None:
    """The training command an example runs ("mnist softmax --momentums ''" → "mnist softmax")."""
    words = args.split()
    for command in sorted(commands, key=len, reverse=True):
        if words[:len(command.split())] == command.split():
            return command
    return None


def _jq(flags: list[str], expression: str, doc: dict) -> tuple[int, str]:
    """jq's exit code and output; without jq installed, the filter's leading path (``.networks[]``) in Python."""
    if shutil.which("jq"):
        done = subprocess.run(["jq", *flags, expression], input=json.dumps(doc), capture_output=True, text=True,
                              timeout=60)
        return done.returncode, done.stdout + done.stderr
    head = re.match(r"\s*\.(\w+)(\[\])?", expression)
    value = doc.get(head[1]) if head else doc
    iterable = isinstance(value, (list, dict)) if head and head[2] else value is not None
    return (0 if iterable else 5), json.dumps(value, sort_keys=True)


def test_the_readme_and_docs_show_jq_pipelines_of_training_commands():
    """The examples below are found (a changed line format would silently test nothing)."""
    commands = {_command_of(args, TRAINING) for _, args, _, _ in jq_examples()}
    assert {"eggholder", "scale", "fit-line", "cutout train", "cifar-adaptive", "allreduce", "mnist softmax",
            "mnist devices"} <= commands


@pytest.mark.slow
def test_json_output_is_results_json_and_names_the_run_folder(tiny_run, cli):
    """results.json held the runs as they were appended and the config's summary keys: eggholder's had no
    `networks` (the README's `jq '.networks[]'` failed with "Cannot iterate over null"), scale's runs had null
    speedups (its values sat under `summary`), and --json did not say where the run folder went."""
    assert tiny_run.command in TRAINING
    printed = json.loads(tiny_run.stdout)
    saved = json.loads((tiny_run.folder / "results.json").read_text())
    assert printed["run_dir"] == str(tiny_run.folder)
    assert printed["command"] == tiny_run.command and printed["status"] == "finished"
    assert printed["config"] and printed["started"] <= printed["finished"]
    assert set(BOOKKEEPING) - {"error"} <= set(printed)
    assert set(saved) - set(printed) <= set(STORED_ONLY), set(saved) - set(printed)
    assert printed == {key: value for key, value in saved.items() if key in printed}
    assert saved["tables"] and saved["runs"]  # what only results.json keeps: `runs show`, `dltool runs` read them
    shown = cli("runs", "show", str(tiny_run.folder), "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout) == saved


@pytest.mark.slow
def test_every_jq_example_reads_a_saved_run_as_the_live_output(tiny_run):
    """Each jq pipeline of the README and docs for this command gives the same lines on the run's --json output
    and on its results.json (scale's `.runs[] | {…, iteration_time_ratio}` gave null from results.json)."""
    printed = json.loads(tiny_run.stdout)
    saved = json.loads((tiny_run.folder / "results.json").read_text())
    examples = [(f, flags, expr) for f, args, flags, expr in jq_examples()
                if _command_of(args, [tiny_run.command]) == tiny_run.command]
    for file, flags, expression in examples:
        live, stored = _jq(flags, expression, printed), _jq(flags, expression, saved)
        assert live[0] == 0, (file, expression, live)
        assert stored == live, (file, expression)
        if ROWS.match(expression):  # two empty outputs are equal and prove nothing (allreduce ran --no-train)
            assert live[1].strip() not in ("", "[]", "{}", "null"), (file, expression, "no rows")



def test_no_save_prints_the_same_document_with_no_run_folder(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("fit-line", "--optimizers", "gd", "--lrs", "0.01", "--momentums", "", "--iterations", "5",
                 "--no-save", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["run_dir"] is None and doc["command"] == "fit-line" and doc["status"] == "finished"
    assert doc["config"]["iterations"] == 5 and [r["optimizer"] for r in doc["runs"]] == ["gd"]
    assert "tables" not in doc and "footer" not in doc  # the rendering is kept in results.json only
    assert list(tmp_path.iterdir()) == []


def test_reproduce_prints_its_results_json(cli, tmp_path, monkeypatch):
    """The audit (no training: report 004's architecture counts, a few seconds) goes through the same recorder."""
    monkeypatch.chdir(ROOT)  # the committed page it compares with
    out = tmp_path / "run"
    result = cli("reproduce", "004", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)
    saved = json.loads((out / "results.json").read_text())
    assert printed["run_dir"] == str(out) and printed["command"] == "reproduce" and printed["status"] == "finished"
    assert printed == {key: value for key, value in saved.items() if key in printed}
    assert set(saved) - set(printed) == {"tables", "footer", "runs"}  # its rows are its runs: kept for --resume
    assert sorted(r["id"] for r in saved["runs"]) == sorted(r["id"] for r in printed["rows"])
    examples = [(flags, expr) for _, args, flags, expr in jq_examples() if args.split()[:1] == ["reproduce"]]
    assert examples
    for flags, expression in examples:
        assert _jq(flags, expression, saved) == _jq(flags, expression, printed)


def test_cutout_show_says_where_its_run_folder_went(cli, cifar_dir, tmp_path, monkeypatch):
    """cutout show trains nothing but makes a run folder: its --json named the figure, not the folder, and printed
    none of the bookkeeping its results.json holds."""
    monkeypatch.chdir(tmp_path)
    result = cli("cutout", "show", "-n", "1", "--json", "--out", "shown")
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    saved = json.loads((tmp_path / "shown" / "results.json").read_text())
    assert printed["run_dir"] == "shown" and printed["command"] == "cutout show" and printed["status"] == "finished"
    assert printed == {key: value for key, value in saved.items() if key in printed}
    assert set(saved) - set(printed) <= set(STORED_ONLY)
    bare = cli("cutout", "show", "-n", "1", "--json", "--no-save")
    assert bare.exit_code == 0, bare.stderr
    assert json.loads(bare.stdout)["run_dir"] is None and json.loads(bare.stdout)["figure"] is None
