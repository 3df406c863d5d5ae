"""The rendered book: every page is built, nothing is loaded from the network, and in a real
browser (headless Chromium, all host names unresolvable) the math is typeset and the widgets
render.

The build runs the chapters in quick mode into ``_build/quick`` (reusing its execution cache
while ``ssl_book`` is unchanged). Without Chromium these tests are skipped, unless
``SSL_BOOK_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes a missing browser a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_book import toc_files  # noqa: E402

MATH_PAGE = "book/01_information_theory/information_theory"
WIDGET_PAGE = "book/01_information_theory/information_theory"
EXTERNAL = re.compile(r"""<(?:script[^>]*\ssrc|link[^>]*\shref)=["'](?:https?:)?//""", re.IGNORECASE)
CSS_IMPORT = re.compile(
    r"""@import\s+(?:url\()?["']?(?:https?:)?//|url\(["']?(?:https?:)?//""", re.IGNORECASE
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture(scope="session")
def html(book_html) -> Path:
    """The quick build, shared with tests/test_browser_layout.py (conftest.py builds it once)."""
    return book_html


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("SSL_BOOK_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "Chromium is required (SSL_BOOK_REQUIRE_BROWSER=1) but not installed; "
                "install Debian's `chromium` package"
            )
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    return path


def render(chromium: str, url: str, tmp_path: Path) -> str:
    """The page's DOM after its scripts ran, with every host name except 127.0.0.1 unresolvable."""
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--virtual-time-budget=20000",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_every_toc_entry_has_a_page(html):
    for entry in toc_files():
        assert (html / f"{entry}.html").is_file(), entry


def test_no_page_shows_a_machine_path(html):
    """Outputs name files relative to the repository, never by this machine's folders."""
    markers = {str(ROOT), os.environ.get("SSL_BOOK_UCR_ROOT", ""), str(Path.home() / ".cache")} - {"", "/"}
    for page in html.rglob("*.html"):
        text = page.read_text(errors="replace")
        for marker in markers:
            assert marker not in text, f"{page.relative_to(html)} shows the machine path {marker!r}"


def test_no_page_loads_anything_from_the_network(html):
    pages = list(html.rglob("*.html"))
    assert pages
    for page in pages:
        match = EXTERNAL.search(page.read_text(errors="replace"))
        assert match is None, f"{page.relative_to(html)} references {match.group(0)!r}"
    for sheet in html.rglob("*.css"):
        match = CSS_IMPORT.search(sheet.read_text(errors="replace"))
        assert match is None, f"{sheet.relative_to(html)} imports {match.group(0)!r}"


def test_tables_that_cells_display_are_html_tables(html):
    """A Markdown table a cell displays must not end up as a paragraph of pipes (the separator
    row |---| then shows as |—| after smart quotes)."""
    for page in html.rglob("*.html"):
        assert "|—|" not in page.read_text(errors="replace"), (
            f"{page.relative_to(html)}: a table rendered as text"
        )
    assert "<table" in (html / "book/16_results/results.html").read_text()


def test_pages_show_the_figures_their_notebooks_draw(html):
    """A chapter that shows a matplotlib figure has it as an image in its page, although the test
    suite itself runs with the non-interactive Agg backend (conftest.py)."""
    drawn = [name for name in toc_files() if "plt.show()" in _source(name)]
    assert drawn, "no notebook draws a figure: the test looks for the wrong thing"
    for name in drawn:
        page = (html / f"{name}.html").read_text(errors="replace")
        assert 'src="../../_images/' in page, f"{name}: its notebook draws figures, its page has none"


def _source(name: str) -> str:
    path = ROOT / f"{name}.ipynb"
    return path.read_text() if path.is_file() else ""


def test_math_is_typeset_offline(chromium, book_server, tmp_path):
    dom = render(chromium, f"{book_server}/{MATH_PAGE}.html", tmp_path)
    assert dom.count("<mjx-container") > 10


def test_widgets_render_offline(chromium, book_server, tmp_path):
    dom = render(chromium, f"{book_server}/{WIDGET_PAGE}.html", tmp_path)
    assert "widget-slider" in dom, "the ipywidgets HTML manager did not render the sliders"
