"""allreduce: the nccl-tests-style table (with the α–β prediction beside each measurement), the fitted α and
bandwidth per implementation, the training throughput table, and two figures (busbw and time vs size)."""

from __future__ import annotations

import math
from pathlib import Path

from dltool.report.tables import Column, TableSpec


def _us(value) -> str:
    return "—" if value is None else f"{value * 1e6:,.1f}"


def _impl(row) -> str:
    name = f"{row.strategy}: {row.implementation}"
    return name + (" (virtual)" if row.virtual else "")


def tables(result):
    reasons: list[str] = []  # one note per distinct reason a row did not run

    def status_of(row) -> str:
        if row.status in ("ok", "WRONG SUM") or not row.reason:
            return row.status
        note = f"{row.status}: {row.reason}"
        if note not in reasons:
            reasons.append(note)
        return f"{row.status} (note {reasons.index(note) + 1})"

    bus_rows = []
    for r in result.bus:
        ratio = (r.time_s / r.predicted_s) if (r.time_s and r.predicted_s) else None
        check = ("—" if r.verified is None else ("exact" if r.verified else f"WRONG (max err {r.max_error:g})"))
        bus_rows.append({
            "strategy": r.strategy, "implementation": r.implementation, "devices": r.devices, "virtual": r.virtual,
            "impl_text": _impl(r), "message": r.message, "bytes": r.bytes, "tensors": r.tensors,
            "time_us": None if r.time_s is None else r.time_s * 1e6,
            "time_text": "—" if r.time_s is None else f"{_us(r.time_s)} ± {_us(r.time_sem)}",
            "iterations": r.iterations, "algbw_gbs": None if r.algbw is None else r.algbw / 1e9,
            "busbw_gbs": None if r.busbw is None else r.busbw / 1e9,
            "predicted_us": None if r.predicted_s is None else r.predicted_s * 1e6, "measured_over_model": ratio,
            "memcpy_share": r.memcpy_share,
            "verified": r.verified, "max_error": r.max_error, "check": check,
            "status": status_of(r), "reason": r.reason,
        })
    bus = TableSpec("allreduce: SUM all-reduce microbenchmark (nccl-tests style)", [
        Column("impl_text", "implementation", justify="left"), Column("devices", "n", "d"),
        Column("message", "message", justify="right"), Column("time_text", "time (µs) ± sem"),
        Column("iterations", "calls", "d", secondary=True), Column("algbw_gbs", "algbw (GB/s)", ".3f"),
        Column("busbw_gbs", "busbw (GB/s)", ".3f"), Column("memcpy_share", "busbw/memcpy", ".1%", secondary=True),
        Column("predicted_us", "α–β model (µs)", ",.1f", secondary=True),
        Column("measured_over_model", "meas/model", ".2f", secondary=True),
        Column("check", "vs numpy", justify="left", secondary=True),
        Column("status", "status", justify="left")], bus_rows,
        notes=[
            "time: median of the timed calls (warmup excluded) ± σ/√n; algbw = S/t; busbw = algbw·2(n−1)/n "
            "(GB = 10⁹ bytes). α–β model: t = 2(n−1)α + 2(n−1)/n·S/B with α and B fitted per implementation "
            "(next table).",
            "vs numpy: integer-valued float32 inputs make the sum exact in any order; 'exact' = every replica's "
            "result equals numpy's sum bit for bit.",
            f"memcpy: {result.memcpy_bandwidth / 1e9:.2f} GB/s, this machine's numpy copy of "
            f"{_human(result.memcpy_bytes)} — one fixed size above the CPU caches, whatever the message sizes; "
            "busbw/memcpy compares each row with it (CPU devices only). gradient list of "
            f"{result.model}: {result.gradient_tensors} tensors, {_human(result.gradient_bytes)}.",
        ] + list(result.notes) + [f"note {i + 1}: {text}" for i, text in enumerate(reasons)],
        csv_columns=[Column(k, k) for k in ("strategy", "implementation", "devices", "virtual", "message", "bytes",
                                            "tensors", "time_us", "iterations", "algbw_gbs", "busbw_gbs",
                                            "memcpy_share", "predicted_us", "measured_over_model", "verified",
                                            "max_error",
                                            "status", "reason")])
    fits = TableSpec("allreduce: α–β ring-model fit", [
        Column("impl", "implementation", justify="left"), Column("devices", "n", "d"),
        Column("alpha_us", "α (µs per step)", ",.1f"), Column("bandwidth_gbs", "B (GB/s)", ".3f"),
        Column("small_us", "t(4 KiB) model (µs)", ",.1f"), Column("large_ms", "t(256 MiB) model (ms)", ",.1f")],
        [{"impl": f"{f.strategy}: {f.implementation}", "devices": f.devices, "alpha_us": f.alpha_s * 1e6,
          "bandwidth_gbs": f.bandwidth / 1e9,
          "small_us": _model(f, 4096) * 1e6, "large_ms": _model(f, 256 << 20) * 1e3} for f in result.fits],
        notes=["α from the smallest messages (latency per ring step), B from the two largest (bandwidth per "
               "link); t(S) = 2(n−1)α + 2(n−1)/n·S/B."], primary=False)
    train_rows = []
    for t in result.train:
        train_rows.append({
            "impl": f"{t.strategy}: {t.implementation}" + (" (virtual)" if t.virtual else ""),
            "devices": t.devices, "per_device_batch": t.per_device_batch, "global_batch": t.global_batch,
            "step_ms": None if t.step_time is None else t.step_time * 1e3,
            "throughput": t.throughput, "throughput_sem": t.throughput_sem,
            "throughput_text": "—" if t.throughput is None else f"{t.throughput:,.1f} ± {t.throughput_sem or 0:,.1f}",
            "speedup": t.speedup, "efficiency": t.efficiency,
            "status": status_of(t), "reason": t.reason})
    tables_out = [bus, fits]
    if train_rows:
        tables_out.append(TableSpec(f"allreduce: training throughput, {result.model} (synthetic data)", [
            Column("impl", "implementation", justify="left"), Column("devices", "n", "d"),
            Column("per_device_batch", "batch/device", "d"), Column("global_batch", "global batch", "d"),
            Column("step_ms", "step (ms)", ",.1f"), Column("throughput_text", "examples/s ± sem"),
            Column("speedup", "vs 1 device", ".2f"), Column("efficiency", "efficiency", ".1%"),
            Column("status", "status", justify="left")], train_rows,
            notes=["same batch per device (weak scaling): perfect scaling gives n × the 1-device throughput; "
                   "vs 1 device = X(n)/X(1), X = examples/s of the 1-device row (no all-reduce); efficiency = "
                   "(vs 1 device)/n; warmup excluded, mean ± σ/√n; (note k): see the notes under the first table."],
            primary=False))
    return tables_out, []


