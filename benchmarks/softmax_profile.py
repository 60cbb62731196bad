"""Where the 19-row softmax grid's time goes: engine builds, traced first calls, training calls, evaluations.

Wraps the engine's methods with timers and runs the grid in process (`dltool mnist softmax`'s defaults, no
momentum study), so the sum of the parts can be read against the whole.

    python benchmarks/softmax_profile.py
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    start = time.perf_counter()
    import tensorflow  # noqa: F401  (the import is part of the CLI's wall time: shown on its own line)

    imported = time.perf_counter()
    from dltool.engine import loop
    from dltool.experiments.mnist import softmax

    spent: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t0
                counts[name] += 1
        return wrapper

    loop.Engine.__init__ = timed("engine build (model, optimizer, initial state)", loop.Engine.__init__)
    loop.Engine.fit = timed("fit (training calls, first one traces)", loop.Engine.fit)
    loop.Engine.evaluate = timed("evaluate on the 10,000 test images", loop.Engine.evaluate)
    loop.Engine.reset = timed("reset (initial weights and slots)", loop.Engine.reset)
    t0 = time.perf_counter()
    result = softmax.run(softmax.SoftmaxConfig(momentums=[]))
    grid = time.perf_counter() - t0
    train = sum(r.train_seconds for r in result.runs)
    print(f"softmax grid, {len(result.runs)} settings, load {os.getloadavg()[0]:.2f}")
    print(f"  {'import tensorflow':<52} {imported - start:6.2f} s")
    print(f"  {'grid (softmax.run, data load included)':<52} {grid:6.2f} s")
    for name, seconds in spent.items():
        print(f"    {name:<50} {seconds:6.2f} s  ({counts[name]} calls)")
    print(f"    {'of fit: compiled training calls (train_seconds)':<50} {train:6.2f} s")
    print(f"    {'rest (data load, records)':<50} {grid - sum(spent.values()):6.2f} s")


if __name__ == "__main__":
    main()
