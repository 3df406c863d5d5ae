"""Pictures of embeddings: maps coloured by class, and singular-value spectra.

* :func:`scatter_by_class`: a 2-D map of embeddings (from PCA, t-SNE, ...) with one colour of
  the book's palette per class and the class names as legend labels;
* :func:`plot_spectrum`: the normalised singular values ``sigma_k / sum_j sigma_j`` of the
  centred embeddings, the distribution whose perplexity is the effective rank
  (:func:`ssl_book.representation.effective_rank`); a steep drop is dimensional collapse.

Used in the chapters "Representation learning" and "Self-supervised learning".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D

from ssl_book.plot import PALETTE
from ssl_book.representation import singular_values


def scatter_by_class(
    ax: Axes, points, labels, class_names: Sequence[str], *, size: float = 6.0
) -> list[PathCollection]:
    """Scatter the points of every class in its own colour: class ``c`` in ``PALETTE[c]``,
    labelled ``class_names[c]`` (call ``ax.legend()`` to show the names).

    Args:
        ax: the axes to draw on.
        points: ``(n, 2)`` coordinates of the ``n`` embeddings in the map.
        labels: ``(n,)`` integer classes in ``0 .. len(class_names) - 1``; the map never sees
            them, they only colour it.
        class_names: one name per class (at most ``len(PALETTE)`` classes).
        size: marker area, the ``s`` of ``Axes.scatter``.

    Returns:
        One collection per class, in class order (empty for a class with no points).
    """
    points, labels = np.asarray(points), np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    if labels.shape != (len(points),):
        raise ValueError(f"labels must have shape ({len(points)},), got {labels.shape}")
    if len(class_names) > len(PALETTE):
        raise ValueError(f"at most {len(PALETTE)} classes have a colour, got {len(class_names)}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise ValueError(
            f"labels must lie in 0 .. {len(class_names) - 1}, got {labels.min()} .. {labels.max()}"
        )
    return [
        ax.scatter(points[labels == c, 0], points[labels == c, 1], s=size, color=PALETTE[c], label=name)
        for c, name in enumerate(class_names)
    ]


def plot_spectrum(ax: Axes, z, **line_kwargs) -> Line2D:
    """Plot ``sigma_k / sum_j sigma_j`` against ``k = 1, 2, ...`` for the centred ``(N, D)``
    embeddings ``z`` (array or tensor), as dots joined by lines.

    The values sum to 1; a flat spectrum means the embeddings use all their directions, a steep
    drop that they use only a few. Set ``ax.set_yscale("log")`` to see the small ones.

    Args:
        ax: the axes to draw on.
        z: ``(N, D)`` embeddings; not completely collapsed (some singular value above 0).
        line_kwargs: passed to ``Axes.plot`` (``color``, ``label``, ...); markers of size 3
            unless ``ms`` is given.

    Returns:
        The line, with ``min(N, D)`` points.
    """
    sigma = singular_values(z)
    if sigma.sum() <= 0:
        raise ValueError("the embeddings are completely collapsed: every singular value is 0")
    (line,) = ax.plot(np.arange(1, len(sigma) + 1), sigma / sigma.sum(), "o-", **{"ms": 3, **line_kwargs})
    return line
