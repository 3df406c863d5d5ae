"""Test-session setup shared by the unit tests (tests/) and the notebook tests (book/).

* Quick mode: every notebook kernel inherits ``SSL_BOOK_QUICK=1`` from this process.
* No chapter is left out silently: when the run collects the notebooks of ``book/``, every
  notebook there must be among the collected items.
* One book build per test run: the ``book_html`` fixture builds the book in quick mode once,
  also under pytest-xdist, where every worker has its own session (the first worker to ask
  builds it, the others wait on a file lock and reuse it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
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
        raise pytest.UsageError(
            "book/ was given but notebooks are only run with --nbval-lax (see the README's test command)"
        )
    collected = {Path(str(item.fspath)).resolve() for item in items}
    missing = sorted(str(p.relative_to(ROOT)) for p in book_notebooks() - collected)
    if missing:
        raise pytest.UsageError(f"these notebooks under book/ were not collected: {missing}")


@pytest.fixture(scope="session")
def book_html() -> Path:
    """The HTML folder of the book built in quick mode (``tools/build_book.py --quick``), built
    once per test run. Under pytest-xdist each worker has its own session: a lock file
    serialises the workers and a marker records which run (xdist's test-run id) built it."""
    sys.path.insert(0, str(ROOT / "tools"))
    from build_book import build, html_dir

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_id is None:  # one process: the session fixture already runs once
        return build(quick=True)
    import fcntl

    marker = ROOT / "_build" / "quick" / "built-for-test-run"
    marker.parent.mkdir(parents=True, exist_ok=True)
    with open(marker.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = marker.read_text().split(" ", 1) if marker.is_file() else []
        if done and done[0] == run_id:
            if done[1] != "ok":
                pytest.fail(f"the book build failed in another worker: {done[1]}")
            return html_dir(quick=True)
        try:
            html = build(quick=True)
        except SystemExit as error:
            marker.write_text(f"{run_id} {error}")
            raise
        marker.write_text(f"{run_id} ok")
        return html


@pytest.fixture(scope="session")
def book_server(book_html) -> Iterator[str]:
    """The quick build served over HTTP on 127.0.0.1 (a free port) for the browser tests; yields
    its base URL."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(book_html)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
