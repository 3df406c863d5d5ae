"""The first code cell of every chapter: on Google Colab it installs the book's library.

    python tools/colab_cell.py            # insert or update the cell in every chapter
    python tools/colab_cell.py --check    # exit 1 if a chapter's cell is missing or stale

A reader who opens a chapter in Colab (the launch button on every page) gets a fresh machine
without ``ssl_book``. The cell below notices Colab (``"google.colab" in sys.modules``) and
installs the library from the repository named in ``_config.yml`` (``repository: url``), with the
version ranges of ``pyproject.toml``, so Colab's own PyTorch is kept when it satisfies them; it
fetches nothing else (chapters needing the larger UCR datasets say how to get them). Anywhere
else the cell does nothing. ``SSL_BOOK_SOURCE`` overrides what is installed (a fork, a branch,
a local path), which is also how the test proves the command works offline.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIRST_LINE = "# On Google Colab: install the book's library first (elsewhere this cell does nothing)."


def repository_url() -> str:
    """The one place the repository's address is written: ``_config.yml``."""
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def cell_source() -> str:
    """The cell's code."""
    return "\n".join(
        [
            FIRST_LINE,
            "import os",
            "import subprocess",
            "import sys",
            "",
            f'REPOSITORY = "git+{repository_url()}"',
            'if "google.colab" in sys.modules:',
            '    source = os.environ.get("SSL_BOOK_SOURCE", REPOSITORY)',
            '    pip = [sys.executable, "-m", "pip", "install", "--quiet", source]',
            "    subprocess.run(pip, check=True)",
        ]
    )


def chapters() -> list[Path]:
    return sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def apply(path: Path, check: bool = False) -> bool:
    """Make the chapter's first code cell the Colab cell; returns whether it had to change."""
    notebook = json.loads(path.read_text())
    cells = notebook["cells"]
    first = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    wanted = cell_source()
    current = "".join(cells[first]["source"])
    if current == wanted:
        return False
    if check:
        return True
    new_cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": "colab-install",
        "metadata": {"tags": ["remove-cell"]},
        "outputs": [],
        "source": wanted.splitlines(keepends=True),
    }
    if current.startswith(FIRST_LINE):
        cells[first] = new_cell
    else:
        cells.insert(first, new_cell)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = [p for p in chapters() if apply(p, check=args.check)]
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
