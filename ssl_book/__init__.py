"""ssl_book: the companion library of *ssl-book*, a textbook on self-supervised learning for
expressive representations of time series.

Each module holds one idea and is taught in one chapter; later chapters import it.
"""

from ssl_book.plot import use_book_style
from ssl_book.progress import progress
from ssl_book.runtime import by_mode, get_device, is_quick, seed_everything


def _version() -> str:
    """The installed distribution's version (pyproject.toml), or a marker when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ssl_book")
    except PackageNotFoundError:  # imported from a source tree that was never pip-installed
        return "0+unknown"


__version__ = _version()

__all__ = ["by_mode", "get_device", "is_quick", "progress", "seed_everything", "use_book_style"]
