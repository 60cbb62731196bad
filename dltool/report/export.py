"""Run folders: ``runs/<command>-<timestamp>/`` with ``results.json``, ``runs.jsonl`` and plots.

Nothing is lost: each finished run of a sweep is appended to ``runs.jsonl`` and ``results.json`` is rewritten
atomically (write a temporary file, then ``os.replace``) as soon as the run finishes. No folder is overwritten:
a new name gets a ``-2``, ``-3`` … suffix, and an existing non-empty ``--out`` is refused.

One document: when a command finishes, ``results.json`` is what ``--json`` printed — the result's own fields and
the :data:`BOOKKEEPING` fields — plus what only the folder keeps (:data:`STORED_ONLY`). While a run goes, and
after it was stopped, ``results.json`` holds the bookkeeping, the config, the environment and the finished runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from dltool.errors import UsageError
from dltool.report.output import dumps, jsonable


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a results file reads like the plots beside it
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json_atomic(path: Path, doc: Any) -> None:
    write_text_atomic(path, dumps(doc) + "\n")


def new_run_dir(command: str, out: Path | None = None, root: Path = Path("runs"), resume: bool = False) -> Path:
    """Create and return a fresh run folder; never reuse one that holds files (unless ``resume``)."""
    if out is not None:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} is a file", "give a folder path for --out")
        if out.exists() and any(out.iterdir()) and not resume:
            raise UsageError(f"--out {out} already exists and is not empty",
                             "choose another --out or leave it out to get a new runs/ folder")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # under a read-only folder, under a file, a full disk …
            raise UsageError(f"--out {out} cannot be created ({err.strerror})",
                             "choose a folder you can write to for --out") from None
        return out
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{command}-{stamp}"
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
        except OSError as err:
            raise UsageError(f"cannot create the run folder {candidate} ({err.strerror})",
                             "run from a folder you can write to, or choose one with --out") from None


def check_out(out: Path | None, no_save: bool = False, resume: bool = False) -> None:
    """Reject an --out that cannot become a run folder, before TensorFlow starts and before anything is made."""
    if out is None:
        return
    out = Path(out)
    if no_save:
        raise UsageError("--no-save writes no run folder, so --out has no effect", "leave out one of them")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file", "give a folder path for --out")
    if out.exists() and not resume and any(out.iterdir()):
        raise UsageError(f"--out {out} already exists and is not empty",
                         "choose another --out or leave it out to get a new runs/ folder")
    parent = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if not parent.is_dir():
        raise UsageError(f"--out {out} cannot be created: {parent} is a file", "choose another folder for --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out} cannot be created: {parent} is not writable",
                         "choose a folder you can write to for --out")


def discard_run_dir(run_dir: Path) -> None:
    """Remove a run folder that holds no finished run (the run was refused: bad input or missing data), so
    that the same command, fixed, can use the same --out. The folder itself stays if something else is in it."""
    import shutil

    run_dir = Path(run_dir)
    for name in ("results.json", "runs.jsonl", "workers"):
        target = run_dir / name
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
    try:
        run_dir.rmdir()
    except OSError:
        pass


#: what ``--json`` prints beside the result's own fields (and results.json holds): the command as typed
#: ("mnist softmax"), when it started and finished (ISO 8601, seconds), its status (finished, interrupted,
#: terminated, failed; "running" while it goes), the run folder as made (None with --no-save) and, for a failed
#: run, the error
BOOKKEEPING = ("command", "started", "finished", "status", "run_dir", "error")
#: what only results.json holds: the rendered tables and footer (``dltool runs show`` prints them again) and, for a
#: command whose result has no ``runs`` of its own (eggholder, allreduce, reproduce), each finished run's record
#: as it was appended (``dltool runs`` reads its headline there; a stopped run is redrawn and resumed from it)
STORED_ONLY = ("tables", "footer", "runs")


class RunRecorder:
    """Keeps ``results.json`` of a run folder current: config, environment, each finished run, then the result.

    With ``run_dir`` None (``--no-save``) nothing is written, and :meth:`finish` still returns the document that
    ``--json`` prints, with ``"run_dir": null``.
    """

    def __init__(self, run_dir: Path | None, command: str, config: Any, environment: dict | None = None):
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self._lock = _lock_folder(self.run_dir) if self.run_dir is not None else None
        self.doc: dict[str, Any] = {
            "command": command,
            "started": _dt.datetime.now().isoformat(timespec="seconds"),
            "run_dir": str(self.run_dir) if self.run_dir is not None else None,
            "config": jsonable(config),
            "environment": jsonable(environment or {}),
            "runs": [],
            "status": "running",
        }
        existing = self.run_dir / "results.json" if self.run_dir is not None else None
        self.resumed = existing is not None and existing.exists()
        if self.resumed:  # resuming: keep what was finished
            previous = json.loads(existing.read_text())
            self.doc["runs"] = previous.get("runs", [])
        self._save()

    @property
    def runs(self) -> list[dict]:
        return self.doc["runs"]

    def add_run(self, record: Any) -> None:
        record = jsonable(record)
        self.doc["runs"].append(record)
        if self.run_dir is not None:
            with open(self.run_dir / "runs.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        self._save()

    def set(self, key: str, value: Any) -> None:
        self.doc[key] = jsonable(value)
        self._save()

    def finish(self, status: str = "finished", result: Any = None, **extra: Any) -> dict[str, Any]:
        """Mark the run ended and return the document ``--json`` prints.

        With the ``result`` (the command's Result, or its JSON document), results.json becomes that document and
        the bookkeeping, plus ``extra`` (the tables and footer) and whatever the recorder kept that the result
        lacks (the finished runs' records, for a result without ``runs``); the result's own ``runs``, ``config``
        and ``environment`` replace those written while it ran (scale's runs gain their speedups there). Without
        it (a stopped or failed run) results.json keeps the finished runs as they were appended."""
        self.doc["status"] = status
        self.doc["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
        for key, value in extra.items():
            self.doc[key] = jsonable(value)
        printed = [*BOOKKEEPING, *self.doc]
        if result is not None:
            result = jsonable(result)
            if not isinstance(result, dict):  # every Result is a dataclass; anything else is kept whole
                result = {"result": result}
            printed = [*BOOKKEEPING, *result, "config", "environment"]  # the recorder's, if the result has none
            self.doc = {**{k: self.doc[k] for k in BOOKKEEPING if k in self.doc}, **result,
                        **{k: v for k, v in self.doc.items() if k not in result}}
        self._save()
        self.close()
        return {k: self.doc[k] for k in dict.fromkeys(printed) if k in self.doc}

    def close(self) -> None:
        """Release the folder's lock (a finished run, or one whose folder was discarded)."""
        lock = getattr(self, "_lock", None)  # None too when __init__ was refused the lock
        if lock is not None:
            self._lock = None
            os.close(lock)

    def __del__(self) -> None:
        self.close()

    def _save(self) -> None:
        if self.run_dir is not None:
            write_json_atomic(self.run_dir / "results.json", self.doc)


def _lock_folder(run_dir: Path) -> int | None:
    """An exclusive lock on the run folder for this process' life: two `--resume` of one folder would train
    the same runs twice and interleave runs.jsonl."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise UsageError(f"another dltool process is writing into {run_dir}",
                         "wait for it to finish (or stop it), then run again") from None
    return fd
