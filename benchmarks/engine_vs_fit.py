"""The engine against a plain Keras `model.fit`, same model, data, batch and number of steps, in one run.

Model: the Deep-MNIST CNN (conv 5×5×32 → pool → conv 5×5×64 → pool → dense 1024 → dropout 0.5 → dense 10,
3,274,634 parameters) on real MNIST, batch 50, Adam 1e-4. Targets on a 2-core CPU: engine fp32 ≥ 1.3× and
engine bf16 ≥ 4× the plain fit at fp32 (wall time of the same training steps, tracing included for both).

"Plain fit" is what a user writes: `model.compile(optimizer, loss, metrics=["accuracy"])` with Keras' defaults,
which include `jit_compile="auto"` (XLA on when every layer supports it). On this CPU XLA makes this CNN slower;
`fit (jit_compile=False)` is printed too, so the ratio is not read as a loop-overhead win alone.

    python benchmarks/engine_vs_fit.py                 # one epoch (1,200 steps) of each
    python benchmarks/engine_vs_fit.py --steps 300     # quicker
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1200, help="training steps per variant (1,200 = one epoch)")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--skip-nojit", action="store_true", help="skip the fit(jit_compile=False) row")
    parser.add_argument("--precisions", default="fp32,bf16", help="engine precisions, comma-separated")
    parser.add_argument("--unfused", action="store_true", help="also run the engine with Keras' own update")
    args = parser.parse_args()

    import keras
    import numpy as np

    from dltool.data import load, normalise
    from dltool.engine.loop import Engine, FitConfig, set_seed
    from dltool.engine.optimizers import make_optimizer
    from dltool.models import deep_mnist_cnn

    data = load("mnist", data_dir=args.data_dir)
    n = args.steps * args.batch_size
    reps = -(-n // len(data.x_train))
    x = np.concatenate([normalise(data.x_train)] * reps)[:n]
    y = np.concatenate([data.y_train] * reps)[:n]
    rows = []

    def plain_fit(jit) -> float:
        set_seed(0)
        model = deep_mnist_cnn()
        model.compile(optimizer=keras.optimizers.Adam(1e-4),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                      jit_compile=jit)
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
        return time.perf_counter() - start

    def engine_fit(precision: str, fused: bool):
        set_seed(0)
        engine = Engine(deep_mnist_cnn, lambda: make_optimizer("adam", 1e-4), precision=precision, fused=fused)
        start = time.perf_counter()
        result = engine.fit(x, y, FitConfig(epochs=1, batch_size=args.batch_size, evaluate=False))
        return time.perf_counter() - start, result

    baseline = plain_fit("auto")
    rows.append(("plain model.fit (Keras defaults), fp32", baseline, None))
    if not args.skip_nojit:
        rows.append(("model.fit(jit_compile=False), fp32", plain_fit(False), None))
    for precision in args.precisions.split(","):
        for fused in ((False, True) if args.unfused else (True,)):
            seconds, result = engine_fit(precision, fused)
            label = f"engine {precision}{'' if fused else ' (Keras update)'} loss {result.final_loss:.3f}"
            rows.append((label, seconds, result))
    print(f"Deep-MNIST CNN, {args.steps} steps of batch {args.batch_size} on MNIST, {os.cpu_count()} CPUs")
    print(f"  {'':<44} {'wall':>8}  {'vs fit':>6}  {'img/s':>7}  {'MFU':>6}  (img/s and MFU: timed steps)")
    for label, seconds, result in rows:
        rate = (args.batch_size / result.step_time) if result else args.steps * args.batch_size / seconds
        mfu = f"{100 * result.mfu:5.1f}%" if result and result.mfu else "     -"
        print(f"  {label:<44} {seconds:7.2f}s  {baseline / seconds:5.2f}×  {rate:7.0f}  {mfu}")


if __name__ == "__main__":
    main()
