"""Datasets: pinned raw files, fetching, and preparation into a :class:`Pool`.

The registry of named datasets is :mod:`leakbench.data.registry`; it is not imported here,
so a job that only reads a prepared pool does not import every dataset module.
"""

from leakbench.data.pool import Pool
from leakbench.data.sources import RawFile, fetch_raw, sha256_file, verify_raw
from leakbench.data.spec import DatasetSpec

__all__ = [
    "DatasetSpec",
    "Pool",
    "RawFile",
    "fetch_raw",
    "sha256_file",
    "verify_raw",
]
