"""The interactive-figure helper always leaves a static figure; the plotting style applies."""

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import pytest

from ssl_book.plot import BOOK_STYLE, use_book_style
from ssl_book.widgets import interactive_figure


def test_static_panels_then_widget(monkeypatch):
    drawn = []
    shown = []

    def draw(ax, a, b):
        drawn.append((a, b))
        ax.plot([0, 1], [a, b])
        if b == 7:
            ax.set_title("steep")

    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append([ax.get_title() for ax in plt.gcf().axes]))
    box = interactive_figure(
        draw,
        {"a": widgets.FloatSlider(value=1.0), "b": widgets.IntSlider(value=2)},
        static=[{"a": 0.5}, {"b": 7}, {}],
    )
    assert drawn[:3] == [(0.5, 2), (1.0, 7), (1.0, 2)]  # static row, defaults filled in
    # one static figure with three panels, told apart by their parameters unless draw titled them
    assert shown[0] == ["a=0.5, b=2", "steep", "a=1, b=2"]
    assert isinstance(box, widgets.VBox)
    sliders = box.children[0].children
    assert [s.value for s in sliders] == [1.0, 2] and not sliders[0].continuous_update
    plt.close("all")


def test_unknown_static_parameter_is_refused(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    with pytest.raises(ValueError, match=r"unknown parameters \['c'\]"):
        interactive_figure(lambda ax, a: None, {"a": widgets.FloatSlider()}, static=[{"c": 1}])
    with pytest.raises(ValueError, match="at least one control"):
        interactive_figure(lambda ax: None, {})


def test_book_style_is_applied():
    use_book_style()
    for key, value in BOOK_STYLE.items():
        actual = matplotlib.rcParams[key]
        assert (tuple(actual) if isinstance(value, tuple) else actual) == value


def test_draw_network_draws_one_circle_per_unit_and_one_line_per_weight():
    import numpy as np

    from ssl_book.plot import draw_network, subplots

    fig, ax = subplots()
    drawn = draw_network(ax, (3, 4, 2), layer_names=["in", "hidden", "out"])
    assert len(drawn["nodes"]) == 3 + 4 + 2 and len(drawn["edges"]) == 3 * 4 + 4 * 2
    weights = [np.array([[1.0, 1.0], [1.0, 0.0]]), np.array([[1.0, -2.0]])]
    drawn = draw_network(ax, (2, 2, 1), weights, node_labels=[["x1", "x2"], ["h1", "h2"], ["y"]])
    widths = [line.get_linewidth() for line in drawn["edges"]]
    assert len(drawn["edges"]) == 6 and max(widths) == widths[-1]  # |-2| is the largest
    assert drawn["edges"][3].get_linestyle() == ":"  # the zero weight
    with pytest.raises(ValueError, match="shapes"):
        draw_network(ax, (2, 3), [np.ones((2, 3))])
    with pytest.raises(ValueError, match="two layers"):
        draw_network(ax, (4,))
    plt.close(fig)
