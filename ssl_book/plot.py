"""One plotting style for every figure in the book."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: A colour-blind-safe palette (Okabe & Ito), in the order figures use it.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

BOOK_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.frameon": True,          # a light, borderless box: curves behind a legend stay readable
    "legend.framealpha": 0.85,
    "legend.edgecolor": "none",
    "image.cmap": "viridis",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once, in a chapter's first cell)."""
    mpl.rcParams.update(BOOK_STYLE)


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 3.2, height: float = 2.6,
             **kwargs) -> tuple[Figure, Axes | list]:
    """``plt.subplots`` sized by panel (``width`` x ``height`` inches each), laid out tightly."""
    kwargs.setdefault("layout", "constrained")
    kwargs.setdefault("squeeze", True)
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), **kwargs)


def plot_seeds(ax: Axes, x, values, *, kind: str = "bar", label: str | None = None,
               color: str | None = None, width: float = 0.35, offset: float = 0.0,
               dots: bool = True) -> None:
    """Mean ± standard deviation over seeds, with every seed's value as a dot.

    Args:
        ax: the axes to draw on.
        x: ``(m,)`` positions: bar centres (``kind="bar"``) or the x values of a curve.
        values: ``(n_seeds, m)`` array, one row per seed (``SeedResults[key]``), or ``(n_seeds,)``
            for a single bar.
        kind: ``"bar"``: a bar at the mean with an error bar of one sd; ``"line"``: the mean as a
            curve with a band of one sd.
        width, offset: bar width, and a shift of the bars along x (for groups of bars).
        color: the colour of the bars or the curve (default: the palette's first).
        dots: draw each seed's value (spread across the bar, or at each x of the curve).
    """
    import numpy as np

    values = np.asarray(values, dtype=float)
    values = values[:, None] if values.ndim == 1 else values
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if values.ndim != 2 or values.shape[1] != len(x):
        raise ValueError(f"values must be (n_seeds, {len(x)}), got shape {values.shape}")
    if kind not in ("bar", "line"):
        raise ValueError(f"kind must be 'bar' or 'line', got {kind!r}")
    mean = values.mean(0)
    sd = values.std(0, ddof=1) if len(values) > 1 else np.zeros_like(mean)
    color = color or PALETTE[0]
    n = len(values)
    if kind == "bar":
        ax.bar(x + offset, mean, width=width, color=color, alpha=0.55, label=label)
        ax.errorbar(x + offset, mean, yerr=sd, fmt="none", ecolor="k", elinewidth=1, capsize=3)
        spread = np.linspace(-0.25, 0.25, n) * width if n > 1 else np.zeros(1)
        if dots:
            for row, dx in zip(values, spread):
                ax.plot(x + offset + dx, row, "o", ms=3, color="k", alpha=0.7, zorder=3)
    else:
        ax.plot(x, mean, "-", color=color, label=label)
        ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)
        if dots:
            for row in values:
                ax.plot(x, row, "o", ms=2.5, color=color, alpha=0.6)
