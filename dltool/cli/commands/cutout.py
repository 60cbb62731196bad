"""``dltool cutout show`` and ``dltool cutout train``: Cutout and batch augmentation on CIFAR-10."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from dltool.cli import choices
from dltool.cli import options as opt

cutout_app = typer.Typer(
    name="cutout", no_args_is_help=True,
    help="Cutout regularisation (DeVries & Taylor, 2017) and batch augmentation (Hoffer et al., 2019) on "
         "CIFAR-10: 'show' draws images beside their cutout versions, 'train' runs ResNet-44 for each M.")


@cutout_app.command("show")
@opt.shared("data_dir")
def show(
    n: Annotated[int, typer.Option("-n", "--number", help="Number of images (1–64).")] = 2,
    size: Annotated[int, typer.Option("--size", help="Side of the zero square, pixels.")] = 16,
    split: Annotated[str, typer.Option("--split", click_type=choices.CUTOUT_SPLIT,
                                       help="Take the images from 'train' or 'test'.")] = "train",
    *, run: opt.RunOptions,
) -> None:
    """A figure of N CIFAR-10 images beside their cutout versions (cutout_examples.png and results.json in the
    run folder, which dltool runs lists and shows; --no-save: the table or JSON only, no folder and no figure).

    Cutout: a square of zeros of side --size (16) at a centre drawn uniformly over all 32×32 pixels; near the
    border the square is clipped, so part of it falls outside the image. The same TensorFlow op as in training.
    Example: dltool cutout show -n 2 --json | jq '.images[].box'
    """
    from dltool.experiments import cutout as exp
    from dltool.report import output
    from dltool.report.export import RunRecorder, new_run_dir
    from dltool.report.views import cutout as views

    cfg = exp.ShowConfig.from_options(n=n, size=size, split=opt.name(split), **run.settings("data_dir", "seed"))
    result = exp.show(cfg)
    tables, footer = views.show_tables(result)
    doc = result.to_dict()
    doc["figure"] = None
    run_dir, stored = None, {}
    if run.no_save:
        footer.append("Figure not saved (--no-save).")
    else:
        from dltool.report.views.runs import to_stored

        run_dir = new_run_dir("cutout-show", run.out)
        path = views.show_plot(result, run_dir / "cutout_examples.png")
        footer.append(f"Figure: {path}")
        doc["figure"] = str(path)
        stored = {"tables": [to_stored(t) for t in tables], "footer": list(footer)}
    # results.json: this document, the bookkeeping (run_dir too, null with --no-save) and the tables, so that
    # `dltool runs show` reads the folder; --json prints the same document
    doc = RunRecorder(run_dir, "cutout show", cfg).finish(result=doc, **stored)
    output.emit(tables, doc, run.fmt, footer)


# settings stored in a run folder: with --resume they come from there, so giving one is a mistake to report
_STORED = ("ms", "target", "max_epochs", "batch_size", "lr", "lr_schedule", "momentum", "cutout_size", "depth",
           "validation", "subset", "test_subset", "precision", "xla", "quick", "seed")


@cutout_app.command("train")
@opt.shared("data_dir", "precision", "xla", "quick", check_out=False)
def train(
    ctx: typer.Context,
    ms: Annotated[str, typer.Option("--ms", help="Copies per image M (1: baseline crop+flip without cutout; ≥ 2: "
                  "batch augmentation, each copy with its own crop, flip and cutout).")] = "1,2,4,8,16,32",
    target: Annotated[float, typer.Option("--target", help="Validation accuracy (0..1) that stops a run.")] = 0.94,
    max_epochs: Annotated[int, typer.Option("--max-epochs", "--epochs", min=1, help="At most this many epochs per "
                          "M (the learning rate drops ÷10 at 50 % and 75 % of it).")] = 100,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="B: distinct images per step.")] = 64,
    lr: Annotated[float, typer.Option("--lr", help="Initial learning rate of SGD with momentum.")] = 0.1,
    lr_schedule: Annotated[str, typer.Option("--lr-schedule", click_type=choices.CUTOUT_LR_SCHEDULE,
                                             help="'step': ÷10 at 50 % and 75 % of --max-epochs "
                           "(He et al.); 'constant': no drops (--quick: a schedule squeezed into a few epochs drops "
                           "η while the network is still learning fast).")] = "step",
    momentum: Annotated[float, typer.Option("--momentum", help="Momentum μ.")] = 0.9,
    cutout_size: Annotated[int, typer.Option("--cutout-size", help="Side of the cutout square, pixels.")] = 16,
    depth: Annotated[int, typer.Option("--depth", help="CIFAR ResNet depth 6n+2.")] = 44,
    validation: Annotated[float, typer.Option("--validation", help="Held-out fraction (<1) or count (≥1) of the "
                          "training images for the validation error.")] = 0.1,
    subset: Annotated[Optional[int], typer.Option("--subset", min=1, help="Use a seeded sample of N training "
                      "images (before the validation split).", show_default=False)] = None,
    test_subset: Annotated[Optional[int], typer.Option("--test-subset", min=1, help="Test on N images.",
                           show_default=False)] = None,
    resume: Annotated[Optional[Path], typer.Option("--resume", help="Continue an interrupted run folder: its "
                      "finished Ms are kept, the rest are trained with its stored settings.",
                      show_default=False)] = None,
    *, run: opt.RunOptions,
) -> None:
    """ResNet-44 with batch augmentation: epochs and time to reach --target validation accuracy for each M.

    M = 1: the standard augmentation of He et al. (4-pixel zero pad, random 32×32 crop, horizontal flip),
    batch 64. M ≥ 2: each batch of 64 images becomes M·64, every copy with its own crop, flip and 16×16 cutout
    (Hoffer et al., 2019); same learning rate and steps per epoch. Prints the exact parameter count, a table
    of epochs and seconds to the target ("not reached" with the final accuracy otherwise), and writes
    validation_error.png (validation error vs epochs and vs time, one curve per M).

    The defaults follow the assignment (hours per M on a GPU, days on a CPU). --quick: a demo that learns
    within a minute on 2 CPU cores — ResNet-8, M = 1,2, the 2,000-image sample (1,500 training, 500 validation),
    2 epochs at constant η 0.1 (24–27 % validation accuracy; chance is 10 %). It shows that each M trains and
    what its steps cost, not the 94 % target nor whether batch augmentation helps; the table lists how a run
    differs from the assignment. After Ctrl-C, --resume RUN_DIR continues from the last finished M.
    Example: dltool cutout train --quick --json | jq '.runs[] | {m, final_val_accuracy}'
    """
    from dltool.cli.sweep import launch
    from dltool.experiments import cutout as exp
    from dltool.experiments.common import parse_ints
    from dltool.report.views import cutout as views

    done, run_dir = [], None
    if resume is not None:
        cfg, done, run_dir = _resume(ctx, resume, run.out)
    else:
        run.check_out()  # before TensorFlow and before any folder is made
        cfg = exp.CutoutConfig.from_options(
            run.quick, ms=parse_ints(ms, "--ms"), target=target, max_epochs=max_epochs, batch_size=batch_size,
            lr=lr, lr_schedule=opt.name(lr_schedule), momentum=momentum, cutout_size=cutout_size, depth=depth,
            validation=validation, subset=subset, test_subset=test_subset,
            **run.settings("data_dir", "precision", "xla", "seed"))
    launch("cutout train", cfg, run, exp.train, views, folder="cutout", run_dir=run_dir, done=done,
           interrupted_hint="continue with: dltool cutout train --resume {run_dir}")


def _resume(ctx: typer.Context, resume: Path, out: Optional[Path]) -> tuple:
    """(config, finished runs, run folder) of an interrupted run folder; any stored setting given is refused."""
    from dltool.cli._click import click
    from dltool.errors import UsageError
    from dltool.experiments import cutout as exp
    from dltool.report import output
    from dltool.report.export import new_run_dir

    if out is not None and Path(out) != Path(resume):
        raise UsageError("--resume writes into the folder it resumes", "leave out --out with --resume")
    given = [f"--{name.replace('_', '-')}" for name in _STORED
             if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE]
    if given:
        raise UsageError(f"{', '.join(given)} cannot change a resumed run: --resume uses the settings "
                         f"stored in {resume}", "leave them out, or start a new run without --resume")
    cfg, done = exp.load_resume(resume)
    cfg.validate()
    cfg.finished = tuple(r.m for r in done)
    run_dir = new_run_dir("cutout", resume, resume=True)
    output.info(f"resuming {resume}: {len(done)} finished run(s) kept, stored settings used")
    return cfg, done, run_dir


def register(app: typer.Typer) -> None:
    app.add_typer(cutout_app, name="cutout")
