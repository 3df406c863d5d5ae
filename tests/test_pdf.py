"""The PDF of the whole book (``make pdf``, tools/build_pdf.py), made from the quick build.

It reuses the quick HTML build that conftest.py's ``book_html`` fixture makes once per run:
the ``singlehtml`` builder reads the executed chapters from the same execution cache and
doctrees, and Chromium prints the page. The PDF is read back with poppler-utils (Debian's
``pdftotext`` and ``pdfimages``; ``.ci/run`` installs them with Chromium).

Without Chromium, Playwright or poppler-utils the tests are skipped, unless
``SSL_BOOK_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_book import toc_files  # noqa: E402

POPPLER = ("pdftotext", "pdfimages")


def missing(what: str) -> None:
    if os.environ.get("SSL_BOOK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is required (SSL_BOOK_REQUIRE_BROWSER=1) but not installed")
    pytest.skip(f"{what} is not installed")


def normalise(text: str) -> str:
    """Ligatures unfolded, hyphens dropped (pdftotext drops those that end a line), whitespace
    collapsed, case folded: the sources and pdftotext's text of them compare equal."""
    text = re.sub(r"-\s*", "", unicodedata.normalize("NFKC", text))
    return " ".join(text.split()).casefold()


def document_title(entry: str) -> str:
    """The first ``# `` heading of a table-of-contents entry (a notebook or a markdown page)."""
    path = next(p for p in (ROOT / f"{entry}.ipynb", ROOT / f"{entry}.md") if p.is_file())
    if path.suffix == ".ipynb":
        text = "\n".join(
            c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"
        )
    else:
        text = path.read_text()
    return next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))


@pytest.fixture(scope="module")
def pdf(book_html) -> Path:
    """The PDF printed from the quick build (``book_html`` is built first, once per run)."""
    from build_pdf import build_pdf, find_chromium

    if find_chromium() is None:
        missing("Chromium (Debian's `chromium` package)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing("Playwright for Python (requirements.txt)")
    for tool in POPPLER:
        if shutil.which(tool) is None:
            missing(f"{tool} (Debian's `poppler-utils` package)")
    return build_pdf(quick=True, html=False)


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    """The text of every page, normalised."""
    return [normalise(page) for page in run("pdftotext", str(pdf), "-").split("\f")[:-1]]


@pytest.fixture(scope="module")
def starts(pages) -> dict[str, int]:
    """Table-of-contents entry -> the page that opens with its title (after its chapter
    number), found in order: every document starts a page of its own (tools/build_pdf.py
    breaks the page before each)."""
    found, page = {}, -1
    for entry in toc_files():
        title = normalise(document_title(entry))
        opens = re.compile(rf"(\d+\. )?{re.escape(title)}")
        page = next((i for i in range(page + 1, len(pages)) if opens.match(pages[i])), None)
        assert page is not None, f"no page after the previous document's opens with {title!r} ({entry})"
        found[entry] = page
    return found


def test_every_document_opens_a_page_in_toc_order(pages, starts):
    assert len(pages) >= len(toc_files())
    assert list(starts.values()) == sorted(set(starts.values())), starts


def test_every_chapter_has_a_figure(pdf, pages, starts):
    """Figures (including the static panels of interactive figures) are images in the PDF."""
    listing = run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    image_pages = {int(line.split()[0]) - 1 for line in listing}
    bounds = [*starts.values(), len(pages)]
    for (entry, first), last in zip(starts.items(), bounds[1:]):
        if (ROOT / f"{entry}.ipynb").is_file():
            assert image_pages & set(range(first, last)), f"no image on pages {first + 1}-{last} ({entry})"


def test_math_is_typeset(pages):
    """tools/build_pdf.py fails on untypeset math; here no TeX command of the chapters' math
    reached the paper as text, and MathJax's symbols did."""
    math, code = [], []
    for entry in toc_files():
        if (ROOT / f"{entry}.ipynb").is_file():
            for cell in nbformat.read(ROOT / f"{entry}.ipynb", as_version=4).cells:
                if cell.cell_type == "markdown":
                    math += re.findall(r"\$\$.+?\$\$|\$[^$\n]+\$", cell.source, flags=re.DOTALL)
                    code += re.findall(r"`[^`]*`", cell.source)
                else:
                    code.append(cell.source)
    commands = set(re.findall(r"\\[A-Za-z]+", " ".join(math))) - set(
        re.findall(r"\\[A-Za-z]+", " ".join(code))
    )
    assert len(commands) >= 10, commands
    text = " ".join(pages)
    assert not [c for c in commands if c.casefold() in text]
    assert "∑" in text and "−" in text


def test_bibliography_lists_the_references(pages, starts):
    bib = (ROOT / "references.bib").read_text()
    titles = [
        re.sub(r"[{}]", "", t)
        for t in re.findall(r"^\s*title\s*=\s*[{\"](.+?)[}\"]\s*,?\s*$", bib, flags=re.MULTILINE)
    ]
    plain = [normalise(t) for t in titles if re.fullmatch(r"[A-Za-z ,:-]+", t) and "--" not in t]
    assert len(plain) >= 5
    # each page ends with its number, which would split an entry that runs onto the next page
    back_matter = normalise(
        " ".join(re.sub(r"\s\d+$", "", page) for page in pages[starts["book/bibliography"] :])
    )
    absent = [t for t in plain if t not in back_matter]
    assert not absent, f"bibliography lacks {absent}"