def _human(n: int) -> str:
    from dltool.units import human_bytes

    return human_bytes(int(n))


def _model(fit, size: int) -> float:
    from dltool.engine.ring import ring_time  # the fitted model's curve between the measured sizes

    return ring_time(size, fit.devices, fit.alpha_s, fit.bandwidth)


def plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import MARKERS, figure, save_figure

    groups: dict[tuple, list] = {}
    # a stopped run stored no summary: its finished runs (one per strategy, implementation and device count) hold
    # their own rows, and there is no fit and no memcpy line to draw
    bus = result.bus if result.bus is not None else [row for run in result.runs for row in run.bus or []]
    for r in bus:
        if r.time_s and r.tensors == 1 and r.devices >= 2:  # one device has no all-reduce to draw
            groups.setdefault((r.strategy, r.implementation, r.devices, r.virtual), []).append(r)
    paths: list[Path] = []
    if not groups:
        return paths
    fits = {(f.strategy, f.implementation, f.devices): f for f in result.fits or []}
    fig, ax = figure(figsize=(8, 5))
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    for k, (key, rows) in enumerate(sorted(groups.items())):
        rows = sorted(rows, key=lambda r: r.bytes)
        label = f"{key[0]}: {key[1]} × {key[2]}" + (" (virtual)" if key[3] else "")
        ax.plot([r.bytes for r in rows], [r.busbw / 1e9 for r in rows], marker=MARKERS[k // 10 % len(MARKERS)],
                color=cmap(k % 10), label=label)  # past ten groups the colours repeat with another marker
    if result.memcpy_bandwidth is not None:
        ax.axhline(result.memcpy_bandwidth / 1e9, linestyle="--", color="grey", linewidth=1)
        ax.annotate(f"memcpy (numpy, {_human(result.memcpy_bytes)})", (0.01, result.memcpy_bandwidth / 1e9),
                    xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    _size_ticks(ax, sorted({r.bytes for rows in groups.values() for r in rows}))
    ax.set_xlabel("message size")
    ax.set_ylabel("busbw (GB/s)")
    ax.set_title("All-reduce bus bandwidth vs message size" + (" — VIRTUAL devices" if result.config.virtual
                                                                else ""), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, run_dir / "busbw.png"))

    fig, ax = figure(figsize=(8, 5))
    for k, (key, rows) in enumerate(sorted(groups.items())):
        rows = sorted(rows, key=lambda r: r.bytes)
        colour = cmap(k % 10)
        label = f"{key[0]}: {key[1]} × {key[2]}"
        ax.plot([r.bytes for r in rows], [r.time_s * 1e6 for r in rows], marker=MARKERS[k // 10 % len(MARKERS)],
                color=colour, label=label)
        fit = fits.get(key[:3])
        if fit is not None:
            xs = [rows[0].bytes * (2 ** (i / 4)) for i in range(int(4 * math.log2(rows[-1].bytes / rows[0].bytes)) + 1)]
            ax.plot(xs, [_model(fit, x) * 1e6 for x in xs], linestyle="--", color=colour, alpha=0.6,
                    label=f"α–β model (α {fit.alpha_s * 1e6:.0f} µs, B {fit.bandwidth / 1e9:.2f} GB/s)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    _size_ticks(ax, sorted({r.bytes for rows in groups.values() for r in rows}))
    ax.set_xlabel("message size")
    ax.set_ylabel("time per all-reduce (µs)")
    ax.set_title("All-reduce time: measured (solid) and α–β ring model (dashed)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    paths.append(save_figure(fig, run_dir / "time_vs_size.png"))
    return paths


def _size_ticks(ax, sizes: list[int]) -> None:
    from dltool.units import human_bytes

    ax.set_xticks(sizes)
    ax.set_xticklabels([human_bytes(s).replace(" ", "\n") for s in sizes], fontsize=7)
    ax.minorticks_off()
