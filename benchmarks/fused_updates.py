"""Fused optimizer kernels against Keras' own update, per method, on cifar-adaptive's MLP, in one run.

The model and batch of `dltool cifar-adaptive` (MLP 3072-1000-1000-10, 4.08 M parameters, L2 5e-4, batch 128,
bf16 by default) trained by the engine for `--steps` steps on random images (speed does not depend on the
values), once with the fused update and once with Keras' (`Engine(fused=False)`), alternating, best of
`--repeats`. Methods without a fused kernel (Keras' Adagrad, RMSProp + Nesterov) show ratio ≈ 1: their rows
measure the noise.

    python benchmarks/fused_updates.py
    python benchmarks/fused_updates.py --precision fp32 --methods adam,rmsprop
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default="adam,rmsprop,adadelta,adagrad,rmsprop-nesterov")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--precision", default="bf16")
    args = parser.parse_args()

    import numpy as np

    from dltool import models
    from dltool.engine.loop import Engine, FitConfig, set_seed
    from dltool.engine.optimizers import make_optimizer
    from dltool.experiments.cifar_adaptive import DEFAULT_LRS, HIDDEN

    rng = np.random.default_rng(0)
    n = args.batch_size * args.steps
    x = rng.random((n, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, n).astype("int64")
    cfg = FitConfig(epochs=1, batch_size=args.batch_size, evaluate=False, steps_per_execution=args.steps // 3)
    print(f"cifar-adaptive MLP, batch {args.batch_size}, {args.precision}, {args.steps} steps, best of "
          f"{args.repeats}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(f"  {'method':<18} {'Keras ms/step':>13} {'fused ms/step':>13} {'speedup':>8} {'MFU fused':>9}")
    for method in args.methods.split(","):
        engines = {}
        for fused in (False, True):
            set_seed(0)
            engines[fused] = Engine(lambda: models.mlp((32, 32, 3), HIDDEN, 10, l2=5e-4),
                                    lambda: make_optimizer(method, DEFAULT_LRS[method]), precision=args.precision,
                                    fused=fused)
        best = {False: float("inf"), True: float("inf")}
        mfu = None
        for _ in range(args.repeats):
            for fused in (False, True):
                engines[fused].reset()
                result = engines[fused].fit(x, y, cfg)
                best[fused] = min(best[fused], result.step_time)
                if fused and result.mfu:  # MFU of the best timed run
                    mfu = result.flops_per_example * args.batch_size / best[True] / result.peak_flops
        print(f"  {method:<18} {1000 * best[False]:13.2f} {1000 * best[True]:13.2f} "
              f"{best[False] / best[True]:7.2f}× {100 * (mfu or 0):8.1f}%"
              + ("" if engines[True].fused else "  (no fused kernel: Keras' update on both sides)"))


if __name__ == "__main__":
    main()
