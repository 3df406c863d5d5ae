"""Grade a class's notebooks with the chapters' checks, in one command (otter-grader, no Docker).

    python tools/grade.py SUBMISSIONS [--out grades.csv]
    make grade SUBMISSIONS=folder                       # the same, writing grades.csv

Every ``.ipynb`` under SUBMISSIONS (at any depth: one folder per student works) is a student's
copy of a chapter (``make student``), recognised by its ``checks.grader("<chapter>")`` cell, so
renamed files are fine. For each chapter, ``otter generate`` packs the chapter's checks from
this repository (``ssl_book/checks/<chapter>/``, not whatever the student has installed) into an
autograder configuration; then ``otter.api.grade_submission`` (what ``otter run`` does) runs
each notebook top to bottom in a fresh kernel of this environment, carrying on past cells that
fail, and runs every check of its chapter on the result, whether the student ran it or not.

The grade table (CSV) has one row per notebook: its path under SUBMISSIONS, its chapter, the
points of each check (one column per exercise label; each check is worth 1 point, shared
among its test cases), the total, the points possible and the percentage. A notebook that
cannot be graded gets a row with the reason. The table is printed too.

Each notebook runs its whole chapter, as long as on the student's machine (about a minute on
a laptop CPU); ``SSL_BOOK_QUICK=1`` shrinks the training as in the book's tests, and every
check holds in that mode too (the book's test run proves it). otter's local grading has no
time limit per notebook: a notebook that never finishes holds up the rest (interrupt, move it
aside, run again). The kernel is the environment's ``python3``: run this with the book's
environment (``make grade`` does).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
from pathlib import Path

import nbformat

GRADER_CALL = re.compile(r"""checks\.grader\(\s*["']([^"']+)["']""")
SKIP_PARTS = {".ipynb_checkpoints", "__pycache__"}


def chapter_of(path: Path) -> str | None:
    """The chapter a notebook belongs to: the argument of its ``checks.grader(...)`` call."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and (match := GRADER_CALL.search(cell.source)):
            return match.group(1)
    return None


def submissions(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if not SKIP_PARTS & set(p.parts))


def autograder_zip(chapter: str, workdir: Path) -> Path:
    """otter's autograder configuration for one chapter (made once per run)."""
    from otter.generate import main as generate

    from ssl_book.checks import tests_dir

    target = workdir / f"{chapter}.zip"
    if not target.exists():
        generate(
            tests_dir=str(tests_dir(chapter)),
            output_path=str(target),
            no_config=True,
            no_requirements=True,
            no_environment=True,
        )
    return target


def grade_one(path: Path, workdir: Path) -> dict:
    """{'chapter', 'scores': {label: points}, 'total', 'possible'} or {'error': reason}."""
    from otter.api import grade_submission

    from ssl_book.checks import chapters

    try:
        chapter = chapter_of(path)
    except Exception as error:  # not a notebook nbformat can read
        return {"error": f"unreadable notebook ({type(error).__name__})"}
    if chapter is None:
        return {"error": "no checks.grader(...) cell: not a chapter with checks"}
    if chapter not in chapters():
        return {"chapter": chapter, "error": f"no checks for chapter {chapter!r}"}
    results = grade_submission(str(path), str(autograder_zip(chapter, workdir)), quiet=True)
    scores = {name: float(result["score"]) for name, result in results.to_dict().items()}
    return {
        "chapter": chapter,
        "scores": scores,
        "total": float(results.total),
        "possible": float(results.possible),
    }


def grade(folder: Path, out: Path) -> list[dict]:
    """Grade every notebook under ``folder``; write the table to ``out``; return its rows."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="ssl_book_grade_") as tmp:
        for path in submissions(folder):
            name = path.relative_to(folder).as_posix()
            print(f"grading {name} ...", file=sys.stderr, flush=True)
            rows.append({"submission": name, **grade_one(path, Path(tmp))})
    labels = sorted({label for row in rows for label in row.get("scores", {})})
    header = ["submission", "chapter", *labels, "total", "possible", "percent", "error"]
    table = []
    for row in rows:
        scores, possible = row.get("scores", {}), row.get("possible")
        line = {
            "submission": row["submission"],
            "chapter": row.get("chapter", ""),
            **{label: _number(scores.get(label)) for label in labels},
            "total": _number(row.get("total")),
            "possible": _number(possible),
            "percent": _number(100 * row["total"] / possible) if possible else "",
            "error": row.get("error", ""),
        }
        table.append(line)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(table)
    return table


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def print_table(table: list[dict]) -> None:
    """The short form: submission, chapter, total / possible, percentage, error."""
    width = max([len("submission"), *(len(row["submission"]) for row in table)])
    print(f"{'submission':<{width}}  {'chapter':<28} {'points':>9} {'%':>6}")
    for row in table:
        points = f"{row['total']}/{row['possible']}" if row["possible"] else "-"
        print(
            f"{row['submission']:<{width}}  {row['chapter']:<28} {points:>9} "
            f"{row['percent']:>6} {row['error']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="folder holding the students' notebooks")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="the CSV grade table")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    table = grade(args.submissions, args.out)
    if not table:
        parser.error(f"no .ipynb under {args.submissions}")
    print_table(table)
    print(f"\nwrote {args.out} ({len(table)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
