"""Build the whole book as one PDF: Jupyter Book's single-page HTML build, printed by Chromium.

    python tools/build_pdf.py            # normal mode, into _build/pdf/ssl-book.pdf
    python tools/build_pdf.py --quick    # SSL_BOOK_QUICK=1, into _build/quick/_build/pdf/ssl-book.pdf

1. ``tools/build_book.py`` builds the HTML book, which executes the chapters into Jupyter
   Book's execution cache (or finds them there; ``--no-html`` skips this step when it just ran).
2. Jupyter Book's ``singlehtml`` builder runs on the same sources with the same output folder,
   so it shares the execution cache and Sphinx's doctrees: it executes nothing and re-reads
   no page that the HTML build read.
3. Debian's Chromium (``/usr/bin/chromium``, driven by Playwright; nothing downloads a browser),
   with every host name but 127.0.0.1 unresolvable, opens that page from a local server, waits
   until MathJax (vendored, book/_vendor) has typeset every equation and every image has
   loaded (and fails if not), and prints A4 pages: each document of the table of contents on
   a new page, solutions open, hidden cell input left out, code wrapped rather than cut, page numbers in the footer, the
   headings as the PDF's outline.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_book import build, build_command, toc_files  # noqa: E402

PDF_NAME = "ssl-book.pdf"
PAGE_TIMEOUT_MS = 300_000
BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
MARGINS = {"top": "14mm", "bottom": "16mm", "left": "14mm", "right": "14mm"}
FOOTER = (
    '<div style="width:100%;text-align:center;font-size:8px;color:#555">'
    '<span class="pageNumber"></span></div>'
)

# Print rules on top of the theme's own @media print rules.
PRINT_CSS = """
@media print {
  /* The theme prints each page's title in a header of its own and hides the page's first h1;
     in the single page that would hide every chapter's title. */
  #jb-print-docs-body { display: none !important; }
  .bd-article h1:first-of-type { display: block !important; }
  .bd-main .bd-content { margin-left: 0 !important; }
  .ssl-book-document-start { break-before: page; }
  .toggle-button { display: none !important; }
  /* Hidden cell input (plotting plumbing) stays hidden, its "Show code" label too. */
  details.hide { display: none !important; }
  /* Code and wide blocks wrap or shrink instead of being cut at the page's edge. */
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; overflow: visible !important; }
  div.cell_output img, figure img { max-width: 100% !important; height: auto !important; }
  div.cell_input, div.cell_output, figure, table { break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; }
  mjx-container[display="true"] { overflow: visible !important; }
}
"""

# Runs in the page before printing; returns what could not be rendered.
PREPARE = r"""
async (title) => {
  // Each document of the table of contents starts a new page (Sphinx's singlehtml builder
  // marks the start of each one with <span id="document-NAME">).
  for (const marker of document.querySelectorAll('span[id^="document-"]')) {
    const start = marker.nextElementSibling || marker.parentElement;
    start.classList.add("ssl-book-document-start");
  }
  // Solutions are collapsed dropdowns on screen (sphinx-togglebutton): open them on paper.
  for (const el of document.querySelectorAll(".toggle-hidden")) el.classList.remove("toggle-hidden");
  for (const details of document.querySelectorAll("details:not(.hide)")) details.open = true;
  for (const img of document.images) img.loading = "eager";
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await Promise.all([...document.images].map((img) => img.decode().catch(() => {})));
  await document.fonts.ready;
  document.title = title;
  const problems = [];
  for (const img of document.images)
    if (!img.complete || img.naturalWidth === 0) problems.push(`image did not load: ${img.src}`);
  const untypeset = [...document.querySelectorAll(".math")].filter((el) => !el.querySelector("mjx-container"));
  if (untypeset.length) problems.push(`${untypeset.length} equations left untypeset, e.g. ` +
                                      JSON.stringify(untypeset[0].textContent.slice(0, 60)));
  for (const el of document.querySelectorAll("mjx-merror"))
    problems.push(`MathJax error: ${JSON.stringify(el.textContent.slice(0, 60))}`);
  return {problems, documents: document.querySelectorAll(".ssl-book-document-start").length,
          equations: document.querySelectorAll("mjx-container").length, images: document.images.length};
}
"""


def find_chromium() -> str | None:
    """The system's Chromium (Debian's ``chromium``), or ``None``."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def build_root(quick: bool) -> Path:
    """The folder Jupyter Book builds into (its ``_build``): output folders, cache, doctrees."""
    return ROOT / "_build" / ("quick/_build" if quick else "")


def pdf_path(quick: bool) -> Path:
    """Where the PDF is written."""
    return build_root(quick) / "pdf" / PDF_NAME


