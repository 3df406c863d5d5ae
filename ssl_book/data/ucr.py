"""Reading the UCR Time Series Classification Archive (2018 layout).

Layout: ``<root>/<Name>/<Name>_TRAIN.tsv`` and ``<Name>_TEST.tsv``, tab-separated, one series
per line, the class label in the first column, no header.

Where files come from, in order:

1. the ``root`` argument, if given (and then only there);
2. the folder named by the environment variable ``SSL_BOOK_UCR_ROOT`` (a reader's download
   of the archive; this repository's Makefile points it at ``../shared/data/ucr``);
3. the small datasets bundled with the package (``ssl_book.data.BUNDLED``).

Any dataset of the archive can be read this way, not only the ones the registry lists
(``ssl_book.data.REGISTRY``): sizes and labels come from the files themselves, and every file
whose checksum the registry knows is verified before it is parsed. A reader's own data in
other files is read by :func:`ssl_book.data.load_series_files`, with the same checks.
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
        """Sizes and where the data came from, named without the machine's folder layout (the
        bundled copy, the UCR archive folder, or the files' folder name), so that a printed
        dataset in a rendered page or a log shows no local path (``folder`` has it)."""
        return (
            f"UCRDataset({self.name!r}: train {self.x_train.shape}, test {self.x_test.shape}, "
            f"{self.n_classes} classes, from {self.origin})"
        )

    @property
    def origin(self) -> str:
        """``"the bundled copy"``, ``"the UCR archive folder"`` or ``".../<folder name>"``."""
        bundled = Path(__file__).resolve().parent / "ucr"
        folder = Path(self.folder).resolve()
        if bundled == folder or bundled in folder.parents:
            return "the bundled copy"
        root = os.environ.get(UCR_ROOT_ENV, "").strip()
        if root and Path(root).resolve() in folder.parents:
            return "the UCR archive folder"
        return f".../{folder.name}"

    def content_digest(self) -> str:
        """16 hex digits of a sha256 over the four arrays (dtype, shape and bytes): equal for equal
        data, whatever the name or the files they were read from."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        return digest.hexdigest()[:16]


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
            f"corrupted or not the UCR archive 2018 version; download it again from {ARCHIVE_URL}"
        )
    _verified.add(key)


def read_ucr_tsv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse one UCR ``.tsv`` file into ``(series, labels)``.

    Returns:
        ``series`` of shape ``(n, length)`` (float64, NaN kept) and ``labels`` of shape ``(n,)``.

    Raises:
        UCRDataError: a missing or empty file, ragged rows or non-numeric values, naming the file
            and the first bad row.
    """
    path = Path(path)
    if not path.is_file():
        raise UCRDataError(f"{path} does not exist (or is not a file)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": see below
            table = np.loadtxt(path, delimiter="\t", ndmin=2, dtype=np.float64, comments=None)
    except ValueError:
        raise UCRDataError(
            f"{path} is not a valid UCR file: {_first_problem(path)}. Each line must "
            f"hold a numeric class label, then the series' values, all tab-separated, "
            f"the same number on every line (pad shorter series with NaN). A file of "
            f"the UCR archive can be downloaded again from {ARCHIVE_URL}"
        ) from None
    if table.size == 0:
        raise UCRDataError(
            f"{path} is empty: it holds no series (a file of the UCR archive can be "
            f"downloaded again from {ARCHIVE_URL})"
        )
    if table.shape[1] < 2:
        raise UCRDataError(f"{path} has only one column: a UCR file holds a label and then the series")
    labels, series = table[:, 0], table[:, 1:]
    if np.isnan(labels).any():
        raise UCRDataError(f"{path} has a missing (NaN) class label in its first column")
    return series, labels


def _first_problem(path: Path) -> str:
    """The first row of a tab-separated file that ``np.loadtxt`` cannot read, in words."""
    width = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for row, line in enumerate(f, start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            for column, value in enumerate(fields, start=1):
                try:
                    float(value)
                except ValueError:
                    what = "the class label" if column == 1 else "a value"
                    comma = "; the file looks comma-separated" if "," in value else ""
                    return f"row {row}, column {column} ({what}) is {value[:40]!r}, not a number{comma}"
            if width is None:
                width = len(fields)
            elif len(fields) != width:
                return f"row {row} has {len(fields)} columns where the rows above have {width}"
    return "it cannot be parsed as tab-separated numbers"


def missing_dataset_help(
    name: str,
    root: str | Path | None = None,
    *,
    own_data: str = "ssl_book.data.load_series_files(train, test)",
) -> str:
    """Why ``name`` was not found and how to get it: the file looked for, the folders searched,
    a close registered name, the bundled datasets, where the archive goes; ``own_data`` says
    how to use one's own files instead."""
    roots = ", ".join(str(r) for r in _candidate_roots(root))
    hint = difflib.get_close_matches(name, REGISTRY, n=1, cutoff=0.6)
    did_you_mean = f" Did you mean {hint[0]!r}?" if hint else ""
    return (
        f"no {name}/{name}_TRAIN.tsv in {roots}.{did_you_mean} Bundled with ssl_book: "
        f"{', '.join(BUNDLED)}. Any other dataset of the UCR archive 2018 ({ARCHIVE_URL}) is read "
        f"from your copy of it: set {UCR_ROOT_ENV} to the folder holding <Name>/<Name>_TRAIN.tsv "
        f"(or pass root=... to load_ucr). Your own data: {own_data}."
    )


