"""The book's structure: table of contents, notebook hygiene, chapter template, vendored assets."""

import hashlib
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

import sys  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import colab_cell  # noqa: E402
from build_book import build_command, library_key, toc_files  # noqa: E402
from student_copy import strip_solutions  # noqa: E402

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists():
    entries = toc_files()
    listed = {ROOT / e for e in entries}
    for nb in NOTEBOOKS:
        assert nb.with_suffix("") in listed, f"{nb.relative_to(ROOT)} is not listed in _toc.yml"
    for entry in entries:
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".ipynb", ".md")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {entry}, which does not exist"
    assert len(entries) == len(set(entries)), "a page is listed twice in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_hygiene(path):
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for cell in code:
        source = "".join(cell["source"])
        checked = source.lstrip().startswith(CHECK_MARK)
        if checked:
            assert cell["outputs"], f"a checked cell has no stored output to compare: {source[:80]!r}"
        else:
            assert not cell["outputs"], (
                f"outputs stored for an unchecked cell (run tools/store_checked_outputs.py): {source[:80]!r}"
            )
        assert all(o["output_type"] != "error" for o in cell["outputs"])
    colab, setup = "".join(code[0]["source"]), "".join(code[1]["source"])
    assert colab == colab_cell.cell_source(), "first cell: the Colab install cell (run tools/colab_cell.py)"
    assert "remove-cell" in code[0]["metadata"].get("tags", []), "the Colab cell is not part of the page"
    assert "seed_everything(" in setup and "get_device(" in setup, "second cell must seed and pick the device"


MAX_CELL_LINES = 30


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_are_short_enough_to_follow(path):
    """A student reads a code cell as one step: at most MAX_CELL_LINES source lines (blank lines
    count). Longer experiments are split with prose between, or their plumbing lives in ssl_book."""
    long_cells = [
        f"cell {index} ({len(''.join(cell['source']).splitlines())} lines)"
        for index, cell in enumerate(load(path)["cells"])
        if cell["cell_type"] == "code" and len("".join(cell["source"]).splitlines()) > MAX_CELL_LINES
    ]
    assert not long_cells, f"code cells over {MAX_CELL_LINES} lines: {', '.join(long_cells)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapters_have_exercises_with_solutions_and_citations(path):
    text = "".join("".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    exercises = text.count("```{exercise}")
    assert exercises >= 3, f"{path.name} has {exercises} exercises; chapters have at least three"
    assert text.count("{solution-start}") + text.count("```{solution}") >= exercises
    assert text.count("{solution-start}") == text.count("{solution-end}")
    assert "{cite}" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_students_copy_has_no_solutions(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # markers sit in cells of their own, so copies can drop them
        if "{solution-start}" in cell.source or "{solution-end}" in cell.source:
            assert cell.source.strip().count("```") == 2, (
                f"a solution marker shares its cell: {cell.source[:80]!r}"
            )
    code_before = sum(c.cell_type == "code" for c in nb.cells)
    removed = strip_solutions(nb)
    assert removed >= 3
    assert not any("{solution" in c.source for c in nb.cells)
    assert sum(c.cell_type == "code" for c in nb.cells) < code_before


def test_vendored_assets_match_their_manifest():
    vendor = ROOT / "book" / "_vendor"
    lines = (vendor / "MANIFEST.txt").read_text().splitlines()[1:]
    assert lines
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    assert not list(ROOT.glob("_static")), "a top-level _static folder would be injected into every page"


def test_library_key_follows_the_library(tmp_path, monkeypatch):
    import build_book

    (tmp_path / "ssl_book").mkdir()
    module = tmp_path / "ssl_book" / "m.py"
    module.write_text("x = 1\n")
    for name in ("requirements.txt", "pyproject.toml"):
        (tmp_path / name).write_text("")
    monkeypatch.setattr(build_book, "ROOT", tmp_path)
    first = library_key(quick=False)
    assert library_key(quick=False) == first
    assert library_key(quick=True) != first
    module.write_text("x = 2\n")
    assert library_key(quick=False) != first


def test_a_library_change_rebuilds_every_page(tmp_path):
    """Sphinx re-reads only changed files: after a library change the build must ask for all."""
    assert "--all" in build_command(tmp_path, quick=False, every_page=True)
    assert "--all" not in build_command(tmp_path, quick=False, every_page=False)
    assert build_command(tmp_path, quick=True, every_page=False)[-2:] == ["--path-output", str(tmp_path)]


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS if p.parent.name[:2] in ("14", "15", "16")], ids=lambda p: p.parent.name
)
def test_gpu_chapters_carry_their_own_cell_timeout(path):
    """On a GPU these chapters train at the full protocol, minutes per cell: the book's 300-s
    default would stop them, so each sets MyST-NB's per-notebook ``execution_timeout``."""
    notebook = json.loads(path.read_text())
    timeout = notebook["metadata"].get("mystnb", {}).get("execution_timeout")
    assert timeout is not None and timeout >= 3600
    # and they say up front what runs on a CPU, what on a GPU, and how to get a GPU runtime
    notice = "".join(notebook["cells"][1]["source"])
    assert notice.startswith(":::{admonition} CPU or GPU?") and "Change runtime type" in notice
