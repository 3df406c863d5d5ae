"""Reading the UCR Time Series Classification Archive (2018 layout).

Layout: ``<root>/<Name>/<Name>_TRAIN.tsv`` and ``<Name>_TEST.tsv``, tab-separated, one series
per line, the class label in the first column, no header.

Where files come from, in order:

1. the ``root`` argument, if given (and then only there);
2. the folder named by the environment variable ``SSL_BOOK_UCR_ROOT`` (a reader's download
   of the archive; this repository's Makefile points it at ``../shared/data/ucr``);
3. the small datasets bundled with the package (``ssl_book.data.BUNDLED``).

Every file whose checksum the registry knows is verified before it is parsed.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssl_book.data.registry import BUNDLED, REGISTRY

UCR_ROOT_ENV = "SSL_BOOK_UCR_ROOT"
BUNDLED_ROOT = Path(__file__).resolve().parent / "ucr"
ARCHIVE_URL = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/"
SPLITS = ("TRAIN", "TEST")


class UCRDataError(ValueError):
    """A UCR file is missing, corrupted or malformed."""


@dataclass(frozen=True)
class UCRDataset:
    """A UCR dataset with labels encoded ``0..C-1``.

    Attributes:
        x_train: ``(n_train, length)`` float32 series.
        y_train: ``(n_train,)`` int64 labels in ``0..C-1``.
        x_test: ``(n_test, length)`` float32 series.
        y_test: ``(n_test,)`` int64 labels in ``0..C-1``.
        classes: ``(C,)`` the archive's original labels; ``classes[k]`` is encoded as ``k``.
        folder: where the files were read from.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray
    folder: Path

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def length(self) -> int:
        return self.x_train.shape[1]

    def __repr__(self) -> str:
        return (f"UCRDataset({self.name!r}: train {self.x_train.shape}, test {self.x_test.shape}, "
                f"{self.n_classes} classes, from {self.folder})")


