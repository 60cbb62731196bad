"""Bus bandwidth of a large all-reduce on 2 logical CPU devices against this machine's memcpy bandwidth.

Goal: busbw ≥ 50 % of memcpy. With n = 2, busbw = algbw = S/t. A memcpy of S bytes reads S and writes S; an
all-reduce of two S-byte buffers must at least read both and write the sum to both devices' outputs, so on one
memory system it moves ≥ 2× a memcpy's bytes — 50 % is the bound for a naive implementation, more needs the
outputs to share a buffer.

Measured beside them, as a reference: one TensorFlow add of two S-byte tensors into a fresh one (every
implementation computes this sum; AddN may reuse a copied input's buffer, so it is not a strict bound).
On a shared host the bandwidths swing with other processes' load: rounds alternate the copy, the add and the
all-reduces, and both the best-vs-best ratio and the median of the per-round ratios are printed.

It runs the same all-reduce as ``dltool allreduce`` (``strategy.run`` + the replica context's SUM all-reduce
under ``tf.function``, every result checked against numpy) with each CPU cross-device implementation, and
the numpy copy (best of 5) of the same size.

    python benchmarks/allreduce_busbw.py                 # 256 MiB
    python benchmarks/allreduce_busbw.py --size 64M --iterations 10
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="256M", help="message size (K, M, G suffixes)")
    parser.add_argument("--iterations", type=int, default=5, help="timed all-reduces per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of memcpy + every implementation")
    args = parser.parse_args()

    import statistics

    from dltool.engine.devices import configure_virtual_devices, make_strategy
    from dltool.experiments import allreduce as ar

    size = ar.parse_size(args.size, "--size")
    configure_virtual_devices(2, "CPU")  # before anything starts TensorFlow's devices
    impls = ("reduction-to-one-device", "hierarchical-copy")
    strategies = {impl: make_strategy("mirrored", devices=2, virtual=True, cross_device_ops=impl) for impl in impls}
    import numpy as np
    import tensorflow as tf

    with tf.device("/CPU:0"):
        a = tf.constant(np.ones(size // 4, np.float32))
        b = tf.constant(np.ones(size // 4, np.float32))

    @tf.function
    def add(x, y):
        total = x + y  # a fresh output buffer, as every cross-device op produces
        return total, total[0]

    def add_bandwidth() -> float:
        """S/t of one TF add of two S-byte tensors: the least work an all-reduce of 2 must do."""
        add(a, b)[1].numpy()
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            add(a, b)[1].numpy()
            best = min(best, time.perf_counter() - start)
        return size / best

    memcpy_runs: list[float] = []
    add_runs: list[float] = []
    busbw_runs: dict[str, list[float]] = {impl: [] for impl in impls}
    exact = True
    # rounds alternate the copy and the all-reduces, so load from other processes falls on both
    for r in range(args.rounds):
        memcpy_runs.append(ar.memcpy_bandwidth(size, repeats=3))
        add_runs.append(add_bandwidth())
        line = [f"round {r + 1}: memcpy {memcpy_runs[-1] / 1e9:6.2f} GB/s   TF add S/t {add_runs[-1] / 1e9:6.2f} GB/s"]
        for impl in impls:
            strategy, setup = strategies[impl]
            timing = ar.bench_allreduce(strategy, [(size // 4,)], iterations=args.iterations, warmup=2, seed=r)
            exact &= timing["verified"]
            busbw_runs[impl].append(size / timing["time_min_s"] * ar.bus_factor(2))
            line.append(f"{impl} {busbw_runs[impl][-1] / 1e9:6.2f} GB/s")
        print("   ".join(line))
    memcpy = max(memcpy_runs)
    print(f"\n{ar.human_bytes(size)} all-reduce on 2 × CPU (virtual), busbw = algbw = S/t (n = 2), best of "
          f"{args.rounds} rounds × {args.iterations} calls; every sum checked against numpy: "
          f"{'exact' if exact else 'WRONG'}")
    print(f"memcpy (numpy copy of {ar.human_bytes(size)}), best: {memcpy / 1e9:7.2f} GB/s "
          f"(median {statistics.median(memcpy_runs) / 1e9:.2f})")
    best = 0.0
    for impl in impls:
        top = max(busbw_runs[impl])
        best = max(best, top)
        rounds = [b / m for b, m in zip(busbw_runs[impl], memcpy_runs)]
        print(f"{impl:<24} busbw best {top / 1e9:6.2f} GB/s = {top / memcpy:6.1%} of the best memcpy; "
              f"per-round ratio median {statistics.median(rounds):6.1%}")
    ceiling = max(add_runs)
    print(f"reference: one TF add of two {ar.human_bytes(size)} tensors into a new one, best S/t = "
          f"{ceiling / 1e9:.2f} GB/s = {ceiling / memcpy:.1%} of memcpy (the sum of 2 costs about this much)")
    ratio = best / memcpy
    print(f"best busbw / best memcpy: {ratio:.1%}  (goal ≥ 50 %: {'met' if ratio >= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
