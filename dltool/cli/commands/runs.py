"""``dltool runs``: list run folders, reprint a run's tables, compare runs, overlay their curves — no TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from typer.core import TyperGroup

from dltool.cli import options as opt


class _ListByDefault(TyperGroup):
    """``dltool runs`` and ``dltool runs DIR`` mean ``dltool runs list [DIR]``."""

    def parse_args(self, ctx, args):  # type: ignore[override]
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


runs_app = typer.Typer(name="runs", cls=_ListByDefault, help="Run folders: list them (dltool runs [DIR]), show a "
                       "finished run's tables again, compare runs side by side, overlay their curves (these read "
                       "results.json only: no TensorFlow), or rerun one from its recorded config.")

Runs = Annotated[List[Path], typer.Argument(help="Run folders (or their results.json).", show_default=False)]


@runs_app.command("list")
@opt.shared(exclude=("seed", "out", "no_save"), check_out=False)  # --json, --csv, --markdown
def list_runs(
    root: Annotated[Optional[Path], typer.Argument(help="The folder that holds run folders (default: runs/).",
                                                   show_default=False)] = None,
    *, run: opt.RunOptions,
) -> None:
    """List run folders, oldest first: command, started, status, runs, headline result, duration."""
    from dltool import runlog
    from dltool.report import output
    from dltool.report.views import runs as views

    # no runs/ yet is the state of a fresh folder, not a mistake: one line on stderr, exit 0, an empty list for
    # --json and --csv; a DIR that was typed and does not exist is most likely a typo: exit 2 (runlog.find)
    if root is None and not Path("runs").exists():
        typer.echo("no runs yet in runs/ (run a training command first, or give the folder that holds your runs)",
                   err=True)
        if run.fmt in (output.Format.JSON, output.Format.CSV):
            output.emit([views.list_table([])], {"root": "runs", "runs": []}, run.fmt)
        return
    folders = runlog.find(root or Path("runs"))
    output.emit([views.list_table(folders)], {"root": str(root or "runs"), "runs": folders}, run.fmt)


@runs_app.command("show")
@opt.shared(exclude=("seed", "out", "no_save"), check_out=False)  # --json, --csv, --markdown
def show(
    folder: Annotated[Path, typer.Argument(metavar="run", help="A run folder (or its results.json).")],
    *, run: opt.RunOptions,
) -> None:
    """Print a run's tables again from its results.json (--json: the whole results.json)."""
    from dltool import runlog
    from dltool.report import output
    from dltool.report.views import runs as views

    doc = runlog.load(folder)
    tables, footer = views.show_tables(doc)
    if run.fmt is output.Format.CSV and doc.get("tables"):  # the CSV the run wrote: raw numbers, not the cells
        import sys

        sys.stdout.write("\n".join(t["csv"] for t in doc["tables"] if t.get("primary", True) and t.get("csv")))
        return
    output.emit(tables, doc, run.fmt, footer)


@runs_app.command("compare")
@opt.shared(exclude=("seed", "out", "no_save"), check_out=False)  # --json, --csv, --markdown
def compare(runs: Runs, *, run: opt.RunOptions) -> None:
    """Runs side by side: status, duration, the best of each key result, and the config keys that differ."""
    from dltool import runlog
    from dltool.report import output
    from dltool.report.views import runs as views

    comparison = runlog.compare(runs)
    output.emit(views.compare_tables(comparison), views.compare_doc(comparison), run.fmt)


