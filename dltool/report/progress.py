"""A rich progress bar (with ETA) on stderr for sweeps of training runs; silent when stderr is not a terminal.

It implements the engine's hooks (``on_fit_start``, ``on_steps``, ``on_epoch_end``), so the loop knows nothing
of rich. When stderr is not a terminal each finished run is logged as one line instead.
"""

from __future__ import annotations

import sys
from typing import Any


class SweepProgress:
    def __init__(self, total_runs: int, title: str = "runs", enabled: bool | None = None):
        from rich.console import Console

        self.console = Console(file=sys.stderr, highlight=False)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self.total_runs = total_runs
        self.title = title
        self._progress: Any = None
        self._runs_task = None
        self._steps_task = None

    def __enter__(self) -> "SweepProgress":
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                                      TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
                                      transient=False)
            self._progress.__enter__()
            self._runs_task = self._progress.add_task(self.title, total=self.total_runs, info="")
        return self

    def __exit__(self, *exc) -> bool:
        if self._progress is not None:
            self._progress.__exit__(*exc)
        return False

    def start_run(self, label: str) -> "SweepProgress":
        self._label = label
        if self._progress is not None:
            if self._steps_task is not None:
                self._progress.remove_task(self._steps_task)
            self._steps_task = self._progress.add_task(f"  {label}", total=None, info="")
        return self

    def end_run(self, summary: str = "") -> None:
        if self._progress is not None:
            self._progress.advance(self._runs_task)
            if self._steps_task is not None:
                self._progress.remove_task(self._steps_task)
                self._steps_task = None
        else:
            self.console.print(f"{getattr(self, '_label', '')}: {summary}".strip(": "))

    def log(self, message: str) -> None:
        self.console.print(message)

    # engine hooks
    def on_fit_start(self, total_steps: int) -> None:
        if self._progress is not None and self._steps_task is not None:
            self._progress.update(self._steps_task, total=total_steps, completed=0)

    def on_steps(self, steps_done: int, loss: float) -> None:
        if self._progress is not None and self._steps_task is not None:
            self._progress.update(self._steps_task, completed=steps_done, info=f"loss {loss:.4g}")

    def on_epoch_end(self, log: Any) -> None:
        pass
