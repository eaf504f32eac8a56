"""Purchase-100, Texas-100 and Location-30 as their authors distributed them.

Shokri et al. 2017 (section IV-A) built these sets and published them as gzip-compressed
tar archives, first on Reza Shokri's page at NUS (https://www.comp.nus.edu.sg/~reza/files/,
the official source, tried first) and in the privacytrustlab/datasets repository on GitHub
(the mirror). Zhao et al. 2019 attack Purchase and Location in the same form.

The publisher states no digest for any of the three archives, so their pins are
:data:`~leakbench.data.sources.UNSTATED`: the first fetch stops and prints the sha256 of
what it downloaded; the user records it with ``leakbench fetch <dataset> --record-digest``
(:mod:`leakbench.data.sources`), and every later fetch and preparation checks against it.

Formats (as the archives hold them; every value a decimal integer, comma-separated):

- ``dataset_purchase.tgz``, member ``dataset_purchase``: one record a line, the class
  (1-100) then 600 binary features. 197,324 records.
- ``dataset_location.tgz``, member ``bangkok``: one record a line, the class (1-30) then
  446 binary features. 5,010 records.
- ``dataset_texas.tgz``, members ``texas/100/feats`` (one record a line, 6,169 binary
  features) and ``texas/100/labels`` (one class 1-100 a line, same order). 67,330 records.

Classes become 0-based. Members are read from the archive by name (a leading ``./`` is
accepted), without extracting anything to disk.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

import numpy as np

from leakbench.data.pool import Pool
from leakbench.data.sources import UNSTATED, RawFile, UrlSource, require_raw
from leakbench.data.spec import DatasetSpec
from leakbench.errors import DataError

OFFICIAL = "https://www.comp.nus.edu.sg/~reza/files/"
MIRROR = "https://github.com/privacytrustlab/datasets/raw/master/"


@dataclass(frozen=True)
class ArchiveLayout:
    """Where one set's records are in its archive.

    Attributes:
        archive: the archive's file name (the same at the official source and the mirror).
        features: the member holding the records (label first when ``labels`` is empty).
        labels: the member holding one label a line, or empty when the label leads each
            record of ``features``.
        n_features: binary features per record.
        num_classes: classes (labels 1 .. num_classes in the file).
    """

    archive: str
    features: str
    labels: str
    n_features: int
    num_classes: int


PURCHASE = ArchiveLayout("dataset_purchase.tgz", "dataset_purchase", "", 600, 100)
LOCATION = ArchiveLayout("dataset_location.tgz", "bangkok", "", 446, 30)
TEXAS = ArchiveLayout("dataset_texas.tgz", "texas/100/feats", "texas/100/labels", 6169, 100)


def _member(archive: tarfile.TarFile, name: str, path: Path) -> IO[bytes]:
    for info in archive.getmembers():
        if info.isfile() and info.name.removeprefix("./") == name:
            handle = archive.extractfile(info)
            if handle is not None:
                return handle
    raise DataError(f"{path}: member {name!r} missing; the archive's format has changed")


def _rows(handle: IO[bytes], *, width: int, where: str) -> np.ndarray:
    """int64 ``[N, width]`` from comma-separated integer lines (blank lines skipped)."""
    rows = []
    for number, line in enumerate(handle, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            values = [int(v) for v in text.split(b",")]
        except ValueError:
            raise DataError(f"{where}: line {number} holds a non-integer value") from None
        if len(values) != width:
            raise DataError(f"{where}: line {number} has {len(values)} values; allowed: {width}")
        rows.append(values)
    if not rows:
        raise DataError(f"{where}: no records")
    return np.asarray(rows, dtype=np.int64)


def parse_archive(path: Path, layout: ArchiveLayout) -> Pool:
    """Parse one archive of ``layout`` into a pool (see the module docstring).

    Raises:
        DataError: if the archive cannot be read, a member is missing, a line has the wrong
            number of values, a feature is not 0/1, a label is outside 1 .. num_classes, or
            features and labels disagree in count.
    """
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            where = f"{path}:{layout.features}"
            if layout.labels:
                x = _rows(
                    _member(archive, layout.features, path), width=layout.n_features, where=where
                )
                y = _rows(
                    _member(archive, layout.labels, path), width=1, where=f"{path}:{layout.labels}"
                )[:, 0]
            else:
                table = _rows(
                    _member(archive, layout.features, path),
                    width=layout.n_features + 1,
                    where=where,
                )
                x, y = table[:, 1:], table[:, 0]
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DataError(f"{path}: not a readable gzip tar archive: {err}") from err
    if len(x) != len(y):
        raise DataError(f"{path}: {len(x)} records but {len(y)} labels; allowed: one each")
    if not np.isin(x, (0, 1)).all():
        raise DataError(f"{path}: a feature outside 0/1; allowed: binary features")
    if y.min() < 1 or y.max() > layout.num_classes:
        raise DataError(
            f"{path}: labels {int(y.min())} .. {int(y.max())}; allowed: 1 .. {layout.num_classes}"
        )
    return Pool(
        x=x.astype(np.float32),
        y=y - 1,
        properties={},
        feature_names=tuple(f"feature_{j:04d}" for j in range(layout.n_features)),
        num_classes=layout.num_classes,
    )


def prepare(*, raw_dir: Path, seed: int, layout: ArchiveLayout) -> Pool:
    """Parse the fetched archive of ``layout``; ``seed`` is unused (no draws)."""
    del seed
    return parse_archive(require_raw(raw_dir=raw_dir, filename=layout.archive), layout)


def _spec(name: str, layout: ArchiveLayout, what: str) -> DatasetSpec:
    raw = RawFile(
        filename=layout.archive,
        sha256=UNSTATED,
        sources=(UrlSource(OFFICIAL + layout.archive), UrlSource(MIRROR + layout.archive)),
    )
    return DatasetSpec(
        name=name,
        description=(
            f"{what} as Shokri et al. 2017 (IV-A) distributed it ({layout.archive}): "
            f"{layout.n_features} binary features, {layout.num_classes} k-means classes. The "
            "publisher states no digest: record yours with `leakbench fetch "
            f"{name} --record-digest`."
        ),
        synthetic=False,
        raw_files=(raw,),
        input_shape=(layout.n_features,),
        num_classes=layout.num_classes,
        properties=(),
        binary=True,
        prepare=partial(prepare, layout=layout),
    )


SPECS = (
    _spec("purchase100", PURCHASE, "Purchase-100 (Kaggle 'Acquire Valued Shoppers' baskets)"),
    _spec("texas100", TEXAS, "Texas-100 (Texas Department of State Health Services discharges)"),
    _spec("location30", LOCATION, "Location-30 (Foursquare check-ins in Bangkok)"),
)
