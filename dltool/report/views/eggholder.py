"""eggholder: the per-network table, best network of each depth, and four figures."""

from __future__ import annotations

from pathlib import Path

from dltool.report.tables import Column, TableSpec
from dltool.report.views.common import span

DEPTH_COLORS = {1: "tab:blue", 2: "tab:orange", 3: "tab:green"}
SURFACES = "surfaces.npz"  # the arrays of surfaces.png, beside it in the run folder


def _color(depth: int):
    return DEPTH_COLORS.get(depth, f"C{depth + 2}")


def networks(result) -> list:
    """The networks: the Result's, or in a run's results.json its runs (one record per finished network)."""
    nets = getattr(result, "networks", None)
    return list(nets if nets is not None else result.runs)


def own_label(result) -> str | None:
    """The header of the per-network time column when networks were timed alone, e.g. "train s (own,
    extrapolated from 50 timed steps)"; None when they were not."""
    steps = next((r.own_timed_steps for r in networks(result) if r.own_timed_steps), None)
    return f"train s (own, extrapolated from {steps} timed steps)" if steps else None


def share_label(result) -> str:
    """Header of the bundle-share column: exact when every bundle held one network."""
    bundled = any(r.bundle_size > 1 for r in result.networks)
    return "bundle s ÷ size (share)" if bundled else "train s (alone, measured)"


def tables(result):
    nets = sorted(result.networks, key=lambda r: (r.layers, r.hidden_units, r.widths))
    rows = [{"layers": r.layers, "widths": r.name, "hidden_units": r.hidden_units, "params": r.params,
             "batch_norm": "yes" if r.batch_norm else "no", "train_rmse": r.train_rmse, "test_rmse": r.test_rmse,
             "vs_constant": r.test_rmse / result.constant_rmse if r.test_rmse is not None else None,
             "own_step_ms": r.own_step_ms, "own_train_seconds": r.own_train_seconds,
             "bundle_share_seconds": r.bundle_share_seconds,
             "bundle": f"{r.bundle + 1} ({r.bundle_size})", "status": r.status} for r in nets]  # 1-based, as on stderr
    bundled = any(r.bundle_size > 1 for r in result.networks)
    own = own_label(result)
    steps = next((r.own_timed_steps for r in result.networks if r.own_timed_steps), None)
    own_columns = [Column("own_step_ms", "own ms/step", ".2f"),
                   Column("own_train_seconds", own, ".1f")] if own else []
    notes = [f"{result.n_train:,} training / {result.n_test:,} test samples, noise σ = {result.noise_floor:g} "
             f"(standard deviation); {result.config.epochs:,} epochs × {result.run_steps // result.config.epochs:,}"
             f" steps = {result.run_steps:,} steps of batch {result.config.batch_size:,}, SGD + Nesterov "
             f"lr {result.config.lr:g} μ {result.config.momentum:g}",
             f"constant predictor (training mean) test RMSE {result.constant_rmse:.2f}; noise floor "
             f"{result.noise_floor:g}. ÷ constant = test RMSE / constant predictor's."]
    if own:
        notes.append(f"own ms/step: the network trained alone, fastest of 3 bursts of {steps} steps after a "
                     f"warm-up call (measured). {own} = own ms/step × the run's "
                     f"{result.run_steps:,} steps (tracing not included).")
    if bundled:
        notes.append("bundle s ÷ size (share): the bundle's training seconds (tracing included) ÷ its number of "
                     "networks — the same for every network of a bundle, not a per-network cost."
                     + ("" if own else " --time-alone N times each network on its own."))
    else:
        notes.append("train s (alone, measured): each network trained in its own compiled model (tracing "
                     "included).")
    main = TableSpec("eggholder: every network (RMSE in f's units)", [
        Column("layers", "layers"), Column("widths", "widths", justify="left"),
        Column("hidden_units", "hidden units", ","), Column("params", "params", ","),
        Column("batch_norm", "BN", justify="left"), Column("train_rmse", "train RMSE", ".2f"),
        Column("test_rmse", "test RMSE", ".2f"), Column("vs_constant", "÷ constant", ".3f"),
        *own_columns, Column("bundle_share_seconds", share_label(result), ".1f"),
        Column("bundle", "bundle (size)", justify="left"), Column("status", "status", justify="left")], rows,
        notes=notes)
    by_depth = []
    for depth in sorted({r.layers for r in result.networks}):
        done = [r for r in result.networks if r.layers == depth and r.test_rmse is not None]
        best = result.best.get(str(depth))
        by_depth.append({
            "layers": depth, "networks": len([r for r in result.networks if r.layers == depth]),
            "best": best["name"] if best else None, "params": best["params"] if best else None,
            "train_rmse": best["train_rmse"] if best else None, "test_rmse": best["test_rmse"] if best else None,
            "constant_rmse": result.constant_rmse, "vs_constant": best["vs_constant"] if best else None,
            "median_test_rmse": _median([r.test_rmse for r in done]),
        })
    summary = TableSpec("eggholder: best network of each depth", [
        Column("layers", "layers"), Column("networks", "networks", ","), Column("best", "best widths", justify="left"),
        Column("params", "params", ","), Column("train_rmse", "train RMSE", ".2f"),
        Column("test_rmse", "test RMSE", ".2f"), Column("constant_rmse", "constant RMSE", ".2f"),
        Column("vs_constant", "÷ constant", ".3f"), Column("median_test_rmse", "median test RMSE", ".2f")],
        by_depth, primary=False,
        notes=[f"noise floor (σ) {result.noise_floor:g}"])
    n_b = len(result.bundles)
    footer = [f"{len(result.networks)} networks in {n_b} compiled bundle{'s' if n_b != 1 else ''}, "
              f"{result.total_seconds - result.timing_seconds:.1f} s of training: {result.networks_per_hour:,.0f} "
              f"networks/hour at {result.config.epochs:,} epochs of {result.n_train:,} samples"
              + (f"; {result.timing_seconds:.1f} s more timing each network alone" if result.timing_seconds else "")]
    mfus = [b.mfu for b in result.bundles if getattr(b, "mfu", None) is not None]
    if mfus:  # the networks are tiny MLPs: per-step overhead, not matmul speed, bounds them
        footer.append(f"MFU of the bundle{'s' if len(mfus) > 1 else ''} (model FLOPs ÷ the measured matmul peak): "
                      f"{span(mfus, '.2%')}")
    return [main, summary], footer


