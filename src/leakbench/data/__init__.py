"""Datasets: pinned raw files, fetching, and preparation into a :class:`Pool`."""

from leakbench.data.pool import Pool
from leakbench.data.registry import DATASETS, get_dataset
from leakbench.data.sources import RawFile, fetch_raw, sha256_file, verify_raw
from leakbench.data.spec import DatasetSpec

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "Pool",
    "RawFile",
    "fetch_raw",
    "get_dataset",
    "sha256_file",
    "verify_raw",
]
