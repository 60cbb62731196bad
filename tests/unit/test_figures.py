"""Figures a reader can read: every point inside the axes, many lines told apart, identical curves both visible,
single points drawn, plain numbers on log axes of counts. Checked on the Axes the plotting code draws."""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("matplotlib")


@pytest.fixture
def drawn(monkeypatch):
    """Every figure passed to save_figure, by file name (still open: its Axes can be read)."""
    from dltool.report import plots

    figures = {}

    def keep(fig, path, dpi=120):
        figures[path.name] = fig
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    yield figures
    import matplotlib.pyplot as plt

    for fig in figures.values():
        plt.close(fig)


def _cnn_result(evals_by_batch: dict[int, list[tuple[float, float]]], target=None):
    from dltool.runlog import StoredResult

    runs = [{"batch_size": b, "test_accuracy": pts[-1][1], "reference": None, "train_seconds": pts[-1][0],
             "evals": [{"train_seconds": t, "accuracy": a} for t, a in pts]} for b, pts in evals_by_batch.items()]
    return StoredResult({"command": "mnist cnn", "config": {"target_accuracy": target}, "data": {"name": "mnist"},
                         "runs": runs})


def _points(ax):
    return [(x, y) for line in ax.get_lines() for x, y in zip(line.get_xdata(), line.get_ydata())]


def test_accuracy_vs_time_holds_every_point(drawn, tmp_path):
    """mnist cnn --quick: batch 100 reached 0.495 after 6.08 s, batch 50 0.618 after 4.40 s. The y axis was
    zoomed to the best 0.1 (0.516–0.623): the legend named two batch sizes and one dot showed."""
    from dltool.report.views.mnist import cnn_plots

    cnn_plots(_cnn_result({100: [(6.08, 0.495)], 50: [(4.40, 0.618)]}), tmp_path)
    ax = drawn["accuracy_vs_time.png"].axes[0]
    (y0, y1), (x0, x1) = ax.get_ylim(), ax.get_xlim()
    points = _points(ax)
    assert len(points) == 2
    for x, y in points:
        assert y0 < y < y1 and x0 < x < x1, ((x, y), (y0, y1))
    # a target line is data too, and the limits stay inside [0, 1]
    cnn_plots(_cnn_result({100: [(1.0, 0.2), (2.0, 0.97)]}, target=0.99), tmp_path)
    ax = drawn["accuracy_vs_time.png"].axes[0]
    y0, y1 = ax.get_ylim()
    assert y0 < 0.2 and 0.99 < y1 <= 1.0


def test_batch_size_axes_print_plain_numbers(drawn, tmp_path):
    """batch_sweep.png labelled its log axes 5×10^1 … 10^2 for batches 50 and 100."""
    from dltool.report.views.mnist import cnn_plots

    cnn_plots(_cnn_result({100: [(6.08, 0.495)], 50: [(4.40, 0.618)]}), tmp_path)
    fig = drawn["batch_sweep.png"]
    fig.canvas.draw()
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["50", "100"]
        assert not [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]


def _rgb_distance(a, b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a[:3], b[:3])) ** 0.5


def _distinct(lines, at_least: float = 0.2) -> None:
    """Two lines of the same style differ in colour by at least ``at_least`` (RGB distance); viridis' 17 shades
    were 0.06 apart."""
    from matplotlib.colors import to_rgba

    for a, b in itertools.combinations(lines, 2):
        if (a.get_linestyle(), a.get_marker()) == (b.get_linestyle(), b.get_marker()):
            assert _rgb_distance(to_rgba(a.get_color()), to_rgba(b.get_color())) >= at_least, (a.get_label(),
                                                                                                 b.get_label())


def test_seventeen_lines_are_told_apart():
    """fit-line's default grid draws 17 fitted lines; they were 17 shades of viridis."""
    import matplotlib.pyplot as plt

    from dltool.report.plots import curves, fitted_lines

    fig = fitted_lines([0.0, 10.0], [1.0, 21.0], [(f"run {i}", 2.0 + 0.01 * i, 1.0) for i in range(17)])
    lines = [line for line in fig.axes[0].get_lines()]
    assert len(lines) == 17
    _distinct(lines)
    plt.close(fig)
    fig = curves([(f"lr {i}", [10.0 / (k + 1 + i) for k in range(100)]) for i in range(21)], xlabel="x",
                 ylabel="y")
    assert len(fig.axes[0].get_lines()) == 21
    _distinct(fig.axes[0].get_lines())
    plt.close(fig)


