"""``dltool fit-line``: optimizers × learning rates on a least-squares line fit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from dltool.cli import choices
from dltool.cli import options as opt

# the grid's options, named here so that the command reads as a list of its options
Optimizers = Annotated[Optional[str], typer.Option(
    "--optimizers", help="Comma-separated: gd, momentum, nesterov, adagrad, adadelta, rmsprop, rmsprop-nesterov, "
    "adam, ftrl.", show_default=False)]
Lrs = Annotated[Optional[str], typer.Option(
    "--lrs", help="Comma-separated learning rates (with --optimizers: every optimizer × every lr; default 0.01).",
    show_default=False)]
Momentums = Annotated[str, typer.Option("--momentums", help="Momentum study values ('' to skip; --quick: 0.4,0.8).")]
MomentumLrs = Annotated[str, typer.Option("--momentum-lrs", help="Learning rates of the momentum study "
                                           "(--quick: 0.01).")]


@opt.shared("quick")
def fit_line(
    optimizers: Optimizers = None,
    lrs: Lrs = None,
    momentums: Momentums = "0.2,0.4,0.6,0.8",
    momentum_lrs: MomentumLrs = "0.01,0.001",
    iterations: Annotated[int, typer.Option("--iterations", min=1, help="Full-batch steps per run "
                      "(--quick: 400).")] = 1000,
    points: Annotated[int, typer.Option("--points", help="Number of generated points.")] = 100,
    noise: Annotated[float, typer.Option("--noise", help="Standard deviation of the noise on y.")] = 1.0,
    true_w: Annotated[float, typer.Option("--true-w", help="Slope of the generating line.")] = 2.0,
    true_b: Annotated[float, typer.Option("--true-b", help="Intercept of the generating line.")] = 1.0,
    x_min: Annotated[float, typer.Option("--x-min", help="Smallest x of generated points.")] = 0.0,
    x_max: Annotated[float, typer.Option("--x-max", help="Largest x of generated points.")] = 10.0,
    csv_file: Annotated[Optional[Path], typer.Option("--points-csv", help="Read points from a CSV with x,y columns.",
                        show_default=False)] = None,
    preset: Annotated[str, typer.Option("--preset", click_type=choices.FIT_LINE_PRESET,
                                        help="report000 (report 000's grid), report001-gd, "
                      "report001-momentum, report001-adam or report001-compare (report 001's exercise-1 sweeps).")]
    = "report000",
    optimizer_defaults: opt.OptimizerDefaults = "tf1",
    *, run: opt.RunOptions,
) -> None:
    """Fit y = w·x + b with each optimizer and learning rate (full batch) and compare.

    Default grid (the reports'): GD at 0.01, 0.001, 0.0001 and 0.3 (diverges), Adam, Adagrad, Adadelta, RMSProp
    and FTRL at 0.01, then momentum 0.2/0.4/0.6/0.8 × lr 0.01, 0.001; 1,000 iterations each. --preset
    report001-* runs report 001's sweeps instead. Status compares with the least-squares optimum w*, b*:
    converged (loss within 1 % and w, b within 0.01), slow, or diverged. --quick: 400 iterations and only
    momentum 0.4, 0.8 at lr 0.01 (11 runs, half the time): GD 0.3 still diverges, RMSProp and momentum 0.8 converge.
    """
    from dltool.cli.sweep import launch
    from dltool.experiments import fit_line as exp
    from dltool.experiments.common import parse_floats, parse_names
    from dltool.report.views import fit_line as views

    cfg = exp.FitLineConfig.from_options(
        run.quick, optimizers=parse_names(optimizers), lrs=parse_floats(lrs, "--lrs"),
        momentums=exp.parse_momentums(momentums), momentum_lrs=parse_floats(momentum_lrs, "--momentum-lrs"),
        iterations=iterations, points=points, noise=noise, true_w=true_w, true_b=true_b, x_min=x_min, x_max=x_max,
        csv=csv_file, seed=run.seed, preset=opt.name(preset), optimizer_defaults=opt.name(optimizer_defaults))
    launch("fit-line", cfg, run, exp.run, views)


def register(app: typer.Typer) -> None:
    app.command("fit-line")(fit_line)
