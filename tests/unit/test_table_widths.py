"""No number is cut short on an 80-column terminal: every view's tables, with long values, as a user sees them.

The tables of the training commands come from ``data/run_tables.json``: the ``results.json`` (tables, config, runs,
trimmed) of one tiny real run of each command (``TINY_RUNS`` in ``tests/conftest.py``), printed again by
``dltool runs show``, listed by ``dltool runs`` and set side by side by ``dltool runs compare``. archcalc, cutout
show, env and reproduce build theirs here. Every number in every cell is made longer first (six more digits), and
the tables go through the terminal path (``output.emit``) at 80 columns.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from dltool.report import output
from dltool.report.tables import Column, TableSpec, text_rows, to_rich

DATA = Path(__file__).parent / "data" / "run_tables.json"
DOCS = json.loads(DATA.read_text(encoding="utf-8"))
ROOT = Path(__file__).resolve().parents[2]


def _longer(text: str) -> str:
    """Six more digits in front of every number: 0.4368 → 9876540.4368, 1,849,688,064 → 9876541,849,688,064."""
    return re.sub(r"(?<![\d.,])\d", lambda m: "987654" + m.group(0), text)


def _long(spec: TableSpec) -> TableSpec:
    rows = [{str(i): _longer(text) for i, text in enumerate(row)} for row in text_rows(spec)]
    columns = [Column(str(i), c.header, justify=c.justify, secondary=c.secondary) for i, c in enumerate(spec.columns)]
    return TableSpec(spec.title, columns, rows, notes=list(spec.notes), primary=spec.primary)


def _shown(spec: TableSpec, headers: list[str]) -> TableSpec:
    """``spec`` less the columns a narrow terminal left out (the rendered table's headers, in order)."""
    kept, rest = [], list(headers)
    for i, column in enumerate(spec.columns):
        if rest and column.header == rest[0]:
            kept.append(i)
            rest.pop(0)
    assert not rest, (headers, [c.header for c in spec.columns])
    rows = [{str(i): row[i] for i in kept} for row in text_rows(spec)]
    return TableSpec(spec.title, [Column(str(i), spec.columns[i].header) for i in kept], rows, notes=spec.notes)


class _Terminal:
    """``output.emit`` on a terminal of ``width`` columns; keeps every table it rendered and the text."""

    def __init__(self, monkeypatch, width: int = 80, lengthen: bool = True):
        from rich.console import Console

        self.buffer, self.specs = io.StringIO(), []
        monkeypatch.setattr(output, "stdout_console",
                            lambda: Console(file=self.buffer, width=width, color_system=None, highlight=False))

        def render(spec: TableSpec, width: int | None = None):
            spec = _long(spec) if lengthen else spec
            table = to_rich(spec, width=width)
            self.specs.append(_shown(spec, [str(c.header) for c in table.columns]))
            return table

        monkeypatch.setattr(output, "to_rich", render)

    def cut(self) -> list[str]:
        """The numbers of the rendered tables that are not printed whole on one line, and any "…" added."""
        text = self.buffer.getvalue()
        lines = text.splitlines()
        cut = [word for spec in self.specs for row in text_rows(spec) for cell in row for word in cell.split()
               if any(ch.isdigit() for ch in word) and not any(word in line for line in lines)]
        source = "".join("".join([s.title, *s.notes, *(c.header for c in s.columns),
                                  *(t for r in text_rows(s) for t in r)]) for s in self.specs)
        if text.count("…") > source.count("…"):
            cut.append(f"{text.count('…') - source.count('…')} × …")
        return cut


class _Stand(SimpleNamespace):
    """A stand-in for a result: a field it was not given reads as empty."""

    def __getattr__(self, key: str):
        if key.startswith("__"):
            raise AttributeError(key)
        return {}


@pytest.fixture
def run_folders(tmp_path):
    """The stored runs of every training command, each in its own run folder."""
    folders = {}
    for command, doc in DOCS.items():
        folder = tmp_path / "runs" / command.replace(" ", "-")
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(doc), encoding="utf-8")
        folders[command] = folder
    return folders


def test_the_stored_runs_cover_every_training_command():
    assert set(DOCS) == {"fit-line", "mnist softmax", "mnist cnn", "mnist filters", "mnist mlp", "mnist devices",
                         "mnist workers", "cifar-adaptive", "scale", "allreduce", "cutout train", "eggholder"}
    assert all(doc["tables"] for doc in DOCS.values())


@pytest.mark.parametrize("command", sorted(DOCS))
def test_runs_show_prints_every_number_whole_at_80_columns(cli, run_folders, monkeypatch, command):
    terminal = _Terminal(monkeypatch)
    result = cli("runs", "show", str(run_folders[command]))
    assert result.exit_code == 0, result.stderr
    assert len(terminal.specs) == len(DOCS[command]["tables"])
    assert terminal.cut() == []