def book_title() -> str:
    """The book's title, from ``_config.yml``."""
    return yaml.safe_load((ROOT / "_config.yml").read_text())["title"]


# Jupyter Book's command line, with one fix: Sphinx takes a builder's node handlers from those
# registered under the builder's name *instead of* its format's ("html") as soon as one
# extension registers any under the name. sphinx-exercise registers three for "singlehtml",
# so every other extension's HTML nodes (MyST-NB's hidden cell input, ...) become unknown and
# the build fails (jupyter-book/jupyter-book#2322). Handlers registered for the format fill in
# the gaps. Patched in the process rather than added as an extension, because a change in the
# extensions would make Sphinx re-read every page the HTML build already read.
JUPYTER_BOOK = """
import sys
from sphinx.registry import SphinxComponentRegistry

create_translator = SphinxComponentRegistry.create_translator

def with_format_handlers(self, builder, *args):
    named = self.translation_handlers.get(builder.name)
    if named is not None:
        for node, handlers in self.translation_handlers.get(builder.format, {}).items():
            named.setdefault(node, handlers)
    return create_translator(self, builder, *args)

SphinxComponentRegistry.create_translator = with_format_handlers
from jupyter_book.cli.main import main
main(sys.argv[1:], prog_name="jupyter-book")
"""


def build_singlehtml(quick: bool) -> Path:
    """Run Jupyter Book's ``singlehtml`` builder on the HTML build's cache; return its page."""
    out = ROOT / "_build" / "quick" if quick else ROOT
    arguments = build_command(out, quick, every_page=False)[1:] + ["--builder", "singlehtml"]
    command = [sys.executable, "-c", JUPYTER_BOOK, *arguments]
    env = {**os.environ, "SSL_BOOK_QUICK": "1" if quick else "0"}
    result = subprocess.run(command, env=env, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"jupyter-book build --builder singlehtml failed (exit {result.returncode})")
    folder = build_root(quick) / "singlehtml"
    page = folder / f"{toc_files()[0]}.html"
    if not page.is_file():
        raise SystemExit(f"the singlehtml build wrote no {page.relative_to(ROOT)}")
    # The page is written where the root document lives (book/00_preface/), but its images are
    # linked as if it sat at the top (``_images/...``), so a copy goes there; its ``../../_static``
    # links still resolve, as a URL cannot climb above the top.
    top = folder / "book.html"
    shutil.copyfile(page, top)
    return top


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port); yield its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def print_page(url: str, pdf: Path, chromium: str, title: str) -> dict:
    """Open ``url`` in headless Chromium, wait for MathJax and images, print it to ``pdf``.

    Returns what the page held (documents, equations, images); raises ``SystemExit`` when an
    image did not load or an equation was not typeset.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            started = time.perf_counter()
            page.goto(url, wait_until="load")
            page.add_style_tag(content=PRINT_CSS)
            found = page.evaluate(PREPARE, title)
            if found["problems"]:
                raise SystemExit("the page did not render fully:\n  " + "\n  ".join(found["problems"][:20]))
            typeset = time.perf_counter()
            pdf.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(
                path=str(pdf),
                format="A4",
                margin=MARGINS,
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
                outline=True,
                tagged=True,
            )
        finally:
            browser.close()
    print(
        f"Chromium: page loaded and typeset in {typeset - started:.0f} s, "
        f"printed in {time.perf_counter() - typeset:.0f} s"
    )
    return found


def build_pdf(quick: bool, html: bool = True) -> Path:
    """Build the PDF; ``html=False`` trusts that the HTML build just ran (the tests' fixture)."""
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("the PDF is printed by Chromium: install Debian's `chromium` package")
    started = time.perf_counter()
    if html:
        build(quick)
    single = build_singlehtml(quick)
    built = time.perf_counter()
    pdf = pdf_path(quick)
    folder = build_root(quick) / "singlehtml"
    with serve(folder) as url:
        found = print_page(f"{url}/{single.relative_to(folder).as_posix()}", pdf, chromium, book_title())
    done = time.perf_counter()
    print(
        f"wrote {pdf.relative_to(ROOT)} ({pdf.stat().st_size / 1e6:.1f} MB: {found['documents']} documents, "
        f"{found['equations']} equations, {found['images']} images); build {built - started:.0f} s, "
        f"print {done - built:.0f} s"
    )
    return pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="run chapters in quick mode (tests)")
    parser.add_argument(
        "--no-html", action="store_true", help="skip the HTML build (only when it just ran on these sources)"
    )
    args = parser.parse_args()
    build_pdf(args.quick, html=not args.no_html)


if __name__ == "__main__":
    main()
