"""The report's 19-row softmax grid (optimizer × learning rate, 1,000 steps of batch 100 each) end to end:
`dltool mnist softmax` against plain Keras with one `model.fit` per setting, in the same run.

Plain Keras is what a user writes per setting: build the model, `compile(optimizer, loss, metrics)` with Keras'
defaults, `fit` a shuffled, batched, repeated `tf.data` pipeline for 1,000 steps, `evaluate` on the test set;
so every setting builds, traces and compiles anew. dltool builds one engine (one trace) per optimizer type
and reuses it across learning rates (`reset()` + `set_learning_rate()`), and runs each setting's steps in
one compiled call. Targets on a 2-core CPU: the CLI end to end (Python start, TensorFlow import, data, 19
runs, tables) ≤ 30 s; the grid itself faster than plain Keras. Both are timed in this process after
TensorFlow is imported, on the same data; the CLI wall time is measured in a subprocess.

    python benchmarks/softmax_grid.py                  # grid in-process for both, plus the CLI wall time
    python benchmarks/softmax_grid.py --skip-cli       # without the subprocess
    python benchmarks/softmax_grid.py --data-dir DIR   # raw MNIST files elsewhere ($DLTOOL_DATA_DIR works too)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps per setting")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--skip-cli", action="store_true", help="skip the end-to-end CLI subprocess")
    args = parser.parse_args()

    cli_seconds = None
    if not args.skip_cli:  # first, while nothing else of ours holds the CPU
        cmd = [sys.executable, "-m", "dltool", "mnist", "softmax", "--momentums", "", "--steps", str(args.steps),
               "--batch-size", str(args.batch_size), "--no-save", "--json"]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        cli_seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"dltool failed: {done.stderr.strip().splitlines()[-1:]}")
        cli_doc = json.loads(done.stdout)

    import keras
    import tensorflow as tf

    from dltool import models
    from dltool.engine.loop import set_seed
    from dltool.engine.optimizers import make_optimizer
    from dltool.experiments.mnist import common, softmax

    start = time.perf_counter()
    result = softmax.run(softmax.SoftmaxConfig(momentums=[], steps=args.steps, batch_size=args.batch_size,
                                               data_dir=args.data_dir))
    ours = time.perf_counter() - start

    start = time.perf_counter()
    data = common.load_arrays("mnist", args.data_dir)
    plain: list[float] = []
    for name, lr, _ in softmax.SoftmaxConfig(momentums=[]).grid():
        set_seed(0)
        model = models.softmax((28, 28, 1))
        model.compile(optimizer=make_optimizer(name, lr),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        ds = (tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train)).shuffle(len(data.x_train), seed=0)
              .batch(args.batch_size).repeat())
        model.fit(ds, epochs=1, steps_per_epoch=args.steps, verbose=0)
        plain.append(float(model.evaluate(data.x_test, data.y_test, batch_size=1000, verbose=0)[1]))
    baseline = time.perf_counter() - start

    print(f"Softmax grid: {len(result.runs)} settings × {args.steps} steps of batch {args.batch_size} on MNIST, "
          f"{os.cpu_count()} CPUs")
    print(f"  {'setting':<16} {'dltool':>8} {'plain':>8} {'report':>8}")
    for run, acc in zip(result.runs, plain):
        ref = f"{run.reference:.4f}" if run.reference is not None else "—"
        dl = f"{run.test_accuracy:.4f}" if run.test_accuracy is not None else "—"
        print(f"  {run.optimizer + ' ' + format(run.lr, 'g'):<16} {dl:>8} {acc:>8.4f} {ref:>8}")
    print(f"  plain Keras, one fit per setting (after import)   {baseline:7.2f} s")
    print(f"  dltool engine, {result.engines_built} engines (after import)         {ours:7.2f} s   "
          f"{baseline / ours:4.2f}× faster")
    if cli_seconds is not None:
        verdict = "ok" if cli_seconds <= 30 else "SLOW"
        print(f"  dltool mnist softmax, end to end (CLI wall)       {cli_seconds:7.2f} s   target ≤ 30 s: {verdict}"
              f"  ({len(cli_doc['runs'])} rows)")


if __name__ == "__main__":
    main()
