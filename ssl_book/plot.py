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
    "legend.frameon": True,  # a light, borderless box: curves behind a legend stay readable
    "legend.framealpha": 0.85,
    "legend.edgecolor": "none",
    "image.cmap": "viridis",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once, in a chapter's first cell)."""
    mpl.rcParams.update(BOOK_STYLE)


def subplots(
    nrows: int = 1, ncols: int = 1, *, width: float = 3.2, height: float = 2.6, **kwargs
) -> tuple[Figure, Axes | list]:
    """``plt.subplots`` sized by panel (``width`` x ``height`` inches each), laid out tightly."""
    kwargs.setdefault("layout", "constrained")
    kwargs.setdefault("squeeze", True)
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), **kwargs)


def plot_seeds(
    ax: Axes,
    x,
    values,
    *,
    kind: str = "bar",
    label: str | None = None,
    color: str | None = None,
    width: float = 0.35,
    offset: float = 0.0,
    dots: bool = True,
) -> None:
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


def draw_network(ax: Axes, sizes, weights=None, *, node_labels=None, layer_names=None) -> dict[str, list]:
    """Draw a fully connected network: a column of circles per layer, an edge per weight.

    Args:
        ax: the axes to draw on (its frame and ticks are switched off).
        sizes: units per layer, inputs first, e.g. ``(2, 2, 1)``.
        weights: optional, one ``(sizes[i + 1], sizes[i])`` array per layer (the layout of
            ``nn.Linear.weight``). An edge's width grows with ``|w|``; positive weights are
            blue, negative ones vermillion, zero weights dotted. Without weights every edge
            is a thin grey line.
        node_labels: optional, one list of strings per layer, written inside the circles.
        layer_names: optional, one name per layer, written under its column.

    Returns:
        ``{"nodes": [...], "edges": [...]}``: the circles (one per unit, layer by layer)
        and the lines (one per weight, layer by layer, row-major as in ``weights``).
    """
    import numpy as np
    from matplotlib.patches import Circle

    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes needs at least two layers of at least one unit, got {sizes}")
    if weights is not None:
        weights = [np.asarray(w, dtype=float) for w in weights]
        expected = [(b, a) for a, b in zip(sizes[:-1], sizes[1:])]
        if [w.shape for w in weights] != expected:
            raise ValueError(f"weights must have shapes {expected}, got {[w.shape for w in weights]}")
        largest = max(float(np.abs(w).max()) for w in weights) or 1.0
    height = max(sizes)
    positions = [[(i, (n - 1) / 2 - j) for j in range(n)] for i, n in enumerate(sizes)]
    radius = 0.18
    edges = []
    for layer, (left, right) in enumerate(zip(positions[:-1], positions[1:])):
        for r, (x1, y1) in enumerate(right):
            for c, (x0, y0) in enumerate(left):
                style = {"color": "0.6", "lw": 0.8}
                if weights is not None:
                    w = weights[layer][r, c]
                    style = {
                        "color": PALETTE[0] if w > 0 else PALETTE[3],
                        "lw": 0.6 + 3.0 * abs(w) / largest,
                        "ls": ":" if w == 0 else "-",
                    }
                edges += ax.plot([x0 + radius, x1 - radius], [y0, y1], zorder=1, **style)
    nodes = []
    for layer, column in enumerate(positions):
        for j, (x, y) in enumerate(column):
            nodes.append(ax.add_patch(Circle((x, y), radius, fc="white", ec="0.2", zorder=2)))
            if node_labels is not None:
                ax.text(x, y, node_labels[layer][j], ha="center", va="center", fontsize=9, zorder=3)
        if layer_names is not None:
            ax.text(layer, -height / 2 - 0.15, layer_names[layer], ha="center", va="top", fontsize=9)
    ax.set(xlim=(-0.5, len(sizes) - 0.5), ylim=(-height / 2 - 0.6, height / 2 + 0.1), aspect="equal")
    ax.axis("off")
    return {"nodes": nodes, "edges": edges}
