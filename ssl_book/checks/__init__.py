"""Checks of the chapters' exercises, run by otter-grader.

Each chapter with checked exercises has a folder here named like its folder under ``book/``
(``01_information_theory``, ...), holding one otter test file in OK format per exercise,
named after the exercise's label (``info-ex-perplexity.py``). The checks ship inside the
package, so they are there wherever ``ssl_book`` is installed (a clone, a student's copy of a
chapter, Colab) and nothing is downloaded.

In a chapter::

    from ssl_book import checks

    grader = checks.grader("01_information_theory")
    ...                                  # the student's answer
    grader.check("info-ex-perplexity")   # shows which test cases pass

``grader`` wraps :class:`otter.Notebook`. The book itself creates it with
``raise_on_failure=True``, so that its tests fail when a reference solution fails its check;
students' copies (``tools/student_copy.py``) drop that argument, and a failing check only
shows otter's report. ``tools/grade.py`` grades a class's notebooks with the same files,
through otter's own grading (``otter.api.grade_submission``), which replaces the folder given
here with the teacher's copy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

CHECKS_DIR = Path(__file__).resolve().parent

__all__ = ["CHECKS_DIR", "Grader", "chapters", "grader", "questions", "tests_dir"]


def chapters() -> list[str]:
    """The chapters that have checks (their folder names under ``book/``)."""
    return sorted(p.name for p in CHECKS_DIR.iterdir() if p.is_dir() and list(p.glob("*.py")))


def tests_dir(chapter: str) -> Path:
    """The folder of a chapter's otter test files."""
    folder = CHECKS_DIR / chapter
    if not folder.is_dir():
        raise ValueError(f"no checks for chapter {chapter!r}; chapters with checks: {chapters()}")
    return folder


def questions(chapter: str) -> list[str]:
    """The names of a chapter's checks (the labels of its checked exercises)."""
    return sorted(p.stem for p in tests_dir(chapter).glob("*.py") if p.name != "__init__.py")


class Grader:
    """otter's ``Notebook`` for one chapter; ``check`` runs one exercise's test file against the
    caller's global variables (the notebook's) and returns otter's result."""

    def __init__(self, chapter: str, raise_on_failure: bool = False) -> None:
        import otter

        self.chapter = chapter
        self.raise_on_failure = raise_on_failure
        self.notebook = otter.Notebook(tests_dir=str(tests_dir(chapter)))

    def check(self, question: str, global_env: dict[str, Any] | None = None):
        if global_env is None:
            global_env = sys._getframe(1).f_globals  # the notebook's (the caller's) variables
        result = self.notebook.check(question, global_env)
        if self.raise_on_failure and not result.passed_all:
            raise AssertionError(f"the check {question!r} fails:\n{result.summary()}")
        return result


def grader(chapter: str, raise_on_failure: bool = False) -> Grader:
    """The checks of one chapter, e.g. ``grader("02_time_series")``."""
    return Grader(chapter, raise_on_failure=raise_on_failure)
