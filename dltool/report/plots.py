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


# Many lines on one axes: a colour map's neighbouring shades (viridis at 17 lines) cannot be told apart, so lines
# take the ten qualitative colours of tab10 and, past ten, the same colours dashed, dotted, dash-dotted (40 pairs).
LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
FEW_POINTS = 30  # a series with at most this many points shows them (one point has no line to show)


def palette(n: int):
    """``n`` qualitative colours (tab10, cycled): distinct hues, never neighbouring shades of one colour map.
    Past ten lines the colours repeat; :func:`line_styles` pairs them with line styles."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def line_styles(n: int) -> list[dict]:
    """Colour and line style of ``n`` lines: tab10's colours solid, then dashed, dotted and dash-dotted."""
    return [{"color": colour, "linestyle": LINE_STYLES[(i // 10) % len(LINE_STYLES)]}
            for i, colour in enumerate(palette(n))]


def _finite(values) -> list[float]:
    out = []
    for v in values if values is not None else []:
        try:
            v = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            out.append(v)
    return out


def _same_curve(a: tuple, b: tuple) -> bool:
    """Two series whose points coincide (to 1e-4 relative: the same on any plot), so that the later one would
    hide the earlier one."""
    (xa, ya), (xb, yb) = a, b
    if len(ya) != len(yb) or len(xa) != len(xb) or not ya:
        return False

    def close(u, v) -> bool:
        try:
            u, v = float(u), float(v)
        except (TypeError, ValueError):
            return u is v
        if math.isnan(u) or math.isnan(v):
            return math.isnan(u) and math.isnan(v)
        return abs(u - v) <= 1e-4 * max(abs(u), abs(v), 1e-300)

    return all(map(close, xa, xb)) and all(map(close, ya, yb))


# Curves closer than this fraction of the axes' data range at every point are one line at the figure's scale
# (a 1.3-point line on a 4.5-inch axes is ~0.5 % of its height): converged optimizers on fit-line's points
# (gd w 1.98693, adam 1.98685, rmsprop 1.98193) drew as one line while the legend named three.
VISUAL_TOLERANCE = 0.01
# Dash patterns of the 1st, 2nd, 3rd … curve drawn over an earlier one: distinct, so repeats do not hide each other.
REPEAT_DASHES = ((0, (5, 3)), (0, (1.5, 2)), (0, (8, 2, 1.5, 2)), (0, (3, 1, 1, 1, 1, 1)))


def _scaled(values, log: bool) -> list[float]:
    """Values as the axis places them (log10 on a log axis; NaN where a log axis cannot show a value)."""
    out = []
    for v in values:
        try:
            v = float(v)
        except (TypeError, ValueError):
            v = float("nan")
        out.append((math.log10(v) if v > 0 else float("nan")) if log else v)
    return out


def _span(values) -> float:
    vals = _finite(values)
    return max(vals) - min(vals) if vals else 0.0


def _coincide(a: tuple, b: tuple, xspan: float, yspan: float) -> bool:
    """Two series (already scaled as the axes show them) that lie within :data:`VISUAL_TOLERANCE` of the data
    range of each other at every point: one line on the figure, though their numbers differ."""
    (xa, ya), (xb, yb) = a, b
    if len(ya) != len(yb) or len(xa) != len(xb) or not ya:
        return False

    def close(u, v, span) -> bool:
        if math.isnan(u) or math.isnan(v):
            return math.isnan(u) and math.isnan(v)
        if math.isinf(u) or math.isinf(v):
            return u == v
        return abs(u - v) <= max(VISUAL_TOLERANCE * span, 1e-4 * max(abs(u), abs(v)), 1e-300)

    return all(close(u, v, xspan) for u, v in zip(xa, xb)) and all(close(u, v, yspan) for u, v in zip(ya, yb))


def plot_lines(ax, series: list[tuple], *, linewidth: float = 1.4, markersize: float = 3.5,
               styles: list[dict] | None = None, logx: bool = False, logy: bool = False) -> list:
    """Draw ``(label, xs, ys)`` series on ``ax`` so that every one can be seen and told apart:

    - colours and line styles from :func:`line_styles` (or ``styles``, one dict per series);
    - a marker on every point of a series with few points (:data:`FEW_POINTS`): one point is otherwise invisible;
    - a series that coincides with an earlier one (Adagrad and FTRL give the same curve on a least-squares line)
      is drawn over it dashed, with open markers, and its label says which curve it repeats: "= adagrad: same
      curve" where the numbers agree, "≈ gd" where they differ by less than :data:`VISUAL_TOLERANCE` of the
      axes' data range (what else is on the axes, such as fit-line's points, counts in that range). Each further
      repeat of one curve takes its own dash pattern, marker and a larger marker, so the open markers nest.

    ``logx``/``logy``: the axes' scales (set by the caller after drawing), so closeness is judged as drawn.
    Returns the Line2D objects, one per series."""
    styles = styles or line_styles(len(series))
    prepared = []
    for label, xs, ys in series:
        ys = list(ys)
        prepared.append((label, list(range(1, len(ys) + 1)) if xs is None else list(xs), ys))
    scaled = [(_scaled(xs, logx), _scaled(ys, logy)) for _, xs, ys in prepared]
    all_x = [v for sx, _ in scaled for v in sx]
    all_y = [v for _, sy in scaled for v in sy]
    if ax.has_data():  # points or lines drawn before (fit-line's scatter) widen the range the lines sit in
        (x0, y0), (x1, y1) = ax.dataLim.get_points()
        all_x += _scaled([x0, x1], logx)
        all_y += _scaled([y0, y1], logy)
    xspan, yspan = _span(all_x), _span(all_y)
    drawn: list[tuple] = []  # (label, xs, ys, scaled) of the curves not drawn over another one
    repeats: dict[str, int] = {}
    lines = []
    for k, ((label, xs, ys), points, style) in enumerate(zip(prepared, scaled, styles)):
        kwargs = {"linewidth": linewidth, **style}
        same = next((name for name, oxs, oys, _ in drawn if _same_curve((oxs, oys), (xs, ys))), None)
        near = None if same is not None else next(
            (name for name, _, _, other in drawn if _coincide(other, points, xspan, yspan)), None)
        few = len(_finite(ys)) <= FEW_POINTS
        if same is not None or near is not None:
            n = repeats[same or near] = repeats.get(same or near, 0) + 1
            kwargs.update(linestyle=REPEAT_DASHES[(n - 1) % len(REPEAT_DASHES)], linewidth=linewidth + 0.4,
                          marker=MARKERS[k % len(MARKERS)], markersize=markersize + 2.5 + 2.5 * (n - 1),
                          markerfacecolor="none",
                          markevery=None if few else (0.02 * n, 0.08))  # spaced along the line, log axes too
            label = f"{label} (= {same}: same curve)" if same is not None else f"{label} (≈ {near})"
        elif few:
            kwargs.update(marker=MARKERS[(k // 10) % len(MARKERS)], markersize=markersize)
        (line,) = ax.plot(xs, ys, label=label, **kwargs)
        lines.append(line)
        if same is None and near is None:
            drawn.append((label, xs, ys, points))
    return lines


def legend(ax, *, fontsize: float = 8, inside: int = 8, **kwargs):
    """The axes' legend: inside where it holds a few entries, beside the axes (right) past ``inside`` entries,
    where a box of 17 labels would otherwise cover the lines it names."""
    handles, _ = ax.get_legend_handles_labels()
    if len(handles) > inside and "loc" not in kwargs:
        ncol = max(1, -(-len(handles) // 24))
        kwargs.update(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, ncol=ncol)
        fig = ax.get_figure()
        fig.set_figwidth(fig.get_figwidth() + 3.2 * ncol)  # the axes keep their width beside the legend
    return ax.legend(fontsize=fontsize, **kwargs)


def fit_limits(ax, values, *, axis: str = "y", lower: float | None = None, upper: float | None = None,
               pad: float = 0.05) -> tuple[float, float] | None:
    """Set ``axis``' limits to hold every value drawn (``values``: all of them, reference lines included), with
    ``pad`` of the span on each side, never beyond ``lower``/``upper`` (0 and 1 for an accuracy).

    Limits chosen from the best values only (a zoom on the top 0.1 of the accuracies) dropped the points below
    them: `mnist cnn --quick` showed its batch-50 point and not the batch-100 one at 0.495."""
    vals = _finite(values)
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    if hi > lo:
        lo, hi = lo - pad * (hi - lo), hi + pad * (hi - lo)
    else:  # one value: a window of ± 5 % of its size (at least ± 0.05), not a zoom to its last digit
        half = 0.05 * max(abs(hi), 1.0)
        lo, hi = lo - half, hi + half
    if lower is not None:
        lo = max(lo, lower)
    if upper is not None:
        hi = min(hi, upper)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(lo, hi)
    return lo, hi


def count_axis(ax, values, *, axis: str = "x", base: int = 10, max_ticks: int = 12) -> None:
    """A log axis of counts (batch sizes, devices, filters) with plain-number ticks at the values drawn: 50 and
    100, not matplotlib's 5×10^1 and 10^2 (nor 2^2 on a base-2 axis). Crowded: powers of ``base`` only."""
    from matplotlib.ticker import NullLocator

    ticks = sorted({v for v in _finite(values) if v > 0})
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log", base=base)
    if not ticks:
        return
    if len(ticks) > max_ticks:
        powers = [t for t in ticks if math.isclose(math.log(t, base), round(math.log(t, base)))]
        ticks = powers or ticks[:: math.ceil(len(ticks) / max_ticks)]
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xticks if axis == "x" else ax.set_yticks)(ticks, [f"{t:g}" for t in ticks])
    target.set_minor_locator(NullLocator())


def no_data(ax, text: str = "no data") -> None:
    """A panel with nothing to draw says so instead of showing empty axes."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10, color="grey")
    ax.set_xticks([])
    ax.set_yticks([])


def curve_panels(panels: dict[str, list[tuple[str, list[float]]]], *, xlabel: str = "iteration",
                 ylabel: str = "loss", logy: bool = True, title: str | None = None, ncols: int = 3):
    """One subplot per panel (e.g. per optimizer), one line per series (e.g. per learning rate)."""
    n = max(len(panels), 1)
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    fig, axes = figure(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, (name, series) in zip(axes.flat, panels.items()):
        plot_lines(ax, [(label, None, ys) for label, ys in series], logy=logy)
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if not any(_finite(ys) for _, ys in series):
            no_data(ax)
            continue
        if logy and any(ys for _, ys in series):
            ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)  # inside: a legend beside a panel would cover its neighbour
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
    lines = plot_lines(ax, [(label, xs, ys) for label, ys in series], linewidth=1.5, logx=logx, logy=logy)
    if markers:
        for line in lines:
            if line.get_marker() in (None, "None", ""):
                line.set_marker("o")
                line.set_markersize(4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    _reference_lines(ax, hlines)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    legend(ax)
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
    plot_lines(ax, [(label, [lo, hi], [w * lo + b, w * hi + b]) for label, w, b in lines], linewidth=1.3,
               markersize=3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    legend(ax, fontsize=7)
    tight_layout(fig)
    return fig
