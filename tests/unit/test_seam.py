"""The CLI ↔ config seam: shared option bundles, "not given" as None, defaults ← preset ← given."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Optional

import pytest
import typer
from typer.testing import CliRunner

from dltool.cli import options as opt
from dltool.cli.app import _DltoolGroup
from dltool.engine.precision import POLICIES, PRECISIONS
from dltool.errors import UsageError
from dltool.experiments.config import ExperimentConfig


@dataclass
class Toy(ExperimentConfig):
    QUICK = {"epochs": 2, "subset": 100}
    SUMMARY = ("best",)

    epochs: int = 200
    subset: Optional[int] = None
    lrs: list = field(default_factory=lambda: [0.1])
    seed: int = 0

    def validate(self) -> None:
        if self.epochs < 1:
            raise UsageError("--epochs must be ≥ 1", "e.g. --epochs 5")


def test_defaults_then_preset_then_what_was_given():
    assert Toy.from_options().epochs == 200
    assert (Toy.from_options(True).epochs, Toy.from_options(True).subset) == (2, 100)
    # the default value typed by the user wins over the preset: None is "not given", 200 is given
    assert Toy.from_options(True, epochs=200, subset=None).epochs == 200
    assert Toy.from_options(True, lrs=[0.5]).lrs == [0.5]
    with pytest.raises(UsageError):
        Toy.from_options(epochs=0)


def test_summary_takes_the_named_result_fields():
    result = type("R", (), {"best": 0.9, "other": 1})()
    assert Toy().summary(result) == {"best": 0.9}


def _app(seen: dict) -> typer.Typer:
    app = typer.Typer(cls=_DltoolGroup)

    @app.command("toy")
    @opt.shared("quick", "precision")
    def toy(epochs: Annotated[int, typer.Option("--epochs", help="Epochs.")] = 200,
            name: Annotated[Optional[str], typer.Option("--name")] = None, *, run: opt.RunOptions) -> None:
        seen.update(epochs=epochs, name=name, run=run)

    @app.command("other")
    def other() -> None:  # a second command keeps "toy" a subcommand
        pass

    return app


def test_shared_bundle_reads_every_option_once_and_marks_what_was_not_given(tmp_path):
    seen: dict = {}
    runner = CliRunner()
    result = runner.invoke(_app(seen), ["toy", "--quick", "--precision", "bf16", "--json", "--seed", "7",
                                        "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    run = seen["run"]
    assert (seen["epochs"], seen["name"]) == (None, None)  # not typed: the config's default or preset applies
    assert (run.quick, run.precision, run.seed, run.fmt.value, run.out) == (True, "bf16", 7, "json", tmp_path / "run")
    assert run.settings("precision", "seed") == {"precision": "bf16", "seed": 7}
    result = runner.invoke(_app(seen), ["toy", "--epochs", "200"])
    assert result.exit_code == 0 and seen["epochs"] == 200  # typed, even though it equals the default


def test_shared_bundle_checks_format_and_out_before_the_body(tmp_path):
    seen: dict = {}
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for args in (["toy", "--json", "--csv"], ["toy", "--out", str(a_file)], ["toy", "--no-save", "--out", "x"]):
        result = CliRunner().invoke(_app(seen), args)
        assert result.exit_code == 2, (args, result.output)
        assert not seen, args


def test_help_shows_the_defaults_of_the_signature():
    result = CliRunner().invoke(_app({}), ["toy", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "[default: 200]" in result.output and "--quick" in result.output and "--markdown" in result.output


def test_unknown_shared_option_is_a_programming_error():
    with pytest.raises(ValueError):
        opt.shared("nonsense")


def test_precision_names_come_from_one_place():
    assert tuple(p.value for p in opt.Precision) == PRECISIONS == tuple(POLICIES)
