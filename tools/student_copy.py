"""Write students' copies of the chapters: the same notebooks without exercise solutions.

    python tools/student_copy.py book student

A solution is everything from the markdown cell holding ``{solution-start}`` to the markdown
cell holding ``{solution-end}``, code cells included (each marker sits in a cell of its own;
``tests/test_book_layout.py`` checks this), or a markdown cell holding a ``{solution}``
directive. Each removed solution leaves a one-line note in its place.

Checked exercises (``ssl_book/checks``, run by otter-grader) keep their check cell, the one
after the solution that calls ``grader.check(...)``, without its output; an empty code cell
for the student's answer goes before it. The cell that creates ``grader`` loses
``raise_on_failure=True``, so in a student's copy a failing check reports which parts fail
instead of stopping the notebook (the book itself raises, so that its tests prove the
reference solutions pass).
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import nbformat

PLACEHOLDER = "*(The solution to this exercise is in the teacher's edition.)*"
CHECKED_NOTE = (
    "Write your answer in the code cell below, under the names the exercise asks for, "
    "then run the check after it."
)
ANSWER_CELL = "# Your answer: define the names the exercise asks for, then run the check below.\n"
CHECK_CALL = re.compile(r"^grader\.check\(")
STRICT_ARGUMENT = re.compile(r",\s*raise_on_failure=True")


def is_check_cell(cell: nbformat.NotebookNode) -> bool:
    """The cell that runs an exercise's check: ``grader.check("label")``."""
    return cell.cell_type == "code" and bool(CHECK_CALL.match(cell.source.strip()))


def for_students(cells: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """Answer cells before the check cells, checks without outputs, and a lenient grader."""
    out: list[nbformat.NotebookNode] = []
    for cell in cells:
        if cell.cell_type == "code" and "checks.grader(" in cell.source:
            cell.source = STRICT_ARGUMENT.sub("", cell.source)
        if is_check_cell(cell):
            cell.outputs, cell.execution_count = [], None
            if out and out[-1].cell_type == "markdown" and out[-1].source == PLACEHOLDER:
                out[-1].source = f"{PLACEHOLDER} {CHECKED_NOTE}"
            answer = nbformat.v4.new_code_cell(ANSWER_CELL)
            answer.id = f"answer-{cell.get('id', len(out))}"[:64]
            out.append(answer)
        out.append(cell)
    return out


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
    nb.cells = for_students(kept)
    return removed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    if args.target.exists():
        shutil.rmtree(args.target)
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "_vendor", ".OTTER_LOG")  # otter's log of checks run
    shutil.copytree(args.source, args.target, ignore=skip)
    total = 0
    for path in sorted(args.target.rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        total += strip_solutions(nb)
        nbformat.write(nb, path)
    print(f"wrote students' copies to {args.target} ({total} solutions removed)")


if __name__ == "__main__":
    main()