def test_runs_list_and_compare_print_every_number_whole_at_80_columns(cli, run_folders, monkeypatch):
    terminal = _Terminal(monkeypatch)
    assert cli("runs", str(run_folders["fit-line"].parent)).exit_code == 0
    assert cli("runs", "compare", *map(str, run_folders.values())).exit_code == 0
    assert cli("runs", "compare", str(run_folders["scale"]), str(run_folders["allreduce"])).exit_code == 0
    assert len(terminal.specs) == 5
    assert terminal.cut() == []


@pytest.mark.parametrize("args", [
    ["vgg19"], ["vgg19", "--batch-size", "100000", "--dtype", "fp16"], ["alexnet", "--no-formulas"],
    ["inception", "--input", "320x320x2560"], ["inception", "--preset", "googlenet-3a"],
    ["receptive-field", "-n", "30", "-f", "11"], ["list"],
    ["vgg16", "vgg19", "alexnet", "resnet18", "mobilenetv2", "--batch-size", "100000"],
])
def test_archcalc_prints_every_number_whole_at_80_columns(cli, monkeypatch, args):
    """archcalc's own numbers are long already (VGG19's MACs per layer: 1,849,688,064); made longer too."""
    for lengthen in (False, True):
        terminal = _Terminal(monkeypatch, lengthen=lengthen)
        result = cli("archcalc", *args)
        assert result.exit_code == 0, result.stderr
        assert terminal.specs and terminal.cut() == [], (lengthen, terminal.buffer.getvalue())


def test_archcalc_vgg19_keeps_every_column_at_80_columns(cli, monkeypatch):
    """The README's first command: all seven columns on an 80-column terminal, MACs whole."""
    terminal = _Terminal(monkeypatch, lengthen=False)
    assert cli("archcalc", "vgg19").exit_code == 0
    text = terminal.buffer.getvalue()
    assert "1,849,688,064" in text and "Left out" not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_cutout_show_env_and_reproduce_print_every_number_whole_at_80_columns(monkeypatch):
    from dltool.report.views import cutout, env, reproduce

    terminal = _Terminal(monkeypatch)
    image = SimpleNamespace(index=49_999, class_name="automobile", centre=(31, 0), box=(15, 32, 0, 17),
                            zeroed_pixels=289)
    shown = SimpleNamespace(images=[image] * 3, config=SimpleNamespace(split="train", size=16),
                            source="CIFAR-10 binary records in /a/long/folder/cifar-10-batches-bin")
    output.emit(cutout.show_tables(shown)[0], {}, output.Format.TABLE)
    machine = _Stand(
        dltool="0.1.0", python="3.11.7 (main, Dec 4 2026)", platform="Linux-6.8.0-x86_64-with-glibc2.39",
        packages={"tensorflow": "2.21.0", "keras": "3.15.0", "numpy": None},
        cpu={"model": "Intel(R) Xeon(R) Platinum 8488C", "logical_cores": 224, "usable_cores": 2,
             "flags": {"avx512_bf16": True, "amx_bf16": True}, "fast_precision": "bf16"},
        gpus=[{"index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_mib": 81_559, "compute_capability": "9.0"}],
        driver_version="575.57.08", tensorflow_build={"cuda_version": "12.5.1", "cudnn_version": "9"},
        build_compute_capabilities=["sm_60", "sm_70", "compute_90"], nccl={"usable": True, "detail": "2.26.5"},
        warnings=[], notes=[], peaks={"CPU:0": {"fp32": {"flops": 3.5e11, "n": 2048, "measured": "2026-12-04"}}},
        peak_hint=None, datasets={"mnist": {"found": "/data/mnist", "how": "raw IDX", "via": "--data-dir"}})
    tables, footer = env.tables(machine)
    output.emit(tables, {}, output.Format.TABLE)
    page = json.loads((ROOT / "docs" / "reproduction.json").read_text(encoding="utf-8"))
    output.emit([reproduce.list_table(page["rows"])], {}, output.Format.TABLE)
    assert len(terminal.specs) >= 3
    assert terminal.cut() == []


def test_a_table_wider_than_the_terminal_leaves_out_its_secondary_columns_and_says_so():
    from rich.console import Console

    columns = [Column("name", "optimizer", justify="left"), Column("loss", "final loss (MSE)", ".5g"),
               *(Column(f"v{i}", f"value {i}", ",", secondary=i >= 3) for i in range(8))]
    spec = TableSpec("t", columns, [{"name": "rmsprop-nesterov", "loss": 1.0124e30,
                                     **{f"v{i}": 1_849_688_064 for i in range(8)}}])
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(to_rich(spec, width=80), crop=False)
    text = console.file.getvalue()
    assert "1.0124e+30" in text and text.count("1,849,688,064") == 3
    assert "Left out at 80 columns: value 3, value 4, value 5, value 6, value 7" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(to_rich(spec, width=200), crop=False)
    assert console.file.getvalue().count("1,849,688,064") == 8 and "Left out" not in console.file.getvalue()