def test_identical_curves_both_stay_visible():
    """Adagrad and FTRL give the same losses (6.8e-7 apart relative) on fit-line's points: FTRL was drawn
    exactly over Adagrad and only one line showed."""
    import matplotlib.pyplot as plt

    from dltool.report.plots import curves

    losses = [180.0 / (1 + 0.001 * k) for k in range(1000)]
    fig = curves([("adagrad (lr 0.01)", losses), ("adadelta (lr 0.01)", [178.0] * 1000),
                  ("ftrl (lr 0.01)", [v * (1 + 6.8e-7) for v in losses])], xlabel="iteration", ylabel="MSE",
                 logy=True, logx=True)
    adagrad, adadelta, ftrl = fig.axes[0].get_lines()[:3]
    assert ftrl.get_marker() not in (None, "None", "") and ftrl.get_markerfacecolor() == "none"
    assert ftrl.get_linestyle() != adagrad.get_linestyle()
    assert "same curve" in ftrl.get_label() and "adagrad" in ftrl.get_label()
    assert adadelta.get_marker() in (None, "None", "") and "same" not in adadelta.get_label()
    assert "same curve" in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    plt.close(fig)


def test_single_point_runs_are_drawn_with_markers():
    """`runs plot` of a mnist cnn run (one epoch: one loss value per run) drew lines without markers: two curves
    reported, nothing visible in the loss panel."""
    import matplotlib.pyplot as plt

    from dltool.report.views.runs import curves_figure
    from dltool.runlog import Curve

    fig = curves_figure([Curve("cnn-run", "batch_size=100", "epoch", [6.06], [(1.0, 0.495)]),
                         Curve("cnn-run", "batch_size=50", "epoch", [5.1], [(1.0, 0.618)])])
    loss, accuracy = fig.axes[:2]
    assert len(loss.get_lines()) == 2
    for line in loss.get_lines() + accuracy.get_lines():
        assert line.get_marker() not in (None, "None", "")
    plt.close(fig)


def test_runs_overlay_of_many_labels_tells_them_apart():
    """Two softmax --quick folders overlay 13 labels; past ten, colours repeat with another marker shape."""
    import matplotlib.pyplot as plt

    from dltool.report.views.runs import curves_figure
    from dltool.runlog import Curve

    curves = [Curve("s1", f"opt{i} lr=0.1", "step", [2.0 / (k + 1 + i) for k in range(200)]) for i in range(13)]
    fig = curves_figure(curves)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 13
    _distinct(lines)
    plt.close(fig)


def test_count_axis_on_base_two():
    import matplotlib.pyplot as plt

    from dltool.report.plots import count_axis, figure

    fig, ax = figure()
    ax.plot([4, 8, 48], [1, 2, 3])
    count_axis(ax, [4, 8, 48], base=2)
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "8", "48"]
    plt.close(fig)


def test_a_panel_with_no_data_says_so():
    """A softmax panel whose every run diverged (losses stored as null) was an empty frame with a legend."""
    import matplotlib.pyplot as plt

    from dltool.report.views.mnist import _panels

    fig = _panels({"gd": [("lr 0.1", [1, 2, 3], [2.3, 1.0, 0.5])],
                   "adam": [("lr 10 (diverged)", [1, 2], [None, None])]}, "step", "loss", "t", logy=True)
    gd, adam = fig.axes[:2]
    assert [t.get_text() for t in adam.texts] == ["no data"]
    assert not gd.texts and gd.get_yscale() == "log"
    plt.close(fig)


