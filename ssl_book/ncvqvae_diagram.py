"""The NC-VQVAE architecture as a box-and-arrow diagram (chapter "Training NC-VQVAE").

Two rows of boxes in axes coordinates (0 to 1 wide, 0 to 0.9 high): the original series through
the STFT, the encoder E, the quantizer VQ, the decoder D and the inverse STFT (top row), and the
augmented view through the *same* encoder and decoder without the quantizer (bottom row). Between
the rows, the pooled latents of both branches go through the projector into the SSL loss. The
shared encoder and decoder are orange, every other block blue.

A box's label is its text; the view branch's copies of the shared blocks carry a trailing space
(``"E "``), so that every box has a key of its own and both copies read the same on the page.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

#: height of every box and width of all but those in :data:`WIDTH` (axes units)
BOX_HEIGHT, BOX_WIDTH = 0.12, 0.11
#: box key -> lower-left corner ``(x, y)``; the top row is the original, the bottom the view
BOXES = {
    "x": (0.0, 0.70),
    "STFT": (0.14, 0.70),
    "E": (0.28, 0.70),
    "VQ": (0.42, 0.70),
    "D": (0.56, 0.70),
    "ISTFT": (0.70, 0.70),
    "x̂": (0.86, 0.70),
    "x' = T(x)": (0.0, 0.15),
    "STFT ": (0.14, 0.15),
    "E ": (0.28, 0.15),
    "D ": (0.56, 0.15),
    "x̂'": (0.86, 0.15),
    "pool + projector": (0.36, 0.44),
    "SSL loss": (0.70, 0.44),
}
#: boxes wider than :data:`BOX_WIDTH`
WIDTH = {"pool + projector": 0.16}
#: the arrows, ``(from, to)``: along a row, or up/down between rows
ARROWS = [
    ("x", "STFT"),
    ("STFT", "E"),
    ("E", "VQ"),
    ("VQ", "D"),
    ("D", "ISTFT"),
    ("ISTFT", "x̂"),
    ("x' = T(x)", "STFT "),
    ("STFT ", "E "),
    ("E ", "D "),
    ("D ", "x̂'"),
    ("VQ", "pool + projector"),
    ("E ", "pool + projector"),
    ("pool + projector", "SSL loss"),
]
#: the blocks both branches share (drawn orange)
SHARED = ("E", "D")
SHARED_COLOUR, OWN_COLOUR = "#E69F00", "#56B4E9"


def anchor(name: str, side: str) -> tuple[float, float]:
    """The middle of one side (``left``, ``right``, ``top``, ``bottom``) of box ``name``."""
    (x, y), w = BOXES[name], WIDTH.get(name, BOX_WIDTH)
    sides = {
        "left": (x, y + BOX_HEIGHT / 2),
        "right": (x + w, y + BOX_HEIGHT / 2),
        "top": (x + w / 2, y + BOX_HEIGHT),
        "bottom": (x + w / 2, y),
    }
    if side not in sides:
        raise ValueError(f"side must be one of {sorted(sides)}, got {side!r}")
    return sides[side]


def arrow_sides(start: str, end: str) -> tuple[str, str]:
    """The sides an arrow leaves ``start`` and enters ``end`` by: right to left along a row,
    bottom to top going down, top to bottom going up."""
    rise = BOXES[end][1] - BOXES[start][1]
    if rise == 0:
        return "right", "left"
    return ("bottom", "top") if rise < 0 else ("top", "bottom")


def draw_ncvqvae_architecture(ax: Axes) -> dict[str, list]:
    """Draw the NC-VQVAE diagram on ``ax`` (its frame is switched off).

    Returns:
        ``{"boxes": [...], "arrows": [...]}``: the box patches in the order of :data:`BOXES` and
        the arrow patches in the order of :data:`ARROWS`.
    """
    boxes, arrows = [], []
    for name, (x, y) in BOXES.items():
        w = WIDTH.get(name, BOX_WIDTH)
        colour = SHARED_COLOUR if name.strip() in SHARED else OWN_COLOUR
        style = {"boxstyle": "round,pad=0.01", "fc": colour, "alpha": 0.5}
        boxes.append(ax.add_patch(FancyBboxPatch((x, y), w, BOX_HEIGHT, **style)))
        ax.text(x + w / 2, y + BOX_HEIGHT / 2, name.strip(), ha="center", va="center", fontsize=9)
    for start, end in ARROWS:
        leave, enter = arrow_sides(start, end)
        arrow = FancyArrowPatch(
            anchor(start, leave), anchor(end, enter), arrowstyle="->", mutation_scale=10, lw=1
        )
        arrows.append(ax.add_patch(arrow))
    caption = "E and D (orange) are shared by both branches; the view's branch skips VQ"
    ax.text(0.47, 0.02, caption, ha="center", fontsize=8)
    ax.set(xlim=(0, 1), ylim=(0, 0.9))
    ax.axis("off")
    return {"boxes": boxes, "arrows": arrows}
