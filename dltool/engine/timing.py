"""Step timing the way tf_cnn_benchmarks and Horovod's synthetic benchmark report it.

The loop runs ``k`` steps per call of its compiled function and times each call after the result is back on
the host (so the time is real work, not an asynchronous dispatch). The first calls carry tracing and graph
optimisation: they are warmup and excluded. Throughput is reported as mean ± standard error (σ/√n) over the
timed calls, in examples per second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Throughput:
    mean: float  # examples per second
    std: float  # standard deviation over timed calls
    sem: float  # σ/√n
    n: int  # number of timed calls

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std, "sem": self.sem, "n": self.n}


@dataclass
class StepTimer:
    """Collects (steps, seconds) per compiled call; the first ``warmup_steps`` steps are excluded."""

    warmup_steps: int = 1
    calls: list[tuple[int, float]] = field(default_factory=list)
    _seen: int = 0

    def record(self, steps: int, seconds: float) -> None:
        self.calls.append((steps, seconds))

    def timed(self) -> list[tuple[int, float]]:
        """Calls that start after the warmup steps."""
        out, seen = [], 0
        for steps, seconds in self.calls:
            if seen >= self.warmup_steps:
                out.append((steps, seconds))
            seen += steps
        if not out and len(self.calls) > 1:  # too few calls: drop only the first
            out = self.calls[1:]
        return out

    def step_times(self) -> list[float]:
        """Seconds per step of each timed call."""
        return [seconds / steps for steps, seconds in self.timed() if steps]

    def mean_step_time(self) -> float:
        timed = self.timed()
        steps = sum(s for s, _ in timed)
        return sum(t for _, t in timed) / steps if steps else float("nan")

    def throughput(self, batch_size: int) -> Throughput:
        rates = [batch_size / t for t in self.step_times() if t > 0]
        if not rates:
            return Throughput(float("nan"), float("nan"), float("nan"), 0)
        mean = sum(rates) / len(rates)
        std = math.sqrt(sum((r - mean) ** 2 for r in rates) / (len(rates) - 1)) if len(rates) > 1 else 0.0
        return Throughput(mean, std, std / math.sqrt(len(rates)), len(rates))

    @property
    def total_seconds(self) -> float:
        return sum(t for _, t in self.calls)