@runs_app.command("plot")
def plot(
    runs: Runs,
    out: Annotated[Optional[Path], typer.Option("--out", help="PNG to write (default: runs-plot.png, or "
                                                "<run>/runs-plot.png for one run); with --redraw, a new folder "
                                                "(default: <run>/redrawn).", show_default=False)] = None,
    redraw: Annotated[bool, typer.Option("--redraw", help="Draw one run's own figures again (the command's "
                                         "plots) from its results.json instead of overlaying curves.")] = False,
) -> None:
    """Overlay the runs' training-loss curves (log scale) and their accuracy per epoch, from results.json.

    --redraw: one run's own figures (the PNGs its command drew), drawn again from results.json (and the arrays
    kept beside a figure, *.npz), for every training command. A run that was stopped draws its finished runs.
    """
    from dltool import runlog
    from dltool.errors import UsageError
    from dltool.report import output
    from dltool.report.plots import save_figure
    from dltool.report.views import runs as views

    if redraw:
        if len(runs) != 1:
            raise UsageError("--redraw draws one run's figures", "give one run folder")
        source = Path(runs[0]) if Path(runs[0]).is_dir() else Path(runs[0]).parent
        target_dir = out or source / "redrawn"
        if target_dir.exists() and (not target_dir.is_dir() or any(target_dir.iterdir())):
            raise UsageError(f"--out {target_dir} already exists", "choose another folder")
        doc = runlog.load(runs[0])
        made = not target_dir.exists()
        target_dir.mkdir(parents=True, exist_ok=True)
        try:
            paths = views.redraw(doc, target_dir, source)
        except UsageError:  # nothing half-drawn is left behind: the folder was empty (or not there) before
            import shutil

            if made:
                shutil.rmtree(target_dir)
            else:
                for leftover in target_dir.iterdir():
                    leftover.unlink()
            raise
        status = doc.get("status", "finished")
        drawn = {p.name for p in paths}
        missing = sorted(p.name for p in source.glob("*.png") if p.name not in drawn
                         and not p.name.startswith("runs-plot"))
        output.info(f"{len(paths)} figures of {doc.get('command')}"
                    + (f" ({status} run: its {len(doc['runs'])} finished runs)" if status != "finished" else "")
                    + ": " + ", ".join(str(p) for p in paths))
        if missing:
            output.info(f"not drawn again: {', '.join(missing)} (" + (
                "they need the summary a run writes when it finishes" if status != "finished"
                else "results.json does not hold what they are drawn from") + ")")
        return
    if out is not None and out.suffix.lower() != ".png":
        raise UsageError(f"--out {out} is not a .png file", "give a path ending in .png")
    if out is not None and out.exists():
        raise UsageError(f"--out {out} already exists", "choose another file name")
    curves = runlog.curves(runs)
    target = out or (Path(runs[0]) / "runs-plot.png" if len(runs) == 1 and Path(runs[0]).is_dir()
                     else Path("runs-plot.png"))
    if out is None and target.exists():
        target = target.with_name(f"{target.stem}-{len(list(target.parent.glob(target.stem + '*.png'))) + 1}.png")
    save_figure(views.curves_figure(curves), target)
    used = {c.folder for c in curves}
    without = [Path(r).name for r in runs if Path(r).name not in used]
    shown = f"{len(runs) - len(without)} of {len(runs)}" if without else f"{len(runs)}"
    note = f" ({', '.join(without)}: no training curve)" if without else ""
    output.info(f"{len(curves)} curves from {shown} run folders{note}: {target}")


@runs_app.command("rerun", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def rerun(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(metavar="RUN", help="A run folder of a training command (or its "
                                           "results.json); options after it override the recorded values.")],
) -> None:
    """Run a saved run again: the same command with its recorded config (seed included) into a new run folder.

    Options after RUN change what they name and keep the rest, e.g. dltool runs rerun
    runs/mnist-softmax-20260101-120000 --steps 100 --seed 1 (--out DIR chooses the new folder). It runs
    dltool <command> --config RUN/results.json followed by those options (printed on stderr at the end); a
    seeded run on the CPU repeats its numbers exactly.
    """
    import shlex

    from dltool.cli._click import click
    from dltool.cli.config_file import rerun_args
    from dltool.errors import UsageError
    from dltool.report import output

    extra = list(ctx.args)
    if str(folder).startswith("-"):  # `runs rerun --seed 3 RUN`: click took the option for RUN
        words = [str(folder), *extra]
        runs = [w for w in words if (Path(w) / "results.json").is_file() or Path(w).name == "results.json"]
        order = [runs[0], *(w for w in words if w != runs[0])] if runs else ["RUN", *words]
        raise UsageError(f"{folder} comes before the run folder", "put options after the run folder: dltool runs "
                         f"rerun {shlex.join(order)}")
    given = [a for a in extra if a == "--config" or a.startswith("--config=")]
    if given:
        raise UsageError("--config cannot follow RUN: a rerun takes its config from RUN",
                         "leave out --config, or run the file's own command with --config FILE")
    _, command, args = rerun_args(folder, extra)
    root = ctx.find_root()
    traceback = ["--traceback"] if root.obj and root.obj.get("traceback") else []
    try:  # not root.command.main: a usage error of the options after RUN names `runs rerun`'s help, not dltool's
        with root.command.make_context(root.info_name or "dltool", [*traceback, *args]) as sub:
            root.command.invoke(sub)
    except click.ClickException as err:
        if getattr(err, "ctx", None) is None:  # "Option '--seed' requires an argument": click gives no context
            err.ctx = ctx
        raise
    # one line however wide: a command line that wraps cannot be copied
    output.stderr_console().print(f"rerun of {folder} ({command}) done as: dltool {shlex.join(args)}",
                                  soft_wrap=True, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
