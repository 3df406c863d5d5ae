"""Test-session setup shared by the unit tests (tests/) and the notebook tests (book/).

* Quick mode: every notebook kernel inherits ``SSL_BOOK_QUICK=1`` from this process.
* No chapter is left out silently: when the run collects the notebooks of ``book/``, every
  notebook there must be among the collected items.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
BOOK = ROOT / "book"

os.environ.setdefault("SSL_BOOK_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def book_notebooks() -> set[Path]:
    return {p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    runs_book = any(Path(arg.split("::")[0]).resolve() == BOOK for arg in config.args)
    if not runs_book:
        return
    if not (config.getoption("nbval", False) or config.getoption("nbval_lax", False)):
        raise pytest.UsageError("book/ was given but notebooks are only run with --nbval-lax "
                                "(see the README's test command)")
    collected = {Path(str(item.fspath)).resolve() for item in items}
    missing = sorted(str(p.relative_to(ROOT)) for p in book_notebooks() - collected)
    if missing:
        raise pytest.UsageError(f"these notebooks under book/ were not collected: {missing}")
