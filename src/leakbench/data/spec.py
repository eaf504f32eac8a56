"""What the registry knows about a dataset: its raw files, its shape and how to prepare it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from leakbench.data.pool import Pool
from leakbench.data.sources import RawFile
from leakbench.errors import DataError


class Prepare(Protocol):
    """``prepare(*, raw_dir, seed, **options) -> Pool``: parse the raw files into a pool.

    ``options`` are the dataset's keys of the config's ``data.<dataset>`` section.
    """

    def __call__(self, *, raw_dir: Path, seed: int, **options: object) -> Pool: ...


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset the benchmark can prepare.

    Attributes:
        name: the registry key used in config files.
        description: one paragraph: what it is, where it comes from, how it is encoded.
        synthetic: generated here from the seed rather than read from raw files.
        raw_files: the pinned files :func:`leakbench.data.sources.fetch_raw` fetches (empty
            when synthetic).
        input_shape: shape of one record of the prepared ``Pool.x``.
        num_classes: number of classes.
        properties: names of the boolean record properties the pool carries.
        prepare: ``prepare(*, raw_dir, seed, **options) -> Pool``.
        binary: every feature is 0 or 1 (the records Zhao et al.'s Hamming-distance
            attacks take).
        vocabulary: for records of token ids, the vocabulary size (ids in
            ``[0, vocabulary)``); 0 for other records.

    Raises:
        DataError: if a synthetic dataset lists raw files, a real one lists none, or two
            raw files share a name.
    """

    name: str
    description: str
    synthetic: bool
    raw_files: tuple[RawFile, ...]
    input_shape: tuple[int, ...]
    num_classes: int
    properties: tuple[str, ...]
    prepare: Prepare
    binary: bool = False
    vocabulary: int = 0

    def __post_init__(self) -> None:
        if self.synthetic == bool(self.raw_files):
            allowed = "none for a synthetic dataset" if self.synthetic else "at least one"
            raise DataError(
                f"DatasetSpec.raw_files of {self.name}: {len(self.raw_files)} files; "
                f"allowed: {allowed}"
            )
        names = [raw.filename for raw in self.raw_files]
        if len(set(names)) != len(names):
            raise DataError(
                f"DatasetSpec.raw_files of {self.name}: duplicate file names in {names}"
            )
