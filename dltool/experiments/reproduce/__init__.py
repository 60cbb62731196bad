"""``dltool reproduce``: the five reports' audit, run from the code that ships.

Each report module (:mod:`r000` … :mod:`r004`) declares its *studies* — dltool commands, run here as real
subprocesses with ``--json --no-save`` exactly as the page's "command" column prints them — and its *rows*: every
number the report prints and every claim it makes, each with the rule that decides it (:mod:`core`). A row is
judged as soon as the studies it reads have finished and is handed to ``on_run`` (kept on disk at once); the
studies' documents are kept in the run folder too, so ``--resume`` continues without rerunning them.

Tiers: ``quick`` runs every row whose study is cheap at the report's own setting (architecture counts, the line
fits, Table 1, report 001's softmax sweeps — about 3 minutes on 2 cores); ``full`` runs everything, which is
what the committed page (docs/reproduction.md) is made from.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dltool.errors import DltoolError, ExitCode, MissingError, UsageError
from dltool.experiments.config import ExperimentConfig
from dltool.experiments.reproduce.core import (
    REPORTS,
    TIERS,
    VERDICTS,
    Row,
    Study,
    fmt_delta,
    fmt_value,
    judge,
)

ALL = tuple(REPORTS)
PAGE_NAME = "reproduction.md"
DATA_NAME = "reproduction.json"


def parse_reports(values: list[str] | None) -> list[str]:
    """REPORT arguments: 000 … 004 (or 0 … 4, report000) or ``all``; none means all."""
    if not values:
        return list(ALL)
    chosen: list[str] = []
    for value in values:
        for part in str(value).split(","):
            key = part.strip().lower().removeprefix("report").strip()
            if not key:
                continue
            if key == "all":
                return list(ALL)
            if key.isdigit() and int(key) < len(ALL):
                key = f"{int(key):03d}"
            if key not in REPORTS:
                raise UsageError(f"unknown report {part!r}", f"choose from {', '.join(ALL)} or all")
            if key not in chosen:
                chosen.append(key)
    return sorted(chosen)


@dataclass
class ReproduceConfig(ExperimentConfig):
    reports: list[str] = field(default_factory=lambda: list(ALL))
    tier: str = "full"
    jobs: int = 1  # studies run side by side (each a dltool process)
    data_dir: Path | None = None
    against: Path | None = None  # the committed page's data to compare with (default: docs/reproduction.json)
    measure_peaks: bool = False  # measure the matmul peaks for the page's header (the full tier's page)

    SUMMARY = ("counts", "cpu_seconds", "wall_seconds", "machine", "commit", "drift", "rows")

    def validate(self) -> None:
        self.reports = parse_reports(self.reports)
        if self.tier not in TIERS:
            raise UsageError(f"unknown tier {self.tier!r}", "use --tier quick or --tier full")
        if self.against is not None and not Path(self.against).is_file():
            raise MissingError(f"--against {self.against} does not exist",
                               "give the reproduction.json that --page wrote, or leave out --against")
        if not 1 <= self.jobs <= 8:
            raise UsageError(f"--jobs must be 1 … 8, got {self.jobs}", "use --jobs 1 (or 2 on a 4-core machine)")

    def plan(self) -> tuple[list[Study], list[Row]]:
        """The studies to run (longest first) and the rows they decide, for these reports and this tier."""
        from dltool.experiments.reproduce.catalog import catalogue

        studies, rows = catalogue()
        keep = [r for r in rows if r.report in self.reports and _tier_ok(r.tier(studies), self.tier)]
        keys: list[str] = []
        for r in keep:
            for k in (*r.studies, *(k for k in r.extra if _tier_ok(studies[k].tier, self.tier))):
                if k not in keys:
                    keys.append(k)
        return sorted((studies[k] for k in keys), key=lambda s: -s.seconds), keep

    def total_runs(self) -> int:
        return len(self.plan()[0])

    def prepare(self) -> None:
        """The datasets the chosen studies read must be there before anything runs (exit 3 otherwise)."""
        from dltool.data.sources import check_available

        needed = []
        for study in self.plan()[0]:
            name = {"mnist": "mnist", "cifar-adaptive": "cifar10", "cutout": "cifar10"}.get(study.args[0])
            if name and name not in needed:
                needed.append(name)
        for name in needed:
            check_available(name, self.data_dir, download=False)


def _tier_ok(tier: str, chosen: str) -> bool:
    return TIERS.index(tier) <= TIERS.index(chosen)


@dataclass
class StudyRun:
    key: str
    command: str
    status: str  # finished | failed
    cpu_seconds: float
    wall_seconds: float
    error: str | None = None
    commit: str | None = None  # the source tree's commit when the study ran (a resumed run may span several)


@dataclass
class ReproduceResult:
    config: ReproduceConfig
    rows: list[dict]
    studies: list[StudyRun]
    counts: dict[str, int]
    cpu_seconds: float
    wall_seconds: float
    machine: dict
    commit: str | None
    date: str
    drift: list[dict] | None = None  # with a committed page to compare with: the rows that moved
    committed: str | None = None  # the file compared with
    environment: dict = field(default_factory=dict)


def record(row: Row, studies: dict[str, Study], docs: dict[str, dict]) -> dict:
    """A judged row as results.json and the page keep it."""
    m = row.measure(docs)
    verdict, delta = judge(row, m)
    reason = m.reason or row.reason
    return {
        "id": row.id, "report": row.report, "where": row.where, "setting": row.setting, "quantity": row.quantity,
        "kind": row.kind, "tier": row.tier(studies), "basis": row.basis, "printed": row.printed, "value": row.value,
        "reference_text": reference_text(row),
        "tolerance": row.tol, "tolerance_text": row.tol_text, "ours": m.ours, "ours_text": fmt_value(m.ours),
        "delta": delta, "delta_text": fmt_delta(delta), "verdict": verdict, "holds": m.holds, "reason": reason,
        "source": row.source, "candidates": m.candidates or row.candidates,
        "command": "; ".join(studies[k].command for k in row.studies) or "—",
    }


_LIVE: set[subprocess.Popen] = set()  # study processes running now (several with --jobs)
_LIVE_LOCK = threading.Lock()


def stop_studies(grace: float = 10.0) -> None:
    """End every running study process: SIGTERM, then SIGKILL after ``grace`` seconds (Ctrl-C, SIGTERM, a failure
    of the run)."""
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def reference_text(row: Row) -> str:
    """The report column: the value as the report prints it; a claim's words in quotes; a value from elsewhere
    with that said."""
    if row.kind == "claim":
        return f"“{row.printed}”"
    if row.printed is not None:
        return row.printed
    if row.value is not None:
        return f"{fmt_value(int(row.value) if float(row.value).is_integer() else row.value)} (not in the report)"
    return "—"


def run_study(study: Study, data_dir: Path | None = None) -> tuple[dict | None, StudyRun]:
    """Run one study as a real dltool process; its JSON document and what it cost (its own CPU time)."""
    args = [sys.executable, "-m", "dltool", *study.args, "--json"]
    if study.args[0] != "archcalc":  # archcalc writes no run folder and has no --no-save
        args.append("--no-save")
    if data_dir is not None and study.args[0] in ("mnist", "cifar-adaptive", "cutout", "scale"):
        args += ["--data-dir", str(data_dir)]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        with _LIVE_LOCK:
            _LIVE.add(proc)
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time, also with --jobs
        except BaseException:  # Ctrl-C or SIGTERM in this thread: the study's process goes with us
            stop_studies()
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(proc)
        proc.returncode = os.waitstatus_to_exitcode(status)
        tree = commit()
        wall = time.perf_counter() - start
        cpu = usage.ru_utime + usage.ru_stime
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode != 0:
        last = [line for line in errors.strip().splitlines() if line.strip()][-1:] or [f"exit {proc.returncode}"]
        return None, StudyRun(study.key, study.command, "failed", cpu, wall, f"exit {proc.returncode}: {last[0]}",
                              tree)
    try:
        doc = json.loads(text)
    except ValueError as err:
        return None, StudyRun(study.key, study.command, "failed", cpu, wall,
                              f"its output is not one JSON document ({err.msg}): {text[:200]!r}", tree)
    return doc, StudyRun(study.key, study.command, "finished", cpu, wall, commit=tree)


def run(cfg: ReproduceConfig, study_dir: Path | None = None, on_run: Callable[[dict], None] | None = None,
        progress: Any = None, done: list[dict] | None = None) -> ReproduceResult:
    """Run the studies, judge each row as soon as its studies are in, return every row (and, when a committed
    page is found, the rows that moved from it).

    ``study_dir`` keeps each study's document (``studies/KEY.json``) so a resumed run skips it; ``done`` are the
    rows a resumed run already recorded.
    """
    run_dir = study_dir
    studies_plan, rows = cfg.plan()
    from dltool.experiments.reproduce.catalog import catalogue

    all_studies, _ = catalogue()
    docs: dict[str, dict] = {}
    spent: list[StudyRun] = []
    if run_dir is not None:
        (Path(run_dir) / "studies").mkdir(parents=True, exist_ok=True)
        for study in studies_plan:
            saved = Path(run_dir) / "studies" / f"{study.key}.json"
            if saved.exists():
                kept = json.loads(saved.read_text())
                if kept["run"].get("command") != study.command:
                    continue  # the study's command changed since: run it again
                docs[study.key] = kept["doc"]
                spent.append(StudyRun(**kept["run"]))
    # a resumed run judges every row again from the kept studies (the rows' rules may have been mended since);
    # only rows not on disk yet are handed to on_run
    kept = {r["id"] for r in (done or [])}
    records: dict[str, dict] = {}
    started = time.perf_counter()

    def judge_ready(final: bool = False) -> None:
        for row in rows:
            if row.id in records or not all(k in docs for k in row.studies):
                continue
            if not final and any(k not in docs and k in {s.key for s in studies_plan} for k in row.extra):
                continue  # its candidates are still running
            try:
                rec = record(row, all_studies, docs)
            except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as err:
                raise DltoolError(f"row {row.id} could not be judged from its studies' output ({err!r})",
                                  "the study's JSON changed shape: update the row in "
                                  f"dltool/experiments/reproduce/r{row.report}.py", ExitCode.RUNTIME) from err
            records[row.id] = rec
            if on_run is not None and row.id not in kept:
                on_run(rec)

    judge_ready()
    todo = [s for s in studies_plan if s.key not in docs]
    failures: list[StudyRun] = []

    def finished(study: Study, doc: dict | None, spent_run: StudyRun) -> None:
        spent.append(spent_run)
        if doc is None:
            failures.append(spent_run)
        else:
            docs[study.key] = doc
            if run_dir is not None:
                from dltool.report.export import write_json_atomic

                write_json_atomic(Path(run_dir) / "studies" / f"{study.key}.json",
                                  {"doc": doc, "run": spent_run.__dict__})
        if progress is not None:
            progress.end_run(f"{spent_run.status} in {spent_run.wall_seconds:.0f} s")
        judge_ready()

    if cfg.jobs == 1:
        for study in todo:
            if progress is not None:
                progress.start_run(study.command)
            finished(study, *run_study(study, cfg.data_dir))
    else:
        pool = ThreadPoolExecutor(max_workers=cfg.jobs)
        try:
            pending = {}
            queue = list(todo)
            while queue or pending:
                while queue and len(pending) < cfg.jobs:
                    study = queue.pop(0)
                    if progress is not None:
                        progress.start_run(study.command)
                    pending[pool.submit(run_study, study, cfg.data_dir)] = study
                ready, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in ready:
                    finished(pending.pop(future), *future.result())
        except BaseException:  # Ctrl-C, SIGTERM or an error here: the worker threads' studies end too
            stop_studies()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    if failures:
        judge_ready(final=True)  # rows whose own studies finished are kept, also when a candidate failed
        names = "; ".join(f"{f.command} ({f.error})" for f in failures)
        raise DltoolError(f"{len(failures)} stud{'y' if len(failures) == 1 else 'ies'} failed: {names}",
                          "run the command shown to see its error; finished rows were kept", ExitCode.RUNTIME)
    judge_ready(final=True)
    ordered = [records[r.id] for r in rows if r.id in records]
    counts = {v: sum(1 for r in ordered if r["verdict"] == v) for v in VERDICTS}
    committed = find_committed(cfg.against)
    return ReproduceResult(
        config=cfg, rows=ordered, studies=spent, counts={k: n for k, n in counts.items() if n},
        cpu_seconds=sum(s.cpu_seconds for s in spent),
        wall_seconds=time.perf_counter() - started + sum(s.wall_seconds for s in spent if s.key not in
                                                         {t.key for t in todo}),
        machine=machine(cfg.measure_peaks), commit=commit(), date=time.strftime("%Y-%m-%d"),
        drift=drift(ordered, load_committed(committed), cfg.reports, cfg.tier) if committed else None,
        committed=str(committed) if committed else None)


def load_resume(run_dir: Path) -> tuple[ReproduceConfig, list[dict]]:
    """The config and recorded rows of an interrupted ``reproduce`` folder."""
    from dataclasses import fields

    path = Path(run_dir) / "results.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--resume {run_dir}: no results.json there", "give the run folder of an earlier "
                         "`dltool reproduce` run") from None
    except json.JSONDecodeError as err:
        raise UsageError(f"--resume {run_dir}: results.json is not valid JSON ({err.msg})",
                         "give the run folder of an earlier `dltool reproduce` run") from None
    if doc.get("command") != "reproduce":
        raise UsageError(f"--resume {run_dir} holds a {doc.get('command')!r} run, not 'reproduce'",
                         "give the run folder of an earlier `dltool reproduce` run")
    names = {f.name for f in fields(ReproduceConfig)}
    cfg = ReproduceConfig(**{k: v for k, v in doc.get("config", {}).items() if k in names})
    for name in ("data_dir", "against"):
        if getattr(cfg, name) is not None:
            setattr(cfg, name, Path(getattr(cfg, name)))
    cfg.validate()
    return cfg, list(doc.get("runs", []))


def machine(measure: bool = False) -> dict:
    """CPU model, cores and Python; with ``measure``, the matmul peaks measured now (``dltool env --measure``)."""
    from dltool.envinfo import cpu_info

    cpu = cpu_info()
    info = {"cpu": cpu.get("model"), "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity") else os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version(), "peaks": None}
    if measure:
        with tempfile.TemporaryDirectory() as cache:  # measured in this run, not read from an old cache
            env = dict(os.environ, DLTOOL_CACHE_DIR=cache)
            proc = subprocess.run([sys.executable, "-m", "dltool", "env", "--measure", "--json"], capture_output=True,
                                  text=True, env=env)
        if proc.returncode == 0:
            peaks = json.loads(proc.stdout).get("peaks") or {}
            info["peaks"] = {device: {p: v.get("flops") for p, v in (by or {}).items()} for device, by in peaks.items()}
    return info


MEASURED_CODE = ("engine", "experiments", "models", "data")  # what the page's numbers depend on


def commit() -> str | None:
    """The commit of the source tree this package runs from, if any; ``+dirty`` when the code the numbers depend
    on (:data:`MEASURED_CODE`) has uncommitted changes."""
    root = Path(__file__).resolve().parents[3]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=10", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                *(f"dltool/{p}" for p in MEASURED_CODE)], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


# ---- the committed page and the drift check --------------------------------------------------------------------

def find_committed(path: Path | None = None) -> Path | None:
    """The committed page's data: ``path``, else docs/reproduction.json here or beside the package's source."""
    if path is not None:
        if not Path(path).is_file():
            raise MissingError(f"{path} does not exist", "give the reproduction.json written by --page, or leave "
                               "out --against to use docs/reproduction.json of the source tree")
        return Path(path)
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base / "docs" / DATA_NAME
        if candidate.is_file():
            return candidate
    return None


def load_committed(path: Path | None) -> dict[str, dict]:
    if path is None:
        return {}
    doc = json.loads(Path(path).read_text())
    return {r["id"]: r for r in doc.get("rows", [])}


def drift(rows: list[dict], committed: dict[str, dict], reports: list[str] | None = None,
          tier: str = "quick") -> list[dict]:
    """Rows whose verdict changed from the committed page, or whose number moved outside the row's tolerance;
    also the committed rows of these reports and tier that are no longer measured (deleted, renamed, moved)."""
    now = {r["id"] for r in rows}
    moved = [{"id": i, "why": "on the committed page but not measured now", "verdict": None}
             for i, old in committed.items()
             if i not in now and (reports is None or old.get("report") in reports)
             and _tier_ok(old.get("tier", "full"), tier)]
    for r in rows:
        old = committed.get(r["id"])
        if old is None:
            moved.append({"id": r["id"], "why": "not on the committed page", "verdict": r["verdict"]})
            continue
        if r["verdict"] != old["verdict"]:
            moved.append({"id": r["id"], "why": f"verdict {old['verdict']} → {r['verdict']}", "verdict": r["verdict"]})
            continue
        a, b = r["ours"], old["ours"]
        if r["basis"] in ("timing", "virtual") or r["kind"] == "claim":
            continue  # other machines' seconds and claims' evidence text move with the machine; verdicts do not
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            tol = r["tolerance"] or 0
            if abs(a - b) > tol + 1e-12 * max(1.0, abs(b)):
                moved.append({"id": r["id"], "why": f"ours {fmt_value(b)} → {fmt_value(a)} (tolerance "
                              f"{r['tolerance_text'] or 'exact'})", "verdict": r["verdict"]})
        elif r["kind"] == "numeric" and r["basis"] != "short" and a != b:
            moved.append({"id": r["id"], "why": f"ours {fmt_value(b)} → {fmt_value(a)}", "verdict": r["verdict"]})
    return moved
