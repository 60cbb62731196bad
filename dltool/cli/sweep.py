"""The life of a training command, in one place: progress bar, each finished run on disk as it ends,
``results.json`` marked interrupted or failed when the run does not finish, then the table, plots and footer.

When it finishes, ``results.json`` is the document that ``--json`` prints (the Result's fields and the bookkeeping
of :data:`dltool.report.export.BOOKKEEPING`, the run folder among them), plus the rendered tables and footer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable


def run_sweep(command: str, cfg: Any, total_runs: int, run: Callable[..., Any], view: Any, fmt: Any,
              run_dir: Path | None, interrupted_hint: str | None = None) -> Any:
    """``run(on_run=, progress=)`` computes the Result; ``view`` has ``tables(result)`` and ``plots(result, dir)``.

    With ``run_dir`` None (``--no-save``) nothing is written (``--json`` says ``"run_dir": null``). Returns the
    Result.
    """
    from dltool.errors import DltoolError, ExitCode, Terminated
    from dltool.report import output
    from dltool.report.export import RunRecorder, discard_run_dir
    from dltool.report.progress import SweepProgress

    recorder = RunRecorder(run_dir, command, cfg)  # with no run_dir: nothing written, the bookkeeping for --json
    with SweepProgress(total_runs, command) as progress:
        if run_dir:  # TensorBoard event files of every run, beside results.json
            from dltool.report.tensorboard import SUBDIR, TensorBoardHooks

            progress = TensorBoardHooks(progress, Path(run_dir) / SUBDIR, cfg)
        try:
            result = run(on_run=recorder.add_run if run_dir else None, progress=progress)
        except KeyboardInterrupt as err:
            if run_dir:
                recorder.finish("terminated" if isinstance(err, Terminated) else "interrupted")
                from dltool.report.views.runs import draw_stopped

                drawn = draw_stopped(run_dir)  # the finished runs' figures; never raises, results.json is written
                if drawn:
                    output.info(f"figures of the {len(recorder.runs)} finished runs in {run_dir}/: "
                                + ", ".join(p.name for p in drawn))
                if interrupted_hint:
                    output.info(interrupted_hint)
            raise
        except Exception as err:
            refused = isinstance(err, DltoolError) and err.code in (ExitCode.USAGE, ExitCode.MISSING)
            if run_dir and refused and not recorder.runs and not recorder.resumed:
                recorder.close()
                discard_run_dir(run_dir)  # nothing was measured: fixing the input and rerunning must work
            elif run_dir:
                recorder.finish("failed", error=err.one_line() if isinstance(err, DltoolError) else repr(err))
            raise
        finally:
            if run_dir:
                progress.close()
    tables, footer = view.tables(result)
    stored: dict[str, Any] = {}
    if run_dir:
        from dltool.report.views.runs import to_stored

        try:  # `dltool runs show` reprints these; a table that cannot be stored must not cost the finished run
            stored = {"tables": [to_stored(t) for t in tables], "footer": [str(line) for line in footer]}
        except (TypeError, ValueError) as err:
            output.info(f"tables not kept in results.json ({err}); `dltool runs show` will list the run's fields")
    doc = recorder.finish(result=result, **stored)  # results.json: this document, the tables and footer
    if run_dir:
        view.plots(result, run_dir)
        footer.append(f"Results and plots: {run_dir}/")
    output.emit(tables, doc, fmt, footer)
    return result


def launch(command: str, cfg: Any, opts: Any, run: Callable[..., Any], view: Any, *, folder: str | None = None,
           log_dir: bool = False, save: bool = True, run_dir: Path | None = None,
           interrupted_hint: str | None = None, **extra: Any) -> Any:
    """What every experiment command does once its config is built and validated: ``cfg.prepare()`` finds the
    data (missing data exits 3 before any folder exists), the run folder is made (``folder``, default the
    command with dashes; none with ``--no-save`` or ``save=False``), then :func:`run_sweep` calls
    ``run(cfg, data=…, log_dir=…, **extra, **hooks)``; results.json ends as the ``--json`` document.

    ``run_dir`` names an existing folder to continue (``--resume``); ``interrupted_hint`` may name ``{run_dir}``.
    """
    from dltool.report.export import new_run_dir

    if getattr(opts, "fixed", None):  # --config FILE: its fields that no option sets, as the file records them
        from dltool.cli.config_file import apply_fixed

        cfg = apply_fixed(cfg, opts.fixed)
    data = cfg.prepare()
    from dltool.cli.config_file import announce

    announce()  # the --config file's notes, now that every check has passed and the run starts
    if data is not None:
        extra["data"] = data
    if run_dir is None and save and not opts.no_save:
        run_dir = new_run_dir(folder or command.replace(" ", "-"), opts.out)
    if log_dir:
        extra["log_dir"] = run_dir / "workers" if run_dir else None
    return run_sweep(command, cfg, cfg.total_runs(), lambda **hooks: run(cfg, **extra, **hooks), view, opts.fmt,
                     run_dir, interrupted_hint=interrupted_hint.format(run_dir=run_dir) if interrupted_hint else None)
