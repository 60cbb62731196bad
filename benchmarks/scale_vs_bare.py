"""1-learner ``scale`` throughput against a bare ``strategy.run`` loop: same model, batch, data and strategy.

Goal: the scale path (the engine's loop, exactly as ``dltool scale`` runs one learner) within 5 % of a bare loop
— one ``tf.function`` step, ``strategy.run`` on a distributed ``tf.data`` iterator, ``compute_average_loss``,
no progress, no bookkeeping, one sync at the end of the timed steps.

Both run in this process on MirroredStrategy over one device, on the same synthetic uint8 images through the same
model (with its input adaptation layers) and SGD with momentum. Throughput = global batch / mean step time
(warmup excluded). The two are interleaved for ``--rounds`` rounds so that load from other processes hits both;
the ratio of the medians is reported — by the wall clock (the goal), and per CPU-second of this process (examples
per second of CPU time used), which other processes' load on a shared host barely moves.

    python benchmarks/scale_vs_bare.py                      # resnet50, batch 64
    python benchmarks/scale_vs_bare.py --model resnet20 --batch 128 --steps 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per trial (after warmup)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import tensorflow as tf

    from dltool import models
    from dltool.data.throughput import load_images
    from dltool.engine.devices import make_strategy
    from dltool.engine.loop import set_seed
    from dltool.engine.optimizers import make_optimizer
    from dltool.engine.throughput import train_throughput

    strategy, setup = make_strategy("mirrored", devices=1)
    name = models.canonical(args.model, models.THROUGHPUT_MODELS, "scale")
    x, y, n_train, described = load_images("synthetic", seed=0,
                                           synthetic_shape=models.native_shape(name, (28, 28, 1)))
    shape = tuple(described["input_shape"])
    batch, total = args.batch, args.warmup + args.steps

    class Clock:
        """Engine hooks that read the wall and CPU clocks after every compiled call (one step per call)."""

        def __init__(self):
            self.marks: list[tuple[int, float, float]] = []

        def start_run(self, label):
            return self

        def end_run(self, summary=""):
            pass

        def on_fit_start(self, total_steps):
            pass

        def on_steps(self, done, loss):
            self.marks.append((done, time.perf_counter(), time.process_time()))

        def on_epoch_end(self, log):
            pass

    def scale_trial() -> tuple[float, float]:
        clock = Clock()
        rec = train_throughput(strategy, lambda: models.build_uint8(name, shape), x, y, batch=batch, steps=total,
                               steps_per_epoch=max(1, n_train // batch), steps_per_execution=1,
                               warmup_steps=args.warmup, shuffle=False, progress=clock)
        (d0, _, c0), (d1, _, c1) = clock.marks[args.warmup - 1], clock.marks[-1]
        assert d1 - d0 == args.steps
        return batch / rec["step_time"], batch * args.steps / (c1 - c0)

    # the bare loop: built once (one trace), timed per trial after its own warmup
    set_seed(0)
    with strategy.scope():
        model = models.build_uint8(name, shape)
        optimizer = make_optimizer("momentum", 0.01, momentum=0.9)
        optimizer.build(model.trainable_variables)
    ds = x.batch(batch, drop_remainder=True).repeat().prefetch(tf.data.AUTOTUNE)
    iterator = iter(strategy.experimental_distribute_dataset(ds))

    def step(images, labels):
        with tf.GradientTape() as tape:
            logits = tf.cast(model(images, training=True), tf.float32)
            per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32),
                                                                         logits=logits)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def train_step(it):
        images, labels = next(it)
        return strategy.run(step, args=(images, labels))

    def bare_trial() -> tuple[float, float]:
        for _ in range(args.warmup):
            train_step(iterator).numpy()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            loss = train_step(iterator)
        loss.numpy()  # one sync for all timed steps
        return (batch * args.steps / (time.perf_counter() - start),
                batch * args.steps / (time.process_time() - cpu))

    scale_rates, bare_rates, scale_cpu, bare_cpu = [], [], [], []
    for r in range(args.rounds):
        wall, cpu = bare_trial()
        bare_rates.append(wall)
        bare_cpu.append(cpu)
        wall, cpu = scale_trial()
        scale_rates.append(wall)
        scale_cpu.append(cpu)
        print(f"round {r + 1}: wall clock: bare {bare_rates[-1]:8.1f}  scale {scale_rates[-1]:8.1f} examples/s;"
              f"   per CPU-second: bare {bare_cpu[-1]:8.1f}  scale {scale_cpu[-1]:8.1f} examples")
    bare, ours = statistics.median(bare_rates), statistics.median(scale_rates)
    ratio = ours / bare
    cpu_ratio = statistics.median(scale_cpu) / statistics.median(bare_cpu)
    print(f"\nmodel {args.model}, batch {batch}, {args.steps} timed steps after {args.warmup} warmup, "
          f"{setup.label}, TF {tf.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"bare strategy.run loop   : {bare:8.1f} examples/s (median of {args.rounds})")
    print(f"scale (engine), 1 learner: {ours:8.1f} examples/s (median of {args.rounds})")
    print(f"ratio scale/bare, wall clock     : {ratio:.3f}  (goal ≥ 0.95: {'met' if ratio >= 0.95 else 'NOT met'})")
    print(f"ratio scale/bare, per CPU-second : {cpu_ratio:.3f}  (work per example; insensitive to other "
          f"processes' load)")


if __name__ == "__main__":
    main()
