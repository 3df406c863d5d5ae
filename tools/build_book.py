"""Build the rendered book: execute every chapter, fail on any error or warning, and check
that every page of the table of contents was produced.

    python tools/build_book.py            # normal mode, into _build/html
    python tools/build_book.py --quick    # SSL_BOOK_QUICK=1, into _build/quick/_build/html

Jupyter Book caches executed notebooks by their code cells only, and Sphinx re-reads only the
pages whose files changed, so a change in ``ssl_book`` would not re-execute anything. This
script keys the build on the library: it hashes ``ssl_book/`` (and the requirements), and
whenever the hash changes it clears the execution cache and rebuilds every page.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def library_key(quick: bool) -> str:
    """sha256 over the library's source and data, the requirements, and the mode."""
    digest = hashlib.sha256(f"quick={quick}".encode())
    files = sorted(p for p in (ROOT / "ssl_book").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in [*files, ROOT / "requirements.txt", ROOT / "pyproject.toml"]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document named in ``_toc.yml`` (without suffix), root first."""
    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


def html_dir(quick: bool) -> Path:
    return ROOT / "_build" / ("quick/_build/html" if quick else "html")


def missing_pages(html: Path) -> list[str]:
    return [f for f in toc_files() if not (html / f"{Path(f).with_suffix('')}.html").is_file()]


def build_command(out: Path, quick: bool, every_page: bool) -> list[str]:
    """The ``jupyter-book build`` command line; ``every_page`` re-reads unchanged pages too."""
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--warningiserror",
        "--keep-going",
    ]
    if quick:
        command += ["--path-output", str(out)]
    return command + (["--all"] if every_page else [])


def build(quick: bool) -> Path:
    """Run Jupyter Book; return the HTML folder. Raises ``SystemExit`` on failure."""
    out = ROOT / "_build" / "quick" if quick else ROOT
    cache = (out / "_build" if quick else ROOT / "_build") / ".jupyter_cache"
    stamp = cache.parent / "ssl_book.key"
    key = library_key(quick)
    library_changed = not stamp.exists() or stamp.read_text() != key
    if library_changed and cache.exists():
        print("ssl_book changed since the last build: clearing the execution cache, rebuilding every page")
        shutil.rmtree(cache)
    env = dict(os.environ)
    env["SSL_BOOK_QUICK"] = "1" if quick else "0"
    # the kernels draw figures inline: a non-interactive backend set for the caller (the test
    # suite sets MPLBACKEND=Agg) would make every plt.show() emit nothing, leaving pages blank
    env.pop("MPLBACKEND", None)
    command = build_command(out, quick, every_page=library_changed)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"jupyter-book build failed (exit {result.returncode}); see the log above")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(key)
    html = html_dir(quick)
    missing = missing_pages(html)
    if missing:
        raise SystemExit(f"the build produced no HTML page for: {', '.join(missing)}")
    print(f"built {len(toc_files())} pages into {html} in {time.perf_counter() - started:.0f} s")
    return html


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="run chapters in quick mode (tests)")
    build(parser.parse_args().quick)


if __name__ == "__main__":
    main()