def _unknown_name_error(name: str, root: str | Path | None) -> UCRDataError:
    return UCRDataError(f"unknown UCR dataset {name!r}: {missing_dataset_help(name, root)}")


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
            raise UCRDataError(
                f"{UCR_ROOT_ENV}={env} is not a folder; point it at your copy of "
                f"the UCR archive 2018 (the folder holding <Name>/<Name>_TRAIN.tsv)"
            )
        roots.append(env_root)
    roots.append(BUNDLED_ROOT)
    return roots


def find_ucr(name: str, root: str | Path | None = None) -> Path | None:
    """The first folder ``<root>/<name>`` of the roots :func:`load_ucr` searches, or ``None``
    if no root has one.

    Raises:
        UCRDataError: the folder lacks ``<name>_TRAIN.tsv`` or ``<name>_TEST.tsv`` (named).
    """
    folders = [r / name for r in _candidate_roots(root) if (r / name).is_dir()]
    if not folders:
        return None
    for split in SPLITS:
        file = folders[0] / f"{name}_{split}.tsv"
        if not file.is_file():
            raise UCRDataError(
                f"{file} is missing: the copy of {name} in {folders[0]} is incomplete. "
                f"Get both files from the UCR archive 2018 ({ARCHIVE_URL})."
            )
    return folders[0]


def locate_ucr(name: str, root: str | Path | None = None) -> Path:
    """The folder holding ``<name>_TRAIN.tsv`` and ``<name>_TEST.tsv``.

    Raises:
        UCRDataError: an unknown name, or a dataset missing (or incomplete) in every root,
            naming the file looked for and what to do about it.
    """
    folder = find_ucr(name, root)
    if folder is None:
        if name not in REGISTRY:
            raise _unknown_name_error(name, root)
        roots = ", ".join(str(r) for r in _candidate_roots(root))
        raise UCRDataError(
            f"UCR dataset {name!r} is not bundled with ssl_book and was not found in {roots} "
            f"(no {name}/{name}_TRAIN.tsv there). Download the UCR archive 2018 from {ARCHIVE_URL}, "
            f"unpack it, and set {UCR_ROOT_ENV}=/path/to/UCRArchive_2018 (or pass root=...)."
        )
    return folder


