"""The markdown of the chapter notebooks holds no control characters inside math.

A notebook cell written from a Python string in which ``\\text``, ``\\frac``, ``\\beta`` or
``\\rho`` was not escaped ends up with a tab, form feed, backspace or carriage return in its
JSON, and the page shows broken math. Newlines are allowed (display math spans lines).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

# $$...$$ first, so that a display block is not read as two inline spans.
MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.DOTALL)
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def control_characters_in_math(text: str) -> list[str]:
    """The math spans of a markdown text that contain a control character other than a newline,
    each shown with its control characters escaped (``repr``)."""
    spans = (
        match.group(1) if match.group(1) is not None else match.group(2) for match in MATH.finditer(text)
    )
    return [repr(span) for span in spans if CONTROL.search(span)]


def test_detector_finds_a_planted_control_character():
    planted = "weights with variance $2/" + "\t" + "ext{fan-in}$ and $$\n" + "\x0c" + "rac12\n$$"
    assert len(control_characters_in_math(planted)) == 2
    for bad in ("\x08", "\r", "\x0b", "\x07"):
        assert control_characters_in_math(f"text $a {bad}eta$ text")
    clean = r"$2/\text{fan-in}$, $$\frac{1}{2}\beta\rho$$ and a tab outside math:" + "\t$x$"
    assert control_characters_in_math(clean) == []
    assert control_characters_in_math("$$\n\\nu = 1\n$$") == []


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "book")))
def test_no_control_characters_in_markdown_math(path: Path):
    notebook = nbformat.read(path, as_version=4)
    problems = [
        f"cell {index}: {span}"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown"
        for span in control_characters_in_math(cell.source)
    ]
    assert not problems, f"control characters in math of {path.name}:\n" + "\n".join(problems)