def test_cifar_adaptive_curves_that_coincide_both_show(drawn, tmp_path):
    from dltool.report.views.cifar_adaptive import plots
    from dltool.runlog import StoredResult

    losses = [2.3, 2.1, 2.0]
    runs = [{"part": 2, "method": m, "lr": 0.001, "status": "finished", "epoch_losses": losses,
             "test_accuracies": [0.1, 0.2, 0.25]} for m in ("adagrad", "rmsprop")]
    plots(StoredResult({"config": {"methods": ["adagrad", "rmsprop"], "input_dropout": 0.2, "dropout": 0.5},
                        "runs": runs}), tmp_path)
    for name in ("training_loss.png", "test_accuracy.png"):
        first, second = drawn[name].axes[0].get_lines()
        assert "same curve" in second.get_label() and second.get_linestyle() != first.get_linestyle(), name
        assert first.get_marker() == "o" and second.get_markerfacecolor() == "none"


def test_one_evaluated_accuracy_gets_a_readable_window(drawn, tmp_path):
    """A run stopped after its first batch size has one point: the axis spanned 0.4938–0.4962 (ticks to 0.0005)."""
    from dltool.report.views.mnist import cnn_plots

    cnn_plots(_cnn_result({100: [(13.2, 0.495)]}), tmp_path)
    y0, y1 = drawn["accuracy_vs_time.png"].axes[0].get_ylim()
    assert y0 < 0.495 < y1 and y1 - y0 >= 0.09


def test_allreduce_groups_past_ten_are_told_apart(drawn, tmp_path):
    """Three implementations on 2–5 devices are 12 groups: tab10 gave groups 1 and 11 the same colour and marker."""
    from dltool.report.views.allreduce import plots
    from dltool.runlog import StoredResult

    bus = [{"strategy": "mirrored", "implementation": impl, "devices": n, "virtual": True, "tensors": 1,
            "bytes": size, "time_s": 1e-4 * size / 4096, "busbw": 4e7 * n} for impl in ("a", "b", "c")
           for n in (2, 3, 4, 5) for size in (4096, 16384)]
    plots(StoredResult({"command": "allreduce", "config": {"virtual": True}, "bus": bus, "runs": []}), tmp_path)
    for name in ("busbw.png", "time_vs_size.png"):
        lines = drawn[name].axes[0].get_lines()
        assert len(lines) == 12, name
        _distinct(lines)


def test_near_equal_fitted_lines_stay_visible():
    """Converged optimizers on fit-line's points (gd w 1.98693, adam 1.98685, rmsprop 1.98193) differ by far
    more than 1e-4 yet draw as one line at the figure's scale: the legend named three, one line showed. Each
    later one is drawn dashed in its own pattern with an open marker and says which line it lies on."""
    import matplotlib.pyplot as plt

    from dltool.report.plots import fitted_lines

    x = [i / 10 for i in range(-50, 51)]
    y = [2 * v + 1 + 0.3 * ((i * 7) % 5 - 2) for i, v in enumerate(x)]
    fig = fitted_lines(x, y, [("gd 0.01", 1.98693, 1.0012), ("adam 0.01", 1.98685, 1.0010),
                              ("rmsprop 0.01", 1.98193, 0.9987), ("ftrl 0.01", 1.2, 0.3)])
    gd, adam, rmsprop, ftrl = [line for line in fig.axes[0].get_lines()]
    styles = [(line.get_linestyle(), str(line._dash_pattern), line.get_marker()) for line in (gd, adam, rmsprop)]
    assert len(set(styles)) == 3, styles
    assert gd.get_linestyle() == "-" and adam.get_linestyle() != "-" and rmsprop.get_linestyle() != "-"
    assert adam._dash_pattern != rmsprop._dash_pattern
    assert adam.get_markerfacecolor() == "none" and rmsprop.get_markerfacecolor() == "none"
    assert adam.get_marker() != rmsprop.get_marker()
    assert "(= gd 0.01: same curve)" in adam.get_label()  # 4e-5 apart: the same numbers to 1e-4
    assert "(≈ gd 0.01)" in rmsprop.get_label()
    assert ftrl.get_linestyle() == "-" and "≈" not in ftrl.get_label()  # a line apart stays as it was
    plt.close(fig)