def _read_split(folder: Path, name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    path = folder / f"{name}_{split}.tsv"
    info = REGISTRY.get(name)
    expected = None if info is None else (info.sha256_train if split == "TRAIN" else info.sha256_test)
    if expected is not None:
        verify_checksum(path, expected)
    return read_ucr_tsv(path)


def load_ucr(
    name: str, root: str | Path | None = None, *, normalize: str = "global", nan: str = "zero"
) -> UCRDataset:
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

    Raises:
        UCRDataError: the dataset is not found (the message names the missing file and says how
            to get it), a checksum differs, or the files break a rule of :func:`build_dataset`.
    """
    check_options(normalize, nan)
    folder = locate_ucr(name, root)
    train = (*_read_split(folder, name, "TRAIN"), folder / f"{name}_TRAIN.tsv")
    test = (*_read_split(folder, name, "TEST"), folder / f"{name}_TEST.tsv")
    return build_dataset(name, train, test, folder, normalize=normalize, nan=nan)


def check_options(normalize: str, nan: str) -> None:
    """Raise ``ValueError`` for a ``normalize`` or ``nan`` option :func:`load_ucr` does not know."""
    if normalize not in ("global", "none"):
        raise ValueError(f"normalize must be 'global' or 'none', got {normalize!r}")
    if nan not in ("zero", "raise"):
        raise ValueError(f"nan must be 'zero' or 'raise', got {nan!r}")


#: One split as read from its file: ``(series (n, L) float64, labels (n,), the file)``.
Split = tuple[np.ndarray, np.ndarray, Path]


def _check_values(name: str, train: Split, test: Split, nan: str) -> None:
    (x_train, labels_train, train_file), (x_test, labels_test, test_file) = train, test
    if x_train.shape[1] != x_test.shape[1]:
        raise UCRDataError(
            f"{name}: the series in {train_file} have length {x_train.shape[1]} but "
            f"those in {test_file} have length {x_test.shape[1]}; both files must hold "
            f"series of one length (pad shorter series with NaN)"
        )
    for x, file in ((x_train, train_file), (x_test, test_file)):
        if np.isinf(x).any():
            raise UCRDataError(f"{name}: {file} holds infinite values; series must be finite numbers")
        if nan == "raise" and np.isnan(x).any():
            raise UCRDataError(
                f"{name}: {file} has missing values (NaN); use nan='zero' (CLI: --nan "
                f"zero) to set them to 0, the thesis's reading of them as padding"
            )
    if (labels_train.dtype.kind in "US") != (labels_test.dtype.kind in "US"):
        raise UCRDataError(
            f"{name}: the labels of {train_file} and {test_file} must both be numbers or both be text"
        )


def _encode_labels(name: str, train: Split, test: Split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (_, labels_train, train_file), (_, labels_test, test_file) = train, test
    classes = np.unique(labels_train)
    if len(classes) < 2:
        raise UCRDataError(
            f"{name}: {train_file} holds one class only (label {classes[0].item()!r}); "
            f"classification and class-conditional generation need at least two"
        )
    unseen = np.setdiff1d(np.unique(labels_test), classes)
    if unseen.size:
        raise UCRDataError(
            f"{name}: TEST ({test_file}) has labels {unseen.tolist()} that TRAIN "
            f"({train_file}) lacks; every test label must occur in the training set"
        )
    y_train = np.searchsorted(classes, labels_train).astype(np.int64)
    y_test = np.searchsorted(classes, labels_test).astype(np.int64)
    return classes, y_train, y_test


def build_dataset(
    name: str, train: Split, test: Split, folder: Path, *, normalize: str = "global", nan: str = "zero"
) -> UCRDataset:
    """Check two parsed splits, encode their labels and normalise them: the common part of
    :func:`load_ucr` and :func:`ssl_book.data.load_series_files`.

    Args:
        train, test: ``(series (n, L), labels (n,), file)``; series as read (float64, NaN kept),
            labels numbers or text; the file names the split in error messages.
        folder: recorded as :attr:`UCRDataset.folder`.
        normalize, nan: as for :func:`load_ucr`.

    Raises:
        UCRDataError: TRAIN and TEST lengths differ, infinite values, NaN with ``nan="raise"``,
            fewer than two classes in TRAIN, TEST labels unseen in TRAIN, or (with ``normalize=
            "global"``) a training set without spread; each message names the file.
    """
    check_options(normalize, nan)
    _check_values(name, train, test, nan)
    classes, y_train, y_test = _encode_labels(name, train, test)
    x_train, x_test = train[0], test[0]
    if normalize == "global":
        mean, std = np.nanmean(x_train), np.nanstd(x_train)
        if not np.isfinite(std) or std == 0:
            raise UCRDataError(
                f"{name}: the training set ({train[2]}) has zero or undefined spread; use normalize='none'"
            )
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    x_train, x_test = np.nan_to_num(x_train, nan=0.0), np.nan_to_num(x_test, nan=0.0)
    return UCRDataset(
        name, x_train.astype(np.float32), y_train, x_test.astype(np.float32), y_test, classes, folder
    )


def available_datasets(root: str | Path | None = None) -> list[str]:
    """Names of the datasets with both files present in the roots :func:`load_ucr` searches."""
    names = set()
    for r in _candidate_roots(root):
        for folder in r.iterdir():
            if all((folder / f"{folder.name}_{s}.tsv").is_file() for s in SPLITS):
                names.add(folder.name)
    return sorted(names)
