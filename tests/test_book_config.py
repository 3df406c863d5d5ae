"""Reuse, citation, version and launch settings: _config.yml, CITATION.cff, CHANGELOG.md,
the licences, and the places that repeat the repository URL and the version.

The repository URL is written down once, as ``repository: url:`` in ``_config.yml``; every
other file that names it is checked against it here. The version is in pyproject.toml,
CITATION.cff, _config.yml and CHANGELOG.md (README.md, "Releasing"); they must agree.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PREFACE = ROOT / "book" / "00_preface" / "preface.md"
GITHUB_REPO_URL = re.compile(r"https?://github\.com/[\w.-]+/[\w.-]*\w")


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


@pytest.fixture(scope="module")
def canonical_url(config):
    return config["repository"]["url"]


@pytest.fixture(scope="module")
def cff():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


@pytest.fixture(scope="module")
def pyproject():
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


# --- repository -----------------------------------------------------------------------------


def test_repository_section(config, canonical_url):
    repo = config["repository"]
    assert canonical_url == "https://github.com/ssl-book/ssl-book"
    assert repo["branch"] == "main"
    # _config.yml sits at the repository's root, so the book's path inside it is empty
    assert "path_to_book" in repo and (ROOT / repo["path_to_book"] / "_config.yml").is_file()


@pytest.mark.parametrize("name", ["CITATION.cff", "README.md", "CHANGELOG.md", "book/00_preface/preface.md"])
def test_every_repository_url_is_the_canonical_one(name, canonical_url):
    text = (ROOT / name).read_text()
    assert canonical_url in text, f"{name} does not name the repository {canonical_url}"
    for url in GITHUB_REPO_URL.findall(text):
        assert url == canonical_url or url.startswith(canonical_url + "/"), (
            f"{name} names {url}; the repository is {canonical_url} (_config.yml repository: url:)"
        )


# --- launch buttons -------------------------------------------------------------------------


def final_sphinx_config():
    """Sphinx's configuration as `jupyter-book build` derives it from _config.yml (no build)."""
    from jupyter_book.config import get_final_config

    return get_final_config(
        user_yaml=ROOT / "_config.yml",
        sourcedir=ROOT,
        raise_on_invalid=True,
        cli_config={"latex_individualpages": False},
    )


def test_launch_buttons_in_config(config):
    launch = config["launch_buttons"]
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["notebook_interface"] in {"classic", "jupyterlab"}
    assert isinstance(launch.get("binderhub_url", ""), str)
    assert launch.get("thebe") is False  # thebe would load a kernel's scripts from the network
    assert config["html"]["use_repository_button"] is True


