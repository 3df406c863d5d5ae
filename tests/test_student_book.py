"""The answer-free HTML edition (``make book-student``, tools/build_student_book.py).

Built from the quick build that conftest.py's ``book_html`` fixture makes once per run: the
chapters' outputs come from its execution cache, so nothing is executed again. For every
solution of every chapter, a phrase of its text (or a line of its code) that the teacher's
edition shows must be absent from the student edition, while every exercise's statement is
there.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_book import toc_files  # noqa: E402
from student_copy import PLACEHOLDER  # noqa: E402

CHAPTERS = sorted(entry for entry in toc_files() if (ROOT / f"{entry}.ipynb").is_file())
PLAIN_WORD = re.compile(r"[A-Za-z]+[,.;]?")
PHRASE_WORDS = 8
# The note left in each solution's place, up to its apostrophe (typeset as a curly one).
NOTE = PLACEHOLDER.strip("*()").split("'")[0]


def compact(text: str) -> str:
    """Text without whitespace, so that a phrase or code line matches however HTML spaced it."""
    return "".join(text.split())


def page_text(path: Path) -> str:
    """The visible text of an HTML page (tags dropped, entities decoded), compacted."""
    body = re.sub(r"<(script|style)\b.*?</\1>", "", path.read_text(), flags=re.DOTALL | re.IGNORECASE)
    return compact(html.unescape(re.sub(r"<[^>]+>", "", body)))


def plain_phrase(markdown: str) -> str | None:
    """The first run of ``PHRASE_WORDS`` plain words (no markup, math or code) in a paragraph."""
    for paragraph in re.split(r"\n\s*\n", markdown):
        run: list[str] = []
        for token in paragraph.split():
            run = run + [token] if PLAIN_WORD.fullmatch(token) else []
            if len(run) == PHRASE_WORDS:
                return " ".join(run)
    return None


def solutions_and_exercises(path: Path) -> tuple[list[str], list[str]]:
    """From a chapter: one distinctive phrase or code line per solution, and each exercise's
    title (or a phrase of its statement when the title holds markup)."""
    solutions, exercises, inside, block = [], [], False, []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            inside, block = True, []
        elif cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside = False
            prose = plain_phrase("\n\n".join(c.source for c in block if c.cell_type == "markdown"))
            code = [
                line.strip()
                for c in block
                if c.cell_type == "code"
                for line in c.source.splitlines()
                if not line.lstrip().startswith("#")
            ]
            if prose or code:
                solutions.append(prose or max(code, key=len))
        elif inside:
            block.append(cell)
        elif cell.cell_type == "markdown" and "```{exercise}" in cell.source:
            title = cell.source.split("```{exercise}", 1)[1].splitlines()[0].strip()
            if not re.fullmatch(r"[\w ,.:;()-]+", title) or len(title.split()) < 3:  # markup or too short
                title = plain_phrase(cell.source.split("\n\n", 1)[-1]) or title
            exercises.append(title)
    return solutions, exercises


@pytest.fixture(scope="module")
def student_html(book_html) -> Path:
    """The student edition, assembled from the quick build (``book_html`` comes first)."""
    from build_student_book import build_student_book

    return build_student_book(quick=True, html=False)


def test_every_page_is_built(student_html):
    for entry in toc_files():
        assert (student_html / f"{entry}.html").is_file(), entry


@pytest.mark.parametrize("entry", CHAPTERS, ids=lambda entry: Path(entry).parent.name)
def test_solutions_are_absent_and_exercises_present(book_html, student_html, entry):
    solutions, exercises = solutions_and_exercises(ROOT / f"{entry}.ipynb")
    assert len(solutions) >= 3 and len(exercises) >= 3, (solutions, exercises)
    teacher = page_text(book_html / f"{entry}.html")
    student = page_text(student_html / f"{entry}.html")
    for phrase in solutions:
        assert compact(phrase) in teacher, f"the teacher's edition should show {phrase!r}"
        assert compact(phrase) not in student, f"the student edition shows the solution text {phrase!r}"
    for phrase in exercises:
        assert compact(phrase) in student, f"the student edition lacks the exercise text {phrase!r}"
    assert 'class="solution' in (book_html / f"{entry}.html").read_text()
    page = (student_html / f"{entry}.html").read_text()
    assert 'class="solution' not in page
    assert student.count(compact(NOTE)) >= len(solutions)


def test_no_file_of_the_edition_holds_a_solution(student_html):
    """Downloads (``_sources``) and the search index included."""
    for path in student_html.rglob("*"):
        if path.suffix in {".html", ".ipynb", ".md", ".txt", ".js"} and path.is_file():
            text = path.read_text(errors="replace")
            assert "{solution-start}" not in text and "{solution}" not in text, path.relative_to(student_html)


def test_downloads_are_the_students_copies_with_outputs(student_html):
    for entry in CHAPTERS:
        nb = nbformat.read(student_html / "_sources" / f"{entry}.ipynb", as_version=4)
        assert any(c.cell_type == "code" and c.outputs for c in nb.cells), entry
        assert sum(PLACEHOLDER in c.source for c in nb.cells) >= 3, entry
