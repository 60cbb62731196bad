"""Networks per hour for the eggholder study: one network at a time vs several side by side in one compiled step.

Same networks, same data, same epochs in every mode:

- ``keras-fit``: plain Keras, ``model.compile`` + ``model.fit`` one network at a time (the baseline);
- ``bundle-1``: the engine, one network per compiled model (``dltool eggholder --bundle 1``);
- ``bundle-K``: the engine, K networks in one model (``--bundle K``), and ``auto`` (``--bundle auto``);
- any mode with ``+xla``: the engine's train step compiled with XLA (``--xla``).

For each mode it prints the wall time (building, tracing and training: what a sweep pays), networks/hour at
the benchmark's settings, the steady-state seconds per step summed over the bundles, and networks/hour
extrapolated to the study's default (2,000 epochs of 80,000 training samples = 160,000 steps of batch 1,000):
N · 3600 / Σ_bundles (overhead + 160,000 · step time). Run on a quiet machine; the CPU is shared otherwise.

    python benchmarks/eggholder_networks_per_hour.py                       # 16 networks, 20 epochs
    python benchmarks/eggholder_networks_per_hour.py --modes bundle-1,auto,auto+xla --networks 32 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DEFAULT_STEPS = 2000 * (80_000 // 1000)  # the study's default: 2,000 epochs × 80 steps


def pick_networks(n: int):
    """``n`` networks spread evenly over the default grid (sorted by parameters)."""
    from dltool.experiments.eggholder import EggholderConfig

    nets = EggholderConfig().networks()
    if n >= len(nets):
        return nets
    step = len(nets) / n
    return [nets[int(i * step)] for i in range(n)]


def run_keras_fit(nets, data, cfg):
    import keras

    from dltool.engine.loop import set_seed
    from dltool.experiments.eggholder import build_bundle

    x = data.scaler.x(data.x_train)
    y = data.scaler.y(data.y_train).reshape(-1, 1)
    steps_per_epoch = len(x) // cfg.batch_size
    bundles = []
    for net in nets:
        set_seed(cfg.seed)
        start = time.perf_counter()
        model = build_bundle([net], cfg.seed)
        model.compile(keras.optimizers.SGD(cfg.lr, momentum=cfg.momentum, nesterov=True), loss="mse",
                      steps_per_execution=steps_per_epoch)
        model.fit(x, y, batch_size=cfg.batch_size, epochs=1, shuffle=True, verbose=0)  # traces
        first = time.perf_counter() - start
        t = time.perf_counter()
        model.fit(x, y, batch_size=cfg.batch_size, epochs=cfg.epochs - 1, shuffle=True, verbose=0)
        rest = time.perf_counter() - t
        steps = steps_per_epoch * (cfg.epochs - 1)
        bundles.append({"size": 1, "wall": first + rest, "step_time": rest / max(steps, 1),
                        "overhead": first - steps_per_epoch * rest / max(steps, 1)})
    return bundles


def run_engine(nets, data, cfg, bundle):
    from dltool.experiments.eggholder import plan_bundles, predict, train_bundle

    out = []
    for group in plan_bundles(nets, bundle):
        start = time.perf_counter()
        engine, fit = train_bundle(group, data, cfg)
        predict(engine.model, data.scaler.x(data.x_test))
        wall = time.perf_counter() - start
        out.append({"size": len(group), "wall": wall, "step_time": fit.step_time,
                    "overhead": wall - fit.steps * fit.step_time, "status": fit.status})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", type=int, default=16, help="networks spread over the default grid")
    parser.add_argument("--samples", type=int, default=20_000, help="samples (80 %% train)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--modes", default="keras-fit,bundle-1,bundle-4,bundle-16,auto,bundle-1+xla,auto+xla")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)

    from dataclasses import replace

    from dltool.experiments.eggholder import EggholderConfig, label, make_data

    nets = pick_networks(args.networks)
    base = EggholderConfig(samples=args.samples, epochs=args.epochs)
    data = make_data(base)
    rows = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        name, _, flag = mode.partition("+")
        cfg = replace(base, xla=(flag == "xla"))
        start = time.perf_counter()
        if name == "keras-fit":
            bundles = run_keras_fit(nets, data, cfg)
        elif name == "auto":
            bundles = run_engine(nets, data, cfg, None)
        elif name.startswith("bundle-"):
            bundles = run_engine(nets, data, cfg, int(name.split("-")[1]))
        else:
            raise SystemExit(f"unknown mode {mode!r}")
        wall = time.perf_counter() - start
        step_sum = sum(b["step_time"] for b in bundles)
        default_hours = sum(max(b["overhead"], 0.0) + DEFAULT_STEPS * b["step_time"] for b in bundles) / 3600
        row = {"mode": mode, "networks": len(nets), "bundles": len(bundles), "wall_s": wall,
               "networks_per_hour": len(nets) / wall * 3600, "step_ms_sum": step_sum * 1e3,
               "networks_per_hour_default": len(nets) / default_hours}
        rows.append(row)
        if not args.json:
            print(f"{mode:>14}: {len(bundles):3d} bundles, wall {wall:7.1f} s, {row['networks_per_hour']:8.0f} "
                  f"networks/h here; Σ step {row['step_ms_sum']:7.2f} ms → {row['networks_per_hour_default']:6.1f} "
                  f"networks/h at 2,000 epochs × 80,000 samples", flush=True)
    if args.json:
        print(json.dumps({"networks": [label(n) for n in nets], "samples": args.samples, "epochs": args.epochs,
                          "cpu_count": os.cpu_count(), "rows": rows}, indent=2))
    else:
        print("networks:", ", ".join(label(n) for n in nets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
