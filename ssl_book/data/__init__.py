"""Data: the UCR archive (bundled sets, a reader's archive folder), a reader's own files, and
synthetic generators."""

from ssl_book.data.files import load_series_files, read_series_file
from ssl_book.data.registry import BUNDLED, REGISTRY, THESIS_DATASETS, UCRInfo
from ssl_book.data.synthetic import CBF_CLASSES, make_cbf
from ssl_book.data.ucr import (
    UCR_ROOT_ENV,
    UCRDataError,
    UCRDataset,
    available_datasets,
    load_ucr,
    locate_ucr,
    read_ucr_tsv,
)

__all__ = [
    "BUNDLED",
    "REGISTRY",
    "THESIS_DATASETS",
    "UCRInfo",
    "CBF_CLASSES",
    "make_cbf",
    "UCR_ROOT_ENV",
    "UCRDataError",
    "UCRDataset",
    "available_datasets",
    "load_ucr",
    "locate_ucr",
    "read_ucr_tsv",
    "load_series_files",
    "read_series_file",
]
