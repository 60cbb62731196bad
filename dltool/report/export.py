"""Run folders: ``runs/<command>-<timestamp>/`` with ``results.json``, ``runs.jsonl`` and plots.

Nothing is lost: each finished run of a sweep is appended to ``runs.jsonl`` and ``results.json`` is rewritten
atomically (write a temporary file, then ``os.replace``) as soon as the run finishes. No folder is overwritten:
a new name gets a ``-2``, ``-3`` … suffix, and an existing non-empty ``--out`` is refused.
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
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        out.mkdir(parents=True, exist_ok=True)
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


class RunRecorder:
    """Keeps ``results.json`` of a run folder current: config, environment, each finished run, the summary."""

    def __init__(self, run_dir: Path, command: str, config: Any, environment: dict | None = None):
        self.run_dir = Path(run_dir)
        self.doc: dict[str, Any] = {
            "command": command,
            "started": _dt.datetime.now().isoformat(timespec="seconds"),
            "config": jsonable(config),
            "environment": jsonable(environment or {}),
            "runs": [],
            "status": "running",
        }
        existing = self.run_dir / "results.json"
        if existing.exists():  # resuming: keep what was finished
            previous = json.loads(existing.read_text())
            self.doc["runs"] = previous.get("runs", [])
        self._save()

    @property
    def runs(self) -> list[dict]:
        return self.doc["runs"]

    def add_run(self, record: Any) -> None:
        record = jsonable(record)
        self.doc["runs"].append(record)
        with open(self.run_dir / "runs.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        self._save()

    def set(self, key: str, value: Any) -> None:
        self.doc[key] = jsonable(value)
        self._save()

    def finish(self, status: str = "finished", **extra: Any) -> None:
        self.doc["status"] = status
        self.doc["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
        for key, value in extra.items():
            self.doc[key] = jsonable(value)
        self._save()

    def _save(self) -> None:
        write_json_atomic(self.run_dir / "results.json", self.doc)
