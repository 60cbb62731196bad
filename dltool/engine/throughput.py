"""Training throughput of one model on one strategy: the measurement scale and allreduce make per learner count.

A run of ``steps`` steps of the global batch through :class:`dltool.engine.loop.Engine` (SGD with momentum, the
tf.data input path for every replica count, so 1 and N learners read their data the same way); the first steps
are warmup, excluded from the timing (:mod:`dltool.engine.timing`). :func:`plan` picks the steps per compiled
call and the warmup when the caller does not.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from dltool.errors import UsageError


def plan(total_steps: int, steps_per_epoch: int, steps_per_execution: int | None = None,
         warmup_steps: int | None = None) -> tuple[int, int]:
    """(steps per compiled call, warmup steps) for a run of ``total_steps``: given values win; otherwise
    min(50, steps/epoch, steps/10) per call (at least 1) and max(one call, 20 % of the steps up to 10)."""
    chunk = steps_per_execution or max(1, min(50, steps_per_epoch, total_steps // 10))
    warmup = warmup_steps or max(chunk, min(10, total_steps // 5))
    return chunk, warmup


def train_throughput(strategy, model_fn: Callable[[], Any], x, y, *, batch: int, steps: int, steps_per_epoch: int,
                     steps_per_execution: int | None = None, warmup_steps: int | None = None,
                     epochs: int | None = None, lr: float = 0.01, momentum: float = 0.9, precision: str = "fp32",
                     xla: bool = False, seed: int = 0, shuffle: bool = True, progress: Any = None,
                     label: str = "") -> dict:
    """Train ``steps`` steps of the global ``batch`` on the model ``model_fn`` builds; the timing as JSON types."""
    from dltool.engine.loop import Engine, FitConfig
    from dltool.engine.optimizers import make_optimizer

    chunk, warmup = plan(steps, steps_per_epoch, steps_per_execution, warmup_steps)
    if steps <= warmup:
        raise UsageError(f"{steps} steps leave nothing to time after {warmup} warmup steps",
                         f"use --steps {warmup + 4 * chunk} or more, or fewer --warmup-steps")
    engine = Engine(model_fn,
                    lambda: make_optimizer("momentum", lr, momentum=momentum),
                    strategy=strategy, precision=precision, jit_compile=xla, seed=seed)
    if progress is not None:
        progress.start_run(label)
    fit = engine.fit(x, y, FitConfig(epochs=epochs or 0, steps=steps, batch_size=batch, steps_per_execution=chunk,
                                     warmup_steps=warmup, shuffle=shuffle, seed=seed, evaluate=False,
                                     input="tfdata"),  # the same input path for every learner count
                     hooks=progress)
    thr = fit.throughput.to_dict() if fit.throughput else {}
    if progress is not None:
        progress.end_run(f"{thr.get('mean', float('nan')):.1f} examples/s")
    return {"global_batch": batch, "steps": fit.steps, "status": fit.status,
            "step_time": fit.step_time if math.isfinite(fit.step_time) else None,
            "throughput": {k: (v if isinstance(v, int) or math.isfinite(v) else None) for k, v in thr.items()},
            "train_seconds": fit.train_seconds, "wall_seconds": fit.wall_seconds,
            "steps_per_epoch": steps_per_epoch, "steps_per_execution": chunk, "warmup_steps": warmup,
            "final_loss": fit.final_loss if fit.losses else None,
            "parameters": int(engine.model.count_params()), "mfu": fit.mfu}
