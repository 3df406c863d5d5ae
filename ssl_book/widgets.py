"""Interactive figures that also leave a static figure behind.

A slider teaches only when a kernel runs; the rendered book has none. So every interactive
figure first draws a static panel (or a row of panels for chosen settings) and then adds the
widget, whose initial output is stored in the page as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt

from ssl_book.plot import subplots

DrawFn = Callable[..., None]


def _format_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def interactive_figure(
    draw: DrawFn,
    controls: Mapping[str, widgets.ValueWidget],
    static: Sequence[Mapping[str, Any]] | None = None,
    *,
    width: float = 4.0,
    height: float = 3.0,
) -> widgets.VBox:
    """Draw ``draw(ax, **params)`` statically, then return a widget to explore ``params``.

    Args:
        draw: draws one panel on ``ax`` for the keyword parameters named in ``controls``.
        controls: parameter name -> ipywidgets control (slider, dropdown, ...).
        static: parameter settings for the static row of panels; by default one panel at
            the controls' initial values. Each setting may give a subset of the parameters.
        width, height: size of one panel in inches.

    Returns:
        A ``VBox`` with the controls above a live figure; make it the last expression of a
        cell so that it is displayed.
    """
    if not controls:
        raise ValueError("interactive_figure needs at least one control")
    defaults = {name: control.value for name, control in controls.items()}
    settings = [dict(defaults, **s) for s in (static or [{}])]
    unknown = {k for s in settings for k in s} - set(defaults)
    if unknown:
        raise ValueError(
            f"static settings name unknown parameters {sorted(unknown)}; known: {sorted(defaults)}"
        )

    fig, axes = subplots(1, len(settings), width=width, height=height, squeeze=False)
    for ax, params in zip(axes[0], settings):
        draw(ax, **params)
        if len(settings) > 1 and not ax.get_title():  # tell untitled panels apart by their parameters
            ax.set_title(_format_params(params), fontsize=9)
    plt.show()

    def redraw(**params: Any) -> None:
        fig, ax = subplots(1, 1, width=width * 1.3, height=height * 1.2)
        draw(ax, **params)
        plt.show()

    for control in controls.values():
        if hasattr(control, "continuous_update"):
            control.continuous_update = False
    output = widgets.interactive_output(redraw, dict(controls))
    return widgets.VBox([widgets.HBox(list(controls.values())), output])