def _median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _noise_floor(result) -> float:
    return result.noise_floor if result.noise_floor is not None else result.config.noise_std


def _references(ax, result):
    if result.constant_rmse is not None:  # None: the run was stopped before the summary was written
        ax.axhline(result.constant_rmse, color="grey", linestyle="--", linewidth=1)
        ax.annotate(f"constant predictor {result.constant_rmse:.1f}", (0.01, result.constant_rmse),
                    xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
    ax.axhline(_noise_floor(result), color="black", linestyle=":", linewidth=1)
    ax.annotate(f"noise floor σ = {_noise_floor(result):g}", (0.01, _noise_floor(result)),
                xycoords=("axes fraction", "data"), fontsize=8, va="bottom")


def _by_depth(result):
    out: dict[int, list] = {}
    for r in networks(result):
        if r.test_rmse is not None:
            out.setdefault(r.layers, []).append(r)
    return dict(sorted(out.items()))


def _surfaces(result, run_dir: Path) -> dict:
    """The grid, f on it and the best networks' predictions: the Result's, kept in ``surfaces.npz`` beside
    surfaces.png (results.json holds no arrays); a redraw finds them there (``dltool runs plot --redraw``)."""
    from dltool.report.plots import load_arrays, save_arrays

    surfaces = getattr(result, "surfaces", None)
    if isinstance(surfaces, dict) and "truth" in surfaces:
        save_arrays(run_dir / SURFACES, {"axis": surfaces["axis"], "truth": surfaces["truth"],
                                         **{f"best_{d}": z for d, z in (surfaces.get("best") or {}).items()}})
        return surfaces
    arrays = load_arrays(run_dir / SURFACES) or {}
    best = {key.removeprefix("best_"): z for key, z in arrays.items() if key.startswith("best_")}
    return {**{k: arrays[k] for k in ("axis", "truth") if k in arrays}, "best": best} if arrays else {}


def plots(result, run_dir: Path) -> list[Path]:
    from dltool.report.plots import figure, save_figure, tight_layout

    groups = _by_depth(result)
    nets_all = networks(result)
    paths = []
    top = 1.08 * max([v for v in (result.constant_rmse, _noise_floor(result)) if v is not None]
                     + [r.test_rmse for nets in groups.values() for r in nets])

    # 1. test RMSE vs total hidden units: mean over networks with the same total, one curve per depth
    fig, ax = figure(figsize=(7.5, 4.8))
    for depth, nets in groups.items():
        totals = sorted({r.hidden_units for r in nets})
        means = [sum(r.test_rmse for r in nets if r.hidden_units == t) /
                 len([r for r in nets if r.hidden_units == t]) for t in totals]
        ax.scatter([r.hidden_units for r in nets], [r.test_rmse for r in nets], s=10, alpha=0.35,
                   color=_color(depth))
        ax.plot(totals, means, marker="o", color=_color(depth), linewidth=1.8,
                label=f"{depth} hidden layer{'s' if depth > 1 else ''} (mean; dots: networks)")
    _references(ax, result)
    ax.set_xscale("log", base=2)
    totals = sorted({r.hidden_units for nets in groups.values() for r in nets})
    ticks = [t for t in totals if t & (t - 1) == 0] if len(totals) > 12 else totals  # powers of two when crowded
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xticks([t for t in totals if t not in ticks], minor=True)
    ax.tick_params(axis="x", which="minor", labelbottom=False)
    ax.set_ylim(0, top)
    ax.set_xlabel("total hidden units")
    ax.set_ylabel("test RMSE (f units)")
    ax.set_title(f"Eggholder: test RMSE vs hidden units ({result.config.epochs:,} epochs)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    tight_layout(fig)
    paths.append(save_figure(fig, run_dir / "rmse_vs_hidden_units.png"))

    # 2. test RMSE vs parameters
    fig, ax = figure(figsize=(7.5, 4.8))
    for depth, nets in groups.items():
        ax.scatter([r.params for r in nets], [r.test_rmse for r in nets], s=18, alpha=0.8, color=_color(depth),
                   label=f"{depth} hidden layer{'s' if depth > 1 else ''}")
    _references(ax, result)
    ax.set_xscale("log")
    ax.set_ylim(0, top)
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("test RMSE (f units)")
    ax.set_title("Eggholder: test RMSE vs parameters")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    tight_layout(fig)
    paths.append(save_figure(fig, run_dir / "rmse_vs_params.png"))

    # 3. training time vs parameters: each network's own time when timed alone (or trained alone), else bundles
    fig, ax = figure(figsize=(7.5, 4.8))
    own = own_label(result)
    bundled = any(r.bundle_size > 1 for r in nets_all)
    run_steps = f"{result.run_steps:,}" if result.run_steps else "all"
    if own or not bundled:
        key = "own_train_seconds" if own else "bundle_share_seconds"
        for depth in sorted({r.layers for r in nets_all}):
            nets = [r for r in nets_all if r.layers == depth and getattr(r, key) is not None]
            ax.scatter([r.params for r in nets], [getattr(r, key) for r in nets], s=18, alpha=0.8,
                       color=_color(depth), label=f"{depth} hidden layer{'s' if depth > 1 else ''}")
        ax.set_ylabel(own if own else "train s (alone, measured)")
        ax.set_xlabel("trainable parameters")
        ax.set_title("Eggholder: training time vs parameters, each network on its own\n"
                     + (f"(own ms/step, fastest of 3 timed bursts, × the run's {run_steps} steps)"
                        if own else "(one network per compiled model)"),
                     fontsize=10)
    else:
        sizes: dict[int, list] = {}
        for r in nets_all:
            sizes.setdefault(r.bundle, []).append(r)
        for b in result.bundles or []:  # none stored when the run was stopped
            members = [r for r in sizes.get(b.index, []) if r.name in b.networks]
            total = sum(r.params for r in members)
            ax.scatter([total], [b.train_seconds], s=30 + 8 * len(members), color="tab:purple", alpha=0.8)
            ax.annotate(f"{len(members)} net{'s' if len(members) > 1 else ''}", (total, b.train_seconds),
                        textcoords="offset points", xytext=(6, 4), fontsize=8)
        ax.set_ylabel("training seconds of the bundle")
        ax.set_xlabel("trainable parameters of the bundle (Σ of its networks)")
        ax.set_title("Eggholder: training time vs parameters, per compiled bundle\n"
                     "(--time-alone N times each network alone)", fontsize=10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    if own or not bundled:
        ax.legend(fontsize=8)
    tight_layout(fig)
    paths.append(save_figure(fig, run_dir / "time_vs_params.png"))

    # 4. the function and the best network of each depth on a grid
    surfaces = _surfaces(result, run_dir)
    best = surfaces.get("best") or {}
    if "truth" in surfaces and best:
        axis = surfaces["axis"]
        n = 1 + len(best)
        fig, axes = figure(1, n, figsize=(3.6 * n, 3.6), squeeze=False)
        extent = (float(axis[0]), float(axis[-1]), float(axis[0]), float(axis[-1]))
        lo, hi = float(surfaces["truth"].min()), float(surfaces["truth"].max())
        panels = [("Eggholder f", surfaces["truth"])] + [
            (f"best {d}-layer: {result.best[d]['name']}\ntest RMSE {result.best[d]['test_rmse']:.1f}", z)
            for d, z in best.items()]
        image = None
        for ax, (title, z) in zip(axes[0], panels):
            image = ax.imshow(z, origin="lower", extent=extent, cmap="viridis", vmin=lo, vmax=hi)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("x1")
        axes[0][0].set_ylabel("x2")
        fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="f")
        fig.suptitle("Eggholder function and the best network of each depth", fontsize=10)
        paths.append(save_figure(fig, run_dir / "surfaces.png"))
    return paths
