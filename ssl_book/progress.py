"""One progress bar for the whole book (``tqdm.auto``: a widget in notebooks, text elsewhere)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(
    iterable: Iterable[T] | None = None,
    *,
    desc: str = "",
    total: int | None = None,
    disable: bool = False,
    leave: bool = True,
    position: int | None = None,
) -> Iterator[T] | tqdm:
    """Wrap ``iterable`` (or count to ``total``) in the book's progress bar.

    Use it for anything that takes more than a few seconds::

        for step in (bar := progress(range(steps), desc="training")):
            ...
            bar.set_postfix(loss=f"{loss:.3f}")

    ``TQDM_DISABLE=1`` in the environment turns every bar off (the sweep's worker processes
    set it, since their parent draws one bar per run instead).
    """
    disable = disable or os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes")
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        disable=disable,
        leave=leave,
        position=position,
        dynamic_ncols=True,
        mininterval=0.5,
    )
