"""The chapters' Colab cell: on Colab it installs the library with pip from the repository;
elsewhere it does nothing. Proved with a simulated ``google.colab`` module and the local
checkout as the source, installed into a fresh environment."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import colab_cell  # noqa: E402

SIMULATE_COLAB = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')\n"


def test_the_cell_installs_from_the_repository_named_in_the_book_config():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    source = colab_cell.cell_source()
    assert f'"git+{url}"' in source and "--quiet" in source
    assert max(len(line) for line in source.splitlines()) <= 88
    assert "torch" not in source  # Colab's own PyTorch is kept (pyproject's ranges)


def test_the_cell_does_nothing_outside_colab(tmp_path):
    marker = tmp_path / "pip-was-called"
    fake_pip = f"import pathlib, subprocess; subprocess.run = lambda *a, **k: pathlib.Path({str(marker)!r}).touch()\n"
    subprocess.run([sys.executable, "-c", fake_pip + colab_cell.cell_source()], check=True)
    assert not marker.exists()
    subprocess.run([sys.executable, "-c", fake_pip + SIMULATE_COLAB + colab_cell.cell_source()], check=True)
    assert marker.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")
def test_on_colab_the_cell_installs_a_working_library(tmp_path):
    """A fresh environment that already has this one's packages (as Colab has torch, numpy and
    scikit-learn): the cell, run there with a simulated Colab, installs ssl_book from the local
    checkout; pip finds every dependency range satisfied (no index is reachable) and the
    library imports from the fresh environment."""
    import sysconfig

    env_dir = tmp_path / "colab"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # pip and setuptools come from here
    python = env_dir / "bin" / "python"
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(own_site, "colab_preinstalled.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # (pip reads PIP_NO_BUILD_ISOLATION=0 as --no-build-isolation)
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # a fresh interpreter
    environment = {
        **inherited,
        "SSL_BOOK_SOURCE": str(ROOT),
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_NO_INDEX": "1",
        "PYTHONNOUSERSITE": "1",
    }
    subprocess.run(
        [str(python), "-c", SIMULATE_COLAB + colab_cell.cell_source()],
        check=True,
        env=environment,
        capture_output=True,
        timeout=600,
    )
    where = subprocess.run(
        [str(python), "-c", "import ssl_book; print(ssl_book.__file__, ssl_book.__version__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=inherited,
    ).stdout
    assert where.startswith(own_site) and "0+unknown" not in where
