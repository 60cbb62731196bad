"""Figures with matplotlib's Agg backend (no screen needed). Functions return a Figure; save_figure writes it."""

from __future__ import annotations

from pathlib import Path


def figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(*args, **kwargs)
    return fig, axes


def save_figure(fig, path: Path, dpi: int = 120) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def palette(n: int):
    import matplotlib

    cmap = matplotlib.colormaps["viridis" if n > 10 else "tab10"]
    return [cmap(i / max(n - 1, 1)) if n > 10 else cmap(i) for i in range(n)]


def curve_panels(panels: dict[str, list[tuple[str, list[float]]]], *, xlabel: str = "iteration",
                 ylabel: str = "loss", logy: bool = True, title: str | None = None, ncols: int = 3):
    """One subplot per panel (e.g. per optimizer), one line per series (e.g. per learning rate)."""
    import math

    n = max(len(panels), 1)
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    fig, axes = figure(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, (name, series) in zip(axes.flat, panels.items()):
        for (label, ys), color in zip(series, palette(len(series))):
            ax.plot(range(1, len(ys) + 1), ys, label=label, color=color, linewidth=1.4)
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if logy and any(ys for _, ys in series):
            ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def curves(series: list[tuple[str, list[float]]], *, xlabel: str, ylabel: str, title: str = "",
           logy: bool = False, logx: bool = False, xs: list | None = None,
           hlines: list[tuple[str, float]] = (), markers: bool = False):
    """Several labelled curves on one axes, optional horizontal reference lines."""
    fig, ax = figure(figsize=(7, 4.5))
    for (label, ys), color in zip(series, palette(len(series))):
        ax.plot(xs if xs is not None else range(1, len(ys) + 1), ys, label=label, color=color, linewidth=1.5,
                marker="o" if markers else None, markersize=4)
    for label, value in hlines:
        ax.axhline(value, linestyle="--", color="grey", linewidth=1)
        ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fitted_lines(x: list[float], y: list[float], lines: list[tuple[str, float, float]], *, title: str = ""):
    """Scatter of the points with the line w·x + b of each run."""
    fig, ax = figure(figsize=(7, 4.5))
    ax.scatter(x, y, s=10, color="black", alpha=0.6, label="points")
    lo, hi = min(x), max(x)
    for (label, w, b), color in zip(lines, palette(len(lines))):
        ax.plot([lo, hi], [w * lo + b, w * hi + b], label=label, color=color, linewidth=1.3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
