"""Prepare chapter notebooks for committing: execute them in quick mode, keep the outputs of
cells marked ``# NBVAL_CHECK_OUTPUT`` (the test suite compares against them) and strip every
other output, so that diffs stay readable and the book build does the real execution.

    python tools/store_checked_outputs.py book/01_information_theory/information_theory.ipynb
    python tools/store_checked_outputs.py --all
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARK)


def store(path: Path, timeout: int = 600) -> None:
    nb = nbformat.read(path, as_version=4)
    os.environ["SSL_BOOK_QUICK"] = "1"
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if not is_checked(cell):
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    print(f"stored checked outputs of {path.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every notebook under book/")
    args = parser.parse_args()
    paths = sorted((ROOT / "book").rglob("*.ipynb")) if args.all else [p.resolve() for p in args.notebooks]
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    if not paths:
        parser.error("name notebooks or pass --all")
    for path in paths:
        store(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
