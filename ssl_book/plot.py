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
