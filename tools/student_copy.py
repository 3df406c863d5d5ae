"""Write students' copies of the chapters: the same notebooks without exercise solutions.

    python tools/student_copy.py book student

A solution is everything from the markdown cell holding ``{solution-start}`` to the markdown
cell holding ``{solution-end}``, code cells included (each marker sits in a cell of its own;
``tests/test_book_layout.py`` checks this), or a markdown cell holding a ``{solution}``
directive. Each removed solution leaves a one-line note in its place.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import nbformat

PLACEHOLDER = "*(The solution to this exercise is in the teacher's edition.)*"


def strip_solutions(nb: nbformat.NotebookNode) -> int:
    """Remove solutions from ``nb`` in place; return how many were removed."""
    kept, removed, inside = [], 0, False
    for cell in nb.cells:
        text = cell.source if cell.cell_type == "markdown" else ""
        if "{solution-start}" in text:
            if inside:
                raise ValueError("a {solution-start} opens inside another solution")
            inside, removed = True, removed + 1
            kept.append(nbformat.v4.new_markdown_cell(PLACEHOLDER))
        elif "{solution-end}" in text:
            if not inside:
                raise ValueError("a {solution-end} has no matching {solution-start}")
            inside = False
        elif "```{solution}" in text and not inside:
            removed += 1
            kept.append(nbformat.v4.new_markdown_cell(PLACEHOLDER))
        elif not inside:
            kept.append(cell)
    if inside:
        raise ValueError("a {solution-start} has no matching {solution-end}")
    nb.cells = kept
    return removed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    if args.target.exists():
        shutil.rmtree(args.target)
    shutil.copytree(args.source, args.target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_vendor"))
    total = 0
    for path in sorted(args.target.rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        total += strip_solutions(nb)
        nbformat.write(nb, path)
    print(f"wrote students' copies to {args.target} ({total} solutions removed)")


if __name__ == "__main__":
    main()
