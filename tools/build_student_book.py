"""Build the answer-free HTML edition of the book from the students' copies of the chapters.

    python tools/build_student_book.py           # normal mode, into _build/student/_build/html
    python tools/build_student_book.py --quick   # quick mode, into _build/quick/student/_build/html

sphinx-exercise's ``hide_solutions`` crashes on gated solutions (executablebooks/sphinx-exercise#89),
so the edition is a Jupyter Book project of its own, assembled in ``<edition>/source``:

1. ``tools/build_book.py`` builds (or finds up to date) the teacher's edition, whose execution
   cache then holds every chapter's outputs (``--no-html`` skips this when it just ran).
2. Every chapter gets its outputs from that cache (matched on its code cells, as Jupyter Book
   matches them) and loses its solutions through ``strip_solutions`` of
   ``tools/student_copy.py``: the cells of ``make student``'s copies, with their outputs, so
   nothing is executed again. The other files under ``book/``, ``_toc.yml`` and
   ``references.bib`` are copied as they are.
3. ``_config.yml`` is the book's with execution off (the notebooks carry their outputs),
   "student edition" in the title, and no Colab button (it opens the repository's notebook,
   solutions included; the page's download button gives the student's copy).
4. Jupyter Book builds the project with warnings as errors. Files are rewritten only when
   their content changed, so a second build re-reads only what changed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_book import build, missing_pages  # noqa: E402
from student_copy import strip_solutions  # noqa: E402

TITLE_SUFFIX = " (student edition)"


def skipped(path: Path) -> bool:
    """Files the edition leaves out: hidden ones (checkpoints, otter-grader's ``.OTTER_LOG``)
    and Python caches."""
    return any(part.startswith(".") or part == "__pycache__" for part in path.parts)


def teacher_build_root(quick: bool) -> Path:
    """The teacher's edition's Jupyter Book build folder (holding ``.jupyter_cache``)."""
    return ROOT / "_build" / ("quick/_build" if quick else "")


def edition_root(quick: bool) -> Path:
    """The student edition's folder: ``source/`` (the project) and ``_build/html``."""
    return ROOT / "_build" / ("quick/student" if quick else "student")


def html_dir(quick: bool) -> Path:
    """Where the student edition's HTML lands."""
    return edition_root(quick) / "_build" / "html"


def executed(path: Path, cache) -> nbformat.NotebookNode:
    """The notebook at ``path`` with the outputs that the execution cache holds for it."""
    nb = nbformat.read(path, as_version=4)
    try:
        _, merged = cache.merge_match_into_notebook(nb)
    except KeyError:
        raise SystemExit(
            f"the execution cache has no run of {path.relative_to(ROOT)}: build the "
            "book first (tools/build_book.py, or leave out --no-html)"
        ) from None
    return merged


def student_config() -> dict:
    """The book's ``_config.yml`` with execution off, the edition's title and no Colab button."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] += TITLE_SUFFIX
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    config.setdefault("launch_buttons", {})["colab_url"] = ""
    return config


def edition_files(quick: bool) -> tuple[dict[str, bytes], int]:
    """Every file of the edition's project (path relative to it -> content) and the number
    of solutions removed."""
    from jupyter_cache import get_cache

    cache_path = teacher_build_root(quick) / ".jupyter_cache"
    if not cache_path.is_dir():
        raise SystemExit(f"no execution cache at {cache_path.relative_to(ROOT)}: build the book first")
    cache = get_cache(str(cache_path))
    files = {
        "_config.yml": yaml.safe_dump(student_config(), sort_keys=False).encode(),
        "_toc.yml": (ROOT / "_toc.yml").read_bytes(),
        "references.bib": (ROOT / "references.bib").read_bytes(),
    }
    removed = 0
    for path in sorted((ROOT / "book").rglob("*")):
        if not path.is_file() or skipped(path.relative_to(ROOT)):
            continue
        name = path.relative_to(ROOT).as_posix()
        if path.suffix == ".ipynb":
            nb = executed(path, cache)
            removed += strip_solutions(nb)
            files[name] = nbformat.writes(nb).encode()
        else:
            files[name] = path.read_bytes()
    return files, removed


def sync(folder: Path, files: dict[str, bytes]) -> int:
    """Make ``folder`` hold exactly ``files``, writing only what changed; return how many were written."""
    written = 0
    for name, content in files.items():
        path = folder / name
        if path.is_file() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written += 1
    for path in folder.rglob("*"):
        if path.is_file() and path.relative_to(folder).as_posix() not in files:
            path.unlink()
    return written


def build_site(quick: bool) -> Path:
    """Run Jupyter Book on the assembled project; return the HTML folder."""
    root = edition_root(quick)
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(root / "source"),
        "--path-output",
        str(root),
        "--warningiserror",
        "--keep-going",
    ]
    env = {**os.environ, "SSL_BOOK_QUICK": "1" if quick else "0"}
    result = subprocess.run(command, env=env, cwd=root / "source")
    if result.returncode != 0:
        raise SystemExit(f"jupyter-book build of the student edition failed (exit {result.returncode})")
    html = html_dir(quick)
    missing = missing_pages(html)
    if missing:
        raise SystemExit(f"the student edition has no HTML page for: {', '.join(missing)}")
    return html


def build_student_book(quick: bool, html: bool = True) -> Path:
    """Build the teacher's edition unless ``html`` is false, then the student edition; return
    the student edition's HTML folder."""
    if html:
        build(quick)
    started = time.perf_counter()
    files, removed = edition_files(quick)
    written = sync(edition_root(quick) / "source", files)
    site = build_site(quick)
    print(
        f"built the student edition ({removed} solutions removed, {written} files changed) into "
        f"{site.relative_to(ROOT)} in {time.perf_counter() - started:.0f} s"
    )
    return site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="from the quick-mode build (tests)")
    parser.add_argument(
        "--no-html", action="store_true", help="skip the teacher's edition's build (only when it just ran)"
    )
    args = parser.parse_args()
    build_student_book(args.quick, html=not args.no_html)


if __name__ == "__main__":
    main()