def test_theme_gets_the_buttons(canonical_url):
    """What sphinx-book-theme receives after Jupyter Book 1 translates _config.yml."""
    sphinx_config, _ = final_sphinx_config()
    theme = sphinx_config["html_theme_options"]
    assert theme["repository_url"] == canonical_url
    assert theme["repository_branch"] == "main"
    assert theme["path_to_docs"] == ""
    assert theme["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    # the download button (.ipynb on chapter pages) is the theme's default; nothing turns it off
    assert theme.get("use_download_button", True) is True
    assert "CC BY-SA 4.0" in theme["extra_footer"] and "MIT" in theme["extra_footer"]
    assert sphinx_config["myst_substitutions"]["version"]


def test_launch_buttons_are_built_for_a_chapter(canonical_url):
    """The theme's own link builder, fed a chapter page's context, makes the Colab link."""
    from types import SimpleNamespace

    from sphinx_book_theme.header_buttons.launch import add_launch_buttons

    sphinx_config, _ = final_sphinx_config()
    theme = sphinx_config["html_theme_options"]
    org, repo = canonical_url.removeprefix("https://github.com/").split("/")
    page = "book/01_information_theory/information_theory"
    context = {
        "pagename": page,
        "header_buttons": [],
        "sourcename": f"{page}.ipynb",
        "github_url": "https://github.com",
        "github_user": org,
        "github_repo": repo,
    }
    env = SimpleNamespace(
        metadata={page: {"kernelspec": {"name": "python3"}}}, doc2path=lambda name: ROOT / f"{name}.ipynb"
    )
    app = SimpleNamespace(config={"html_theme_options": theme}, env=env)
    try:
        add_launch_buttons(app, page, "page.html", context, None)
    except (AttributeError, KeyError, TypeError) as error:  # the theme's internals moved
        pytest.skip(f"sphinx-book-theme's add_launch_buttons has another shape: {error!r}")
    urls = [b["url"] for group in context["header_buttons"] for b in group.get("buttons", [])]
    assert f"https://colab.research.google.com/github/{org}/{repo}/blob/main/{page}.ipynb" in urls


# --- licences ------------------------------------------------------------------------------


def test_licence_files_and_where_they_are_named(config, cff, pyproject):
    assert pyproject["license"] == "MIT" == cff["license"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    content = (ROOT / "LICENSE-CONTENT").read_text()
    assert "CC BY-SA 4.0" in content and "https://creativecommons.org/licenses/by-sa/4.0/" in content
    footer = config["html"]["extra_footer"]
    assert "https://creativecommons.org/licenses/by-sa/4.0/" in footer and "MIT" in footer
    assert not re.search(r"<(script|link|img|iframe)\b", footer, re.IGNORECASE), "footer must stay offline"
    readme = (ROOT / "README.md").read_text()
    assert "\n## Licence\n" in readme and "LICENSE-CONTENT" in readme


# --- citation ------------------------------------------------------------------------------

CFF_KEYS = {
    "abstract",
    "authors",
    "cff-version",
    "commit",
    "contact",
    "date-released",
    "doi",
    "identifiers",
    "keywords",
    "license",
    "license-url",
    "message",
    "preferred-citation",
    "references",
    "repository",
    "repository-artifact",
    "repository-code",
    "title",
    "type",
    "url",
    "version",
}  # the top-level properties of the CFF 1.2.0 schema


def test_citation_cff_is_valid(cff, canonical_url):
    for key in [
        "cff-version",
        "message",
        "title",
        "authors",
        "version",
        "date-released",
        "license",
        "repository-code",
        "type",
    ]:
        assert cff.get(key), f"CITATION.cff lacks {key}"
    assert set(cff) <= CFF_KEYS, f"keys the CFF 1.2.0 schema does not allow: {set(cff) - CFF_KEYS}"
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert isinstance(cff["version"], str)
    # the schema wants a string date; an unquoted YAML date would load as a datetime.date
    assert isinstance(cff["date-released"], str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", cff["date-released"])
    assert cff["repository-code"] == canonical_url
    for author in cff["authors"]:
        assert author.get("name") or author.get("family-names")
    for ref in cff.get("references", []):
        assert {"authors", "title", "type"} <= set(ref)


def test_preface_says_how_to_cite(cff, canonical_url, config):
    text = PREFACE.read_text()
    assert "## How to cite" in text
    bibtex = re.search(r"```bibtex\n(.*?)```", text, re.DOTALL)
    assert bibtex, "the preface's BibTeX entry is missing"
    entry = bibtex.group(1)
    title = r"title\s*=\s*\{" + re.escape(cff["title"]) + r"\}"
    assert re.search(title, entry), "BibTeX title differs from CITATION.cff"
    assert canonical_url in entry
    assert entry.count("{") == entry.count("}")
    assert "{{ version }}" in text and "version" in config["parse"]["myst_substitutions"]


# --- version -------------------------------------------------------------------------------


def changelog_releases() -> list[tuple[str, str]]:
    text = (ROOT / "CHANGELOG.md").read_text()
    return re.findall(r"^## \[(\d+\.\d+\.\d+[^\]]*)\] - (\d{4}-\d{2}-\d{2})$", text, re.MULTILINE)


def test_versions_agree(pyproject, cff, config):
    version = pyproject["version"]
    releases = changelog_releases()
    assert releases, "CHANGELOG.md has no released version"
    assert cff["version"] == version, "CITATION.cff's version differs from pyproject.toml's"
    assert config["parse"]["myst_substitutions"]["version"] == version, "_config.yml's version differs"
    assert releases[0] == (version, cff["date-released"]), "CHANGELOG.md's newest release differs"


def test_changelog_keeps_a_changelog_shape():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog\n") and "keepachangelog.com" in text
    assert "\n## [Unreleased]\n" in text
    versions = [v for v, _ in changelog_releases()]
    assert versions == sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".")[:3]), reverse=True)
    for version in ["Unreleased", *versions]:
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.MULTILINE), (
            f"no link for [{version}]"
        )


def test_version_comes_from_the_installed_package(pyproject, monkeypatch):
    import importlib.metadata

    import ssl_book

    assert ssl_book.__version__ == importlib.metadata.version("ssl_book")
    assert ssl_book.__version__ == pyproject["version"], (
        "the installed metadata is stale: reinstall (pip install --no-deps -e .)"
    )

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert ssl_book._version() == "0+unknown"