_verified: set[tuple[str, int, int]] = set()


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str) -> None:
    """Raise ``UCRDataError`` unless ``path`` has sha256 ``expected`` (cached per file version)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise UCRDataError(
            f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}. The file is "
            f"corrupted or not the UCR archive 2018 version; download it again from {ARCHIVE_URL}")
    _verified.add(key)


def read_ucr_tsv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse one UCR ``.tsv`` file into ``(series, labels)``.

    Returns:
        ``series`` of shape ``(n, length)`` (float64, NaN kept) and ``labels`` of shape ``(n,)``.

    Raises:
        UCRDataError: empty file, ragged rows or non-numeric values, naming the file and row.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)     # "input contained no data": see below
            table = np.loadtxt(path, delimiter="\t", ndmin=2, dtype=np.float64, comments=None)
    except ValueError as err:
        raise UCRDataError(f"{path} is not a valid UCR file ({err}). Each line must hold a label "
                           f"and the same number of tab-separated numbers; re-download it from "
                           f"{ARCHIVE_URL}") from None
    if table.size == 0:
        raise UCRDataError(f"{path} is empty; re-download it from {ARCHIVE_URL}")
    if table.shape[1] < 2:
        raise UCRDataError(f"{path} has only one column: a UCR file holds a label and then the series")
    labels, series = table[:, 0], table[:, 1:]
    if np.isnan(labels).any():
        raise UCRDataError(f"{path} has a missing (NaN) class label in its first column")
    return series, labels


def _unknown_name_error(name: str) -> UCRDataError:
    hint = difflib.get_close_matches(name, REGISTRY, n=1, cutoff=0.6)
    did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
    return UCRDataError(
        f"unknown UCR dataset {name!r}.{did_you_mean} Bundled with ssl_book: {', '.join(BUNDLED)}. "
        f"Others are read from a UCR archive folder: pass root=... or set {UCR_ROOT_ENV}.")


def _candidate_roots(root: str | Path | None) -> list[Path]:
    if root is not None:
        root = Path(root).expanduser()
        if not root.is_dir():
            raise UCRDataError(f"UCR root folder {root} does not exist")
        return [root]
    roots = []
    env = os.environ.get(UCR_ROOT_ENV)
    if env:
        env_root = Path(env).expanduser()
        if not env_root.is_dir():
            raise UCRDataError(f"{UCR_ROOT_ENV}={env} is not a folder; point it at your copy of "
                               f"the UCR archive 2018 (the folder holding <Name>/<Name>_TRAIN.tsv)")
        roots.append(env_root)
    roots.append(BUNDLED_ROOT)
    return roots


def locate_ucr(name: str, root: str | Path | None = None) -> Path:
    """The folder holding ``<name>_TRAIN.tsv`` and ``<name>_TEST.tsv``.

    Raises:
        UCRDataError: an unknown name, or a dataset missing (or incomplete) in every root,
            with what to do about it.
    """
    roots = _candidate_roots(root)
    folders = [r / name for r in roots if (r / name).is_dir()]
    if not folders:
        if name not in REGISTRY:
            raise _unknown_name_error(name)
        raise UCRDataError(
            f"UCR dataset {name!r} is not bundled with ssl_book and was not found in "
            f"{', '.join(str(r) for r in roots)}. Download the UCR archive 2018 from {ARCHIVE_URL}, "
            f"unpack it, and set {UCR_ROOT_ENV}=/path/to/UCRArchive_2018 (or pass root=...).")
    folder = folders[0]
    for split in SPLITS:
        file = folder / f"{name}_{split}.tsv"
        if not file.is_file():
            raise UCRDataError(f"{file} is missing: the copy of {name} in {folder} is incomplete. "
                               f"Get both files from the UCR archive 2018 ({ARCHIVE_URL}).")
    return folder


def _read_split(folder: Path, name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    path = folder / f"{name}_{split}.tsv"
    info = REGISTRY.get(name)
    expected = None if info is None else (info.sha256_train if split == "TRAIN" else info.sha256_test)
    if expected is not None:
        verify_checksum(path, expected)
    return read_ucr_tsv(path)


def load_ucr(name: str, root: str | Path | None = None, *, normalize: str = "global",
             nan: str = "zero") -> UCRDataset:
    """Load a UCR dataset with its original train/test split.

    Args:
        name: the archive's name, e.g. ``"ECG5000"`` (case-sensitive).
        root: a UCR archive folder; by default ``$SSL_BOOK_UCR_ROOT``, then the bundled data.
        normalize: ``"global"`` (the thesis's preprocessing: one scalar mean and standard
            deviation computed over the whole training set, applied to train and test) or
            ``"none"`` (the archive's values; they are already z-normalised per series).
        nan: ``"zero"`` (the thesis's choice: missing values, which mark padding in the
            variable-length datasets, become 0 after normalising) or ``"raise"``.

    Returns:
        A :class:`UCRDataset` with float32 series and int64 labels ``0..C-1`` (encoded from the
        sorted training labels).
    """
    if normalize not in ("global", "none"):
        raise ValueError(f"normalize must be 'global' or 'none', got {normalize!r}")
    if nan not in ("zero", "raise"):
        raise ValueError(f"nan must be 'zero' or 'raise', got {nan!r}")
    folder = locate_ucr(name, root)
    x_train, labels_train = _read_split(folder, name, "TRAIN")
    x_test, labels_test = _read_split(folder, name, "TEST")
    if x_train.shape[1] != x_test.shape[1]:
        raise UCRDataError(f"{name}: TRAIN series have length {x_train.shape[1]} but TEST series "
                           f"have length {x_test.shape[1]}")
    if nan == "raise" and (np.isnan(x_train).any() or np.isnan(x_test).any()):
        raise UCRDataError(f"{name} has missing values (NaN); use nan='zero' to set them to 0")

    classes = np.unique(labels_train)
    unseen = np.setdiff1d(np.unique(labels_test), classes)
    if unseen.size:
        raise UCRDataError(f"{name}: TEST has labels {unseen.tolist()} that TRAIN lacks")
    y_train = np.searchsorted(classes, labels_train).astype(np.int64)
    y_test = np.searchsorted(classes, labels_test).astype(np.int64)

    if normalize == "global":
        mean, std = np.nanmean(x_train), np.nanstd(x_train)
        if not np.isfinite(std) or std == 0:
            raise UCRDataError(f"{name}: the training set has zero or undefined spread; "
                               f"use normalize='none'")
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    x_train, x_test = np.nan_to_num(x_train, nan=0.0), np.nan_to_num(x_test, nan=0.0)
    return UCRDataset(name, x_train.astype(np.float32), y_train, x_test.astype(np.float32),
                      y_test, classes, folder)


def available_datasets(root: str | Path | None = None) -> list[str]:
    """Names of the datasets with both files present in the roots :func:`load_ucr` searches."""
    names = set()
    for r in _candidate_roots(root):
        for folder in r.iterdir():
            if all((folder / f"{folder.name}_{s}.tsv").is_file() for s in SPLITS):
                names.add(folder.name)
    return sorted(names)
