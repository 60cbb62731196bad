"""``dltool reproduce``: which of the reports' results hold, which differ and why — measured now."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from dltool.cli import options as opt

Tier = Enum("Tier", {"quick": "quick", "full": "full"}, type=str)
Reports = Annotated[Optional[list[str]], typer.Argument(
    metavar="[REPORT]...", help="000, 001, 002, 003, 004 or all (default: all).", show_default=False)]


@opt.shared("data_dir", exclude=("seed",), check_out=False)
def reproduce(
    reports: Reports = None,
    tier: Annotated[Tier, typer.Option("--tier", help="quick: every row whose study is cheap at the report's own "
                                       "setting (minutes on 2 cores); full: every row, the page's tier (about two "
                                       "hours on 2 cores).")] = Tier.quick,
    list_rows: Annotated[bool, typer.Option("--list", help="List every row (id, report, section, kind, tier, the "
                                            "committed page's verdict) without running anything.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a row's verdict differs from the committed "
                                        "page or its number moved outside the row's tolerance (CI's drift "
                                        "check).")] = False,
    against: Annotated[Optional[Path], typer.Option("--against", help="The committed page's data to compare "
                       "with (default: docs/reproduction.json of the source tree).", show_default=False)] = None,
    page: Annotated[Optional[Path], typer.Option("--page", help="Also write the page (Markdown) here and its data "
                    "beside it (.json); needs --tier full and all reports.", show_default=False)] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=8, help="Studies run side by side (each a dltool "
                                      "process); they share the cores, so their timings and the claims made "
                                      "from them are noisier (the page is written with 1).")] = 1,
    resume: Annotated[Optional[Path], typer.Option("--resume", help="Continue an interrupted run folder: its "
                      "finished studies and rows are kept, its settings used.", show_default=False)] = None,
    *, run: opt.RunOptions,
) -> None:
    """Audit the five course reports: run the studies that measure each of their numbers and claims, and judge
    every row — reproduced (within its tolerance at the report's setting), reproduced after calibration (an open
    setting chosen because it matched; the candidates are named), a reference from elsewhere, computed without
    training, differs (with the evidence), not comparable (other hardware, virtual devices) or short run.

    Each row is kept in the run folder as soon as its studies finish (Ctrl-C keeps them; --resume continues).
    --tier full --page docs/reproduction.md writes the page; --check compares with it.
    """
    from dltool.errors import UsageError
    from dltool.experiments import reproduce as exp
    from dltool.report import output
    from dltool.report.views import reproduce as views

    if list_rows:
        _list(exp.parse_reports(reports), against, run.fmt)
        return
    run_dir, done = None, []
    if resume is not None:
        if reports or run.out is not None:
            raise UsageError("--resume continues a folder with its own reports and settings",
                             "leave out REPORT and --out with --resume")
        cfg, done = exp.load_resume(resume)
        cfg.measure_peaks = cfg.measure_peaks or page is not None
        if page is not None and (cfg.tier != "full" or len(cfg.reports) != len(exp.ALL)):
            raise UsageError(f"--page writes the whole page, and {resume} holds a {cfg.tier} run of report(s) "
                             f"{', '.join(cfg.reports)}", "resume a --tier full run of all five reports")
    else:
        run.check_out()
        tier_name = getattr(tier, "value", tier) or "quick"
        cfg = exp.ReproduceConfig.from_options(reports=exp.parse_reports(reports), tier=tier_name, jobs=jobs,
                                               data_dir=run.data_dir, against=against,
                                               measure_peaks=page is not None)
        if page is not None and (cfg.tier != "full" or len(cfg.reports) != len(exp.ALL)):
            raise UsageError("--page writes the whole page: it is made from --tier full of all five reports",
                             "add --tier full and leave out REPORT (or give all)")
        if page is not None and cfg.jobs > 1:
            raise UsageError("--page is written from studies run one at a time: side by side they share the "
                             "cores and the page's timing claims would measure that", "leave out --jobs")
    if check and exp.find_committed(cfg.against) is None:
        from dltool.errors import MissingError

        raise MissingError("--check has no committed page to compare with",
                           "run from the source tree (docs/reproduction.json) or give --against FILE")
    from dltool.cli.sweep import launch
    from dltool.report.export import new_run_dir

    cfg.prepare()
    if resume is not None:
        run_dir = new_run_dir("reproduce", resume, resume=True)
        output.info(f"resuming {resume}: {len(done)} finished row(s) kept, stored settings used")
    elif not run.no_save:
        run_dir = new_run_dir("reproduce", run.out)
    result = launch("reproduce", cfg, run, exp.run, views, run_dir=run_dir, study_dir=run_dir, done=done,
                    interrupted_hint="continue with: dltool reproduce --resume {run_dir}")
    if page is not None:
        written = views.write_page(result, page)
        output.info(f"wrote {written[0]} and {written[1]}")
    if check and result.drift:
        from dltool.errors import RunError

        raise RunError(f"{len(result.drift)} row(s) moved from the committed page: "
                       + "; ".join(f"{d['id']} ({d['why']})" for d in result.drift[:10]),
                       "if the change is intended, regenerate the page with `dltool reproduce --tier full --page "
                       "docs/reproduction.md`")


def _list(reports: list[str], against: Optional[Path], fmt) -> None:
    from dltool.experiments import reproduce as exp
    from dltool.experiments.reproduce.catalog import catalogue
    from dltool.report import output
    from dltool.report.views import reproduce as views

    studies, rows = catalogue()
    committed_path = exp.find_committed(against)
    committed = exp.load_committed(committed_path)
    listed = [{"id": r.id, "report": r.report, "where": r.where, "setting": r.setting, "quantity": r.quantity,
               "kind": r.kind, "tier": r.tier(studies), "basis": r.basis, "printed": r.printed,
               "tolerance": r.tol,
               "committed": (committed.get(r.id) or {}).get("verdict"),
               "command": "; ".join(studies[k].command for k in r.studies) or "—"}
              for r in rows if r.report in reports]
    table = views.list_table(listed)
    table.notes = [f"committed verdicts from {committed_path}" if committed_path else
                   "no committed page found (docs/reproduction.json): give --against FILE"]
    output.emit([table], listed, fmt)


def register(app: typer.Typer) -> None:
    app.command("reproduce")(reproduce)
