"""A reader's own data: a TRAIN file and a TEST file, read with the checks of the UCR loader.

Two formats, chosen by the file's suffix (the two files may differ):

* ``.tsv``: the UCR archive's format. One series per line, the class label (a number) in the
  first column, then the values, tab-separated, no header; every line has the same number of
  columns (shorter series padded with ``NaN``).
* ``.npz``: a NumPy archive holding an array ``x`` of shape ``(n, length)`` (numbers) and an
  array ``y`` of shape ``(n,)`` (numbers or text), as written by ``np.savez(path, x=x, y=y)``.

:func:`load_series_files` returns a :class:`ssl_book.data.UCRDataset`, so that everything
written for the archive (the NC-VQVAE pipeline, the FCN evaluator) runs on the reader's data.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import numpy as np

from ssl_book.data.ucr import UCRDataError, UCRDataset, build_dataset, read_ucr_tsv, sha256_of

#: The file types :func:`read_series_file` reads.
SUFFIXES = (".tsv", ".npz")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")
_SPLIT_SUFFIX = re.compile(r"[_.-]?(train|training)$", re.IGNORECASE)
FORMATS = (
    "a UCR-format .tsv (a numeric label, then the values, tab-separated) or an .npz "
    "holding arrays x (n, length) and y (n,)"
)


def check_dataset_name(name: str) -> str:
    """``name`` if it can name a dataset's folder (letters, digits, ``_.+-``, at most 100
    characters, starting with a letter or digit); else ``ValueError``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"dataset name {name!r} cannot name a folder: use letters, digits and _.+- "
            f"(at most 100 characters, starting with a letter or digit)"
        )
    return name


def dataset_name_from(path: str | Path) -> str:
    """The default name of the data in ``path``: its file name without suffix and without a
    trailing ``_TRAIN`` (``Waves_TRAIN.tsv`` -> ``Waves``)."""
    stem = Path(path).stem
    return check_dataset_name(_SPLIT_SUFFIX.sub("", stem) or stem)


def _check_file(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        raise UCRDataError(f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; give {FORMATS}")
    if not path.is_file():
        raise UCRDataError(f"{path} does not exist (or is not a file)")
    return path


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``x`` ``(n, length)`` and ``y`` ``(n,)`` from an ``.npz`` file.

    Returns:
        ``series`` ``(n, length)`` float64 (NaN kept) and ``labels`` ``(n,)``: float64 for
        numbers, ``str`` for text.

    Raises:
        UCRDataError: an unreadable file, a missing array, wrong shapes or types, no series,
            a missing label; the message names the file.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            held = list(archive.files)
            arrays = {key: archive[key] for key in ("x", "y") if key in held}
    except (OSError, ValueError, zipfile.BadZipFile) as err:  # not a zip; object arrays
        raise UCRDataError(f"{path} is not a readable .npz file of numbers ({err})") from None
    for key in ("x", "y"):
        if key not in arrays:
            raise UCRDataError(
                f"{path} lacks the array {key!r} (it holds {held}); write it with "
                f"np.savez(path, x=series, y=labels)"
            )
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or x.dtype.kind not in "biuf":
        raise UCRDataError(
            f"{path}: x must be an (n, length) array of numbers, got shape {x.shape} and dtype {x.dtype}"
        )
    if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "biufUS":
        raise UCRDataError(
            f"{path}: y must be an ({len(x)},) array of labels (numbers or text), one "
            f"per row of x; got shape {y.shape} and dtype {y.dtype}"
        )
    if x.size == 0:
        raise UCRDataError(f"{path} is empty: x has shape {x.shape}")
    labels = y.astype(str) if y.dtype.kind in "US" else y.astype(np.float64)
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise UCRDataError(f"{path} has a missing (NaN) class label in y")
    return x.astype(np.float64), labels


def read_series_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(series (n, length) float64, labels (n,))`` from a ``.tsv`` or ``.npz`` file (see the
    module's docstring); ``UCRDataError`` naming the file for a missing or malformed one."""
    path = _check_file(path)
    return read_npz(path) if path.suffix.lower() == ".npz" else read_ucr_tsv(path)


def files_sha256(train: str | Path, test: str | Path) -> str:
    """The sha256 (hex) of the pair: a hash of the two files' own sha256, TRAIN first. It names
    the data in a run's configuration, so that changed files never resume an old run."""
    both = "\n".join(sha256_of(_check_file(path)) for path in (train, test))
    return hashlib.sha256(both.encode()).hexdigest()


def load_series_files(
    train: str | Path,
    test: str | Path,
    name: str | None = None,
    *,
    normalize: str = "global",
    nan: str = "raise",
    sha256: str | None = None,
) -> UCRDataset:
    """Load the reader's own TRAIN and TEST files as a :class:`ssl_book.data.UCRDataset`.

    Args:
        train, test: ``.tsv`` or ``.npz`` files (formats in the module's docstring).
        name: the dataset's name (default: from the TRAIN file, ``Waves_TRAIN.tsv`` -> ``Waves``).
        normalize: as for :func:`ssl_book.data.load_ucr` (``"global"``: the thesis's one mean
            and standard deviation of the training set).
        nan: ``"raise"`` (default: in one's own data a NaN is more likely an error than
            padding) or ``"zero"`` (missing values become 0 after normalising, as for the
            variable-length UCR datasets).
        sha256: if given, the :func:`files_sha256` the files must have (a recorded run's data).

    Returns:
        The dataset: ``x_train`` ``(n_train, L)`` and ``x_test`` ``(n_test, L)`` float32,
        labels int64 in ``0..C-1`` (``classes`` holds the original labels, sorted).

    Raises:
        UCRDataError: a missing or unsupported file, ragged rows, a non-numeric value or
            label, an empty file, TRAIN and TEST of different lengths, one class only in
            TRAIN, a TEST label unseen in TRAIN, NaN with ``nan="raise"``, or files that
            differ from ``sha256``; each message names the file and the problem.
    """
    train, test = _check_file(train), _check_file(test)
    name = check_dataset_name(dataset_name_from(train) if name is None else name)
    if sha256 is not None and (actual := files_sha256(train, test)) != sha256:
        raise UCRDataError(
            f"{train} and {test} changed since the run was configured: their "
            f"sha256 is {actual}, the configuration records {sha256}"
        )
    return build_dataset(
        name,
        (*read_series_file(train), train),
        (*read_series_file(test), test),
        train.parent,
        normalize=normalize,
        nan=nan,
    )
