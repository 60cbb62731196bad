"""Where the milliseconds of one training step go: timed ablations of the Deep-MNIST CNN step, in one run.

Each variant runs ``--steps`` steps inside one compiled ``tf.function`` loop (as the engine does, batches
gathered in the graph from one tensor), best of ``--repeats`` timed calls after a warm-up call:

- gather: only the batch gather (the input cost);
- forward: gather + forward pass + loss;
- forward+backward: + gradients (no update);
- step, Keras update: + ``optimizer.apply_gradients`` (Keras' element-wise Adam);
- step, fused update: + ``ResourceApplyAdam`` per variable (dltool/engine/fused.py);

so each difference is one part's share. It also prints each layer's MACs and the MFU each variant reaches.

    python benchmarks/step_profile.py                               # batch 50, fp32 and bf16
    python benchmarks/step_profile.py --batch-size 256 --precisions bf16
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def peak_device(tf) -> str:
    """The device the profiled steps run on, whose matmul peak is MFU's denominator: TensorFlow places them on
    the first GPU when there is one (matmul_peak's default, /cpu:0, would divide GPU steps by the CPU's peak)."""
    return "/gpu:0" if tf.config.list_logical_devices("GPU") else "/cpu:0"


def device_peak(tf, precision: str, measure=None) -> tuple[str, float | None]:
    """(the device the steps run on, its matmul peak in FLOP/s at ``precision``): the peak is measured on that
    device. ``measure`` is dltool.engine.peak.matmul_peak unless given (a test passes a recorder)."""
    if measure is None:
        from dltool.engine.peak import matmul_peak as measure
    device = peak_device(tf)
    return device, measure(precision, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per compiled call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--precisions", default="fp32,bf16")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from dltool.archcalc.keras_model import report_from_model
    from dltool.data import load, normalise
    from dltool.engine.fused import apply_gradients
    from dltool.engine.loop import set_seed
    from dltool.models import deep_mnist_cnn

    data = load("mnist")
    x_all = tf.constant(normalise(data.x_train))
    y_all = tf.constant(data.y_train.astype("int32"))
    batch = args.batch_size
    print(f"Deep-MNIST CNN step profile, batch {batch}, {args.steps} steps per call, best of {args.repeats}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    for precision in args.precisions.split(","):
        keras.config.set_dtype_policy({"fp32": "float32", "bf16": "mixed_bfloat16"}[precision])
        set_seed(0)
        model = deep_mnist_cnn()
        keras.config.set_dtype_policy("float32")
        macs = report_from_model(model).total_macs
        flops = 6.0 * macs
        device, peak = device_peak(tf, precision)
        optimizers = {"keras": keras.optimizers.Adam(1e-4), "fused": keras.optimizers.Adam(1e-4)}
        for opt in optimizers.values():
            opt.build(model.trainable_variables)

        def make(kind):
            def one(i):
                index = tf.math.floormod(tf.range(i * batch, (i + 1) * batch), 60000)
                x, y = tf.gather(x_all, index), tf.gather(y_all, index)
                if kind == "gather":
                    return tf.reduce_sum(x) + tf.cast(tf.reduce_sum(y), tf.float32)
                with tf.GradientTape() as tape:
                    logits = tf.cast(model(x, training=True), tf.float32)
                    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
                if kind == "forward":
                    return loss
                grads = tape.gradient(loss, model.trainable_variables)
                if kind == "backward":
                    return loss + tf.add_n([tf.reduce_sum(g[:1]) for g in grads]) * 0
                apply_gradients(optimizers[kind], grads, model.trainable_variables, fused=kind == "fused")
                return loss

            @tf.function
            def loop(k):
                total = tf.constant(0.0)
                for i in tf.range(k):
                    total += one(i)
                return total

            return loop

        rows = []
        for kind, label in (("gather", "gather"), ("forward", "forward"), ("backward", "forward+backward"),
                            ("keras", "step, Keras update"), ("fused", "step, fused update")):
            loop = make(kind)
            loop(tf.constant(2)).numpy()
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                loop(tf.constant(args.steps)).numpy()
                best = min(best, time.perf_counter() - start)
            rows.append((label, 1000 * best / args.steps))
        print(f"\n{precision}: {macs / 1e6:.2f} M MACs forward, {flops / 1e6:.1f} MFLOP per training example, "
              f"peak {peak / 1e9:.0f} GFLOP/s on {device}")
        base = {"forward": 0, "forward+backward": 1, "step, Keras update": 2, "step, fused update": 2}
        for label, ms in rows:
            mfu = (flops * batch / (ms / 1000) / peak) if label.startswith("step") else None
            part = ms - rows[base[label]][1] if label in base else ms
            print(f"  {label:<22} {ms:7.2f} ms/step  (this part {part:6.2f} ms)  {batch / ms * 1000:8.0f} img/s"
                  + (f"  MFU {100 * mfu:4.1f}%" if mfu else ""))


if __name__ == "__main__":
    main()
