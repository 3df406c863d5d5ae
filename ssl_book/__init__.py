"""ssl_book: the companion library of *ssl-book*, a textbook on self-supervised learning for
expressive representations of time series.

Each module holds one idea and is taught in one chapter; later chapters import it.
"""

from ssl_book.plot import use_book_style
from ssl_book.progress import progress
from ssl_book.runtime import by_mode, get_device, is_quick, seed_everything

__version__ = "0.1.0"

__all__ = ["by_mode", "get_device", "is_quick", "progress", "seed_everything", "use_book_style"]