def test_a_table_that_cannot_fit_overflows_rather_than_cutting_a_number():
    from rich.console import Console

    columns = [Column(f"v{i}", f"v{i}", ",") for i in range(8)]
    spec = TableSpec("t", columns, [{f"v{i}": 1_849_688_064_000 for i in range(8)}])
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(to_rich(spec, width=80), crop=False)
    output_text = console.file.getvalue()
    assert output_text.count("1,849,688,064,000") == 8 and "…" not in output_text


def test_a_header_folds_at_most_once_when_nothing_else_fits():
    """fit-line at 80 columns printed "momentum" one letter a line; a header's longest word now folds in two."""
    from rich.console import Console

    columns = [Column(f"c{i}", f"{word}", justify="right") for i, word in
               enumerate(["optimizer", "momentum", "iterations", "seconds", "learning", "accuracy", "throughput",
                          "efficiency", "speedup", "parameters", "activations"])]
    spec = TableSpec("t", columns, [{f"c{i}": "0.5" for i in range(len(columns))}])
    console = Console(file=io.StringIO(), width=80, color_system=None)
    console.print(to_rich(spec, width=80), crop=False)
    lines = console.file.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    header = [line for line in lines if line.strip() and not line.startswith(("t", "─")) and "0.5" not in line]
    assert len(header) == 2, lines  # every header on at most two lines


def test_stored_tables_keep_their_secondary_columns():
    """`dltool runs show` leaves out the same columns as the run did at the end: the flag is kept in results.json."""
    from dltool.report.views.runs import from_stored, to_stored

    spec = TableSpec("t", [Column("a", "a"), Column("b", "b", secondary=True)], [{"a": 1, "b": 2}])
    assert [c.secondary for c in from_stored(json.loads(json.dumps(to_stored(spec)))).columns] == [False, True]


def test_the_readme_comparison_fits_80_columns_leaving_out_the_published_macs(cli, monkeypatch):
    terminal = _Terminal(monkeypatch, lengthen=False)
    assert cli("archcalc", "vgg16", "vgg19", "alexnet", "resnet18", "mobilenetv2").exit_code == 0
    text = terminal.buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Left out at 80 columns: published MACs, Δ (a wider terminal shows them" in text
    assert "138,357,544" in text and "+264,320" not in text and terminal.cut() == []


@pytest.mark.parametrize("width", [80, 100])
def test_every_stored_table_fits_the_terminal_leaving_out_secondary_columns(cli, run_folders, monkeypatch, width):
    """Not only whole numbers: at 80 and 100 columns no training command's table runs past the edge (scale's
    15 columns printed `str…` and `3,6…` at 100; they now leave out devices, per-learner batch, step, MFU, wall
    and cost, and say so)."""
    wide, text = {}, {}
    for command, folder in run_folders.items():
        terminal = _Terminal(monkeypatch, width=width, lengthen=False)
        assert cli("runs", "show", str(folder)).exit_code == 0
        text[command] = terminal.buffer.getvalue()
        if max(len(line) for line in text[command].splitlines()) > width:
            wide[command] = max(len(line) for line in text[command].splitlines())
        assert terminal.cut() == [], command
    assert wide == {}
    assert f"Left out at {width} columns: devices, per learner, step (ms), MFU, wall" in " ".join(text["scale"].split())


@pytest.mark.slow
def test_the_current_views_fit_80_columns_with_every_number_whole(tiny_run, cli, monkeypatch):
    """The tests above render a committed snapshot (data/run_tables.json): a column added to a view since, or a
    ``secondary`` flag dropped, would not show there. The tiny run of this test session (``tiny_run``,
    tests/conftest.py: each training command once) wrote its tables with the views as they are now; they are
    printed again at 80 columns: plain, they fit the terminal; with every number longer, none is cut."""
    saved = json.loads((tiny_run.folder / "results.json").read_text(encoding="utf-8"))
    assert saved["tables"], tiny_run.command
    terminal = _Terminal(monkeypatch, width=80, lengthen=False)
    assert cli("runs", "show", str(tiny_run.folder)).exit_code == 0
    lines = terminal.buffer.getvalue().splitlines()
    assert len(terminal.specs) == len(saved["tables"]) and terminal.cut() == []
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    terminal = _Terminal(monkeypatch, width=80, lengthen=True)
    assert cli("runs", "show", str(tiny_run.folder)).exit_code == 0
    assert terminal.cut() == [], tiny_run.command
