"""Figures with matplotlib's Agg backend (no screen needed). Functions return a Figure; save_figure writes it."""

from __future__ import annotations

import math
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


def save_arrays(path: Path, arrays: dict) -> Path:
    """The arrays a figure is drawn from (pixels, a function on a grid) in a compressed ``.npz`` beside it:
    results.json keeps numbers, not arrays, and ``dltool runs plot --redraw`` draws the figure again from both."""
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{str(k): np.asarray(v) for k, v in arrays.items()})
    return path


def load_arrays(path: Path) -> dict | None:
    """What :func:`save_arrays` wrote, or None where there is no such file (a run folder from before they were
    kept, or a run that stopped before its figures were drawn)."""
    import numpy as np

    path = Path(path)
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def tight_layout(fig) -> None:
    """``fig.tight_layout()`` without matplotlib's "Tight layout not applied" UserWarning on the user's terminal.

    The warning means that some decoration lies far outside the axes (the figure keeps matplotlib's own layout
    then); the functions here keep their decorations inside the axes (see :func:`curves`' reference lines), so
    this only guards against a case not foreseen: a warning there is nothing a user could act on."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tight layout not applied", category=UserWarning)
        fig.tight_layout()


def palette(n: int):
    import matplotlib

    cmap = matplotlib.colormaps["viridis" if n > 10 else "tab10"]
    return [cmap(i / max(n - 1, 1)) if n > 10 else cmap(i) for i in range(n)]


def curve_panels(panels: dict[str, list[tuple[str, list[float]]]], *, xlabel: str = "iteration",
                 ylabel: str = "loss", logy: bool = True, title: str | None = None, ncols: int = 3):
    """One subplot per panel (e.g. per optimizer), one line per series (e.g. per learning rate)."""
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
    tight_layout(fig)
    return fig


def curves(series: list[tuple[str, list[float]]], *, xlabel: str, ylabel: str, title: str = "",
           logy: bool = False, logx: bool = False, xs: list | None = None,
           hlines: list[tuple[str, float]] = (), markers: bool = False):
    """Several labelled curves on one axes, optional horizontal reference lines."""
    fig, ax = figure(figsize=(7, 4.5))
    for (label, ys), color in zip(series, palette(len(series))):
        ax.plot(xs if xs is not None else range(1, len(ys) + 1), ys, label=label, color=color, linewidth=1.5,
                marker="o" if markers else None, markersize=4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    _reference_lines(ax, hlines)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    tight_layout(fig)
    return fig


def _reference_lines(ax, hlines) -> None:
    """Dashed horizontal lines with their label, where they fall inside the curves' range; a line outside it (on
    a log axis a least-squares optimum of 1e-30 below losses of 1e2, or 0) is named in a corner instead.

    Drawn after the scales are set: an annotation at a value the axis does not show lay far outside the axes,
    so the saved PNG (bbox_inches="tight") grew to 14,000 pixels high and matplotlib warned "Tight layout not
    applied"; stretching the axis to 1e-30 would flatten the curves instead."""
    lo, hi = ax.get_ylim()
    outside = []
    for label, value in hlines:
        if value is None:
            continue
        if lo <= value <= hi and not (value <= 0 and ax.get_yscale() == "log"):
            ax.axhline(value, linestyle="--", color="grey", linewidth=1)
            ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), fontsize=8, va="bottom")
        else:
            outside.append(f"{label}: {value:.3g} ({'below' if value < lo else 'above'} the plotted range)")
    ax.set_ylim(lo, hi)  # the lines drawn do not move the curves' limits
    if outside:
        ax.text(0.01, 0.01, "\n".join(outside), transform=ax.transAxes, fontsize=8, va="bottom", color="grey")


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
    tight_layout(fig)
    return fig
