"""The NC-VQVAE architecture diagram: every block drawn once, arrows that join box edges."""

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from ssl_book.ncvqvae_diagram import (
    ARROWS,
    BOX_HEIGHT,
    BOX_WIDTH,
    BOXES,
    OWN_COLOUR,
    SHARED_COLOUR,
    WIDTH,
    anchor,
    arrow_sides,
    draw_ncvqvae_architecture,
)


def _extent(name):
    (x, y), w = BOXES[name], WIDTH.get(name, BOX_WIDTH)
    return x, x + w, y, y + BOX_HEIGHT


def test_boxes_fit_the_axes_and_do_not_overlap():
    for name in BOXES:
        x0, x1, y0, y1 = _extent(name)
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 0.9, name
    for a, b in itertools.combinations(BOXES, 2):
        ax0, ax1, ay0, ay1 = _extent(a)
        bx0, bx1, by0, by1 = _extent(b)
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, f"{a!r} overlaps {b!r}"


def test_anchors_sit_on_the_box_edges():
    x0, x1, y0, y1 = _extent("pool + projector")
    assert anchor("pool + projector", "left") == pytest.approx((x0, (y0 + y1) / 2))
    assert anchor("pool + projector", "right") == pytest.approx((x1, (y0 + y1) / 2))
    assert anchor("pool + projector", "top") == pytest.approx(((x0 + x1) / 2, y1))
    assert anchor("pool + projector", "bottom") == pytest.approx(((x0 + x1) / 2, y0))
    with pytest.raises(ValueError, match="side"):
        anchor("x", "middle")


def test_arrows_point_forward_along_a_row_and_between_rows():
    assert arrow_sides("x", "STFT") == ("right", "left")
    assert arrow_sides("VQ", "pool + projector") == ("bottom", "top")  # down from the top row
    assert arrow_sides("E ", "pool + projector") == ("top", "bottom")  # up from the view's row
    for start, end in ARROWS:
        leave, enter = arrow_sides(start, end)
        (sx, sy), (ex, ey) = anchor(start, leave), anchor(end, enter)
        if leave == "right":
            assert ex > sx and ey == pytest.approx(sy), (start, end)  # a row runs left to right
        else:
            assert (ey < sy) == (leave == "bottom"), (start, end)


def test_the_drawing_has_every_block_and_arrow_and_colours_the_shared_ones():
    fig, ax = plt.subplots()
    drawn = draw_ncvqvae_architecture(ax)
    assert len(drawn["boxes"]) == len(BOXES) == 14 and len(drawn["arrows"]) == len(ARROWS) == 13
    colours = {name: tuple(np.round(box.get_facecolor()[:3], 3)) for name, box in zip(BOXES, drawn["boxes"])}
    shared, own = tuple(np.round(to_rgb(SHARED_COLOUR), 3)), tuple(np.round(to_rgb(OWN_COLOUR), 3))
    assert [n for n, c in colours.items() if c == shared] == ["E", "D", "E ", "D "]
    assert all(c == own for n, c in colours.items() if n.strip() not in ("E", "D"))
    labels = [t.get_text() for t in ax.texts]
    assert labels.count("E") == 2 and labels.count("STFT") == 2 and "VQ" in labels
    assert not ax.axison
    plt.close(fig)
