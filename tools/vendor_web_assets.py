"""Fetch the JavaScript the rendered book needs (MathJax 3, RequireJS, the ipywidgets HTML
manager) from the npm registry and copy a trimmed set into ``book/_vendor/``.

The copies are committed, so building and reading the book needs no network. Run this only to
upgrade them (it needs Node.js/npm): ``make vendor``. It records every file's sha256 in
``book/_vendor/MANIFEST.txt``; ``tests/test_rendered_book.py`` checks the files against it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = {"mathjax": "3.2.2", "requirejs": "2.3.8", "@jupyter-widgets/html-manager": "1.0.15"}

# (source relative to node_modules, destination relative to book/_vendor, glob or None)
SELECTION = [
    ("mathjax/es5/tex-chtml.js", "mathjax/tex-chtml.js", None),
    ("mathjax/es5/output/chtml/fonts/woff-v2", "mathjax/output/chtml/fonts/woff-v2", "*.woff"),
    ("mathjax/es5/input/tex/extensions", "mathjax/input/tex/extensions", "*.js"),
    ("mathjax/LICENSE", "mathjax/LICENSE", None),
    ("requirejs/require.js", "require.min.js", None),
    ("@jupyter-widgets/html-manager/dist/embed-amd.js", "html-manager/embed-amd.js", None),
    ("@jupyter-widgets/html-manager/dist", "html-manager", "*.woff*"),
    (
        "@jupyter-widgets/html-manager/dist/embed.js.LICENSE.txt",
        "html-manager/THIRD_PARTY_LICENSES.txt",
        None,
    ),
    ("@jupyter-widgets/html-manager/package.json", "html-manager/package.json", None),
]

VENDOR = Path(__file__).resolve().parents[1] / "book" / "_vendor"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", tmp, *specs],
            check=True,
        )
        modules = Path(tmp) / "node_modules"
        keep = VENDOR / "README.md"
        readme = keep.read_text() if keep.exists() else None
        if VENDOR.exists():
            shutil.rmtree(VENDOR)
        VENDOR.mkdir(parents=True)
        if readme:
            (VENDOR / "README.md").write_text(readme)
        for source, dest, pattern in SELECTION:
            src, dst = modules / source, VENDOR / dest
            files = (
                [(src, dst)] if pattern is None else [(f, dst / f.name) for f in sorted(src.glob(pattern))]
            )
            for f, target in files:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, target)
        lines = [
            f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(VENDOR)}"
            for p in sorted(VENDOR.rglob("*"))
            if p.is_file() and p.name not in ("MANIFEST.txt", "README.md")
        ]
        header = "# " + " ".join(f"{n}@{v}" for n, v in PACKAGES.items())
        (VENDOR / "MANIFEST.txt").write_text("\n".join([header, *lines]) + "\n")
    print(f"vendored {len(lines)} files into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
