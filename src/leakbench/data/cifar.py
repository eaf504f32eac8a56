"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny
Images", University of Toronto tech report): 60,000 32 x 32 colour images each.

Read from the publisher's BINARY distribution (``cifar-10-binary.tar.gz``,
``cifar-100-binary.tar.gz``, https://www.cs.toronto.edu/~kriz/cifar.html), never the Python
version: that one is pickled, and nothing here unpickles. The archive is stored as
downloaded and pinned twice: by the MD5 the publisher's page states, and by its sha256.
The sha256 values are the ones independent public loaders of the same archives record
(CIFAR-10: 170,052,171 bytes); both digests are checked on every fetch and before every
preparation, so a wrong pin shows up as an error, never as different data.

Binary record format (the publisher's page, "Binary version"): fixed-length records, each
``label bytes`` then 3072 pixel bytes: the 1024 red values of the 32 x 32 image in row-major
order, then the 1024 green, then the 1024 blue. CIFAR-10 has one label byte (the class,
0-9); CIFAR-100 two (the coarse superclass 0-19, then the fine class 0-99; the pool uses
the fine one). Members are read from the archive by name, without extracting anything to
disk. The pool is the training members then the test member, in the order listed; images
become float32 ``[N, 3, 32, 32]`` in [0, 1] (value / 255).
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leakbench.data.pool import Pool, image_pool
from leakbench.data.sources import RawFile, UrlSource, require_raw
from leakbench.data.spec import DatasetSpec
from leakbench.errors import DataError

SIDE = 32
CHANNELS = 3
PIXEL_BYTES = CHANNELS * SIDE * SIDE
_OFFICIAL = "https://www.cs.toronto.edu/~kriz/"
_MIRROR = "https://cave.cs.toronto.edu/kriz/"


@dataclass(frozen=True)
class CifarLayout:
    """Where the records are in one archive and how their labels read.

    Attributes:
        archive: the archive's file name.
        members: (path inside the archive, record count), in pool order.
        label_classes: the number of classes of each label byte, in record order
            (CIFAR-10: (10,); CIFAR-100: (20, 100), coarse then fine).
        label_used: which label byte is the pool's class.
    """

    archive: str
    members: tuple[tuple[str, int], ...]
    label_classes: tuple[int, ...]
    label_used: int

    @property
    def record_bytes(self) -> int:
        """Bytes per record: the label bytes, then 3072 pixel bytes."""
        return len(self.label_classes) + PIXEL_BYTES


CIFAR10_LAYOUT = CifarLayout(
    archive="cifar-10-binary.tar.gz",
    members=(
        *((f"cifar-10-batches-bin/data_batch_{i}.bin", 10_000) for i in range(1, 6)),
        ("cifar-10-batches-bin/test_batch.bin", 10_000),
    ),
    label_classes=(10,),
    label_used=0,
)
CIFAR100_LAYOUT = CifarLayout(
    archive="cifar-100-binary.tar.gz",
    members=(("cifar-100-binary/train.bin", 50_000), ("cifar-100-binary/test.bin", 10_000)),
    label_classes=(20, 100),
    label_used=1,
)


def read_cifar_archive(*, path: Path, layout: CifarLayout) -> tuple[np.ndarray, np.ndarray]:
    """Parse the binary records of every member ``layout`` lists.

    Returns:
        ``(images, labels)``: uint8 ``[N, 3, 32, 32]`` (channels first) and int64
        ``[N, label bytes]``, members concatenated in ``layout`` order.

    Raises:
        DataError: naming the archive and member, if the archive is not a gzip-compressed
            tar, a member is missing or not a regular file, its size is not its record
            count times the record size, or a label byte is out of range.
    """
    width = layout.record_bytes
    images, labels = [], []
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for name, rows in layout.members:
                try:
                    info = archive.getmember(name)
                except KeyError:
                    raise DataError(f"{path}: member {name} is missing") from None
                if not info.isfile() or info.size != rows * width:
                    raise DataError(
                        f"{path}: member {name} holds {info.size} bytes; expected a regular "
                        f"file of {rows} records x {width} bytes = {rows * width}"
                    )
                stream = archive.extractfile(info)
                if stream is None:
                    raise DataError(f"{path}: member {name} cannot be read")
                with stream:
                    records = np.frombuffer(stream.read(), dtype=np.uint8).reshape(rows, width)
                head = len(layout.label_classes)
                for column, classes in enumerate(layout.label_classes):
                    top = int(records[:, column].max()) if rows else 0
                    if top >= classes:
                        raise DataError(
                            f"{path}: member {name}: label byte {column} holds {top}; "
                            f"allowed: 0 .. {classes - 1}"
                        )
                labels.append(records[:, :head].astype(np.int64))
                images.append(records[:, head:].reshape(rows, CHANNELS, SIDE, SIDE))
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DataError(f"{path}: not a readable gzip-compressed tar archive: {err}") from err
    return np.concatenate(images), np.concatenate(labels)


def prepare_layout(*, raw_dir: Path, layout: CifarLayout) -> Pool:
    """The pool of one archive: every record, the class from the ``label_used`` byte.

    Raises:
        DataError: if the archive is missing or malformed (see :func:`read_cifar_archive`).
    """
    images, labels = read_cifar_archive(
        path=require_raw(raw_dir=raw_dir, filename=layout.archive), layout=layout
    )
    return image_pool(
        images=images,
        labels=labels[:, layout.label_used],
        num_classes=layout.label_classes[layout.label_used],
    )


def prepare_cifar10(*, raw_dir: Path, seed: int) -> Pool:
    """CIFAR-10's pool (50,000 training then 10,000 test images); ``seed`` is unused."""
    del seed
    return prepare_layout(raw_dir=raw_dir, layout=CIFAR10_LAYOUT)


def prepare_cifar100(*, raw_dir: Path, seed: int) -> Pool:
    """CIFAR-100's pool with the fine labels (50,000 then 10,000); ``seed`` is unused."""
    del seed
    return prepare_layout(raw_dir=raw_dir, layout=CIFAR100_LAYOUT)


def _raw(layout: CifarLayout, *, sha256: str, md5: str) -> RawFile:
    return RawFile(
        filename=layout.archive,
        sha256=sha256,
        md5=md5,
        sources=(UrlSource(_OFFICIAL + layout.archive), UrlSource(_MIRROR + layout.archive)),
    )


CIFAR10 = DatasetSpec(
    name="cifar10",
    description=(
        "CIFAR-10 (Krizhevsky 2009): 60,000 32 x 32 colour images (50,000 train + 10,000 "
        "test), 10 classes, from the publisher's binary archive; scaled to [0, 1]."
    ),
    synthetic=False,
    raw_files=(
        _raw(
            CIFAR10_LAYOUT,
            sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
            md5="c32a1d4ab5d03f1284b67883e8d87530",
        ),
    ),
    input_shape=(CHANNELS, SIDE, SIDE),
    num_classes=CIFAR10_LAYOUT.label_classes[CIFAR10_LAYOUT.label_used],
    properties=(),
    prepare=prepare_cifar10,
)
CIFAR100 = DatasetSpec(
    name="cifar100",
    description=(
        "CIFAR-100 (Krizhevsky 2009): 60,000 32 x 32 colour images (50,000 train + 10,000 "
        "test), 100 fine classes, from the publisher's binary archive; scaled to [0, 1]."
    ),
    synthetic=False,
    raw_files=(
        _raw(
            CIFAR100_LAYOUT,
            sha256="58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
            md5="03b5dce01913d631647c71ecec9e9cb8",
        ),
    ),
    input_shape=(CHANNELS, SIDE, SIDE),
    num_classes=CIFAR100_LAYOUT.label_classes[CIFAR100_LAYOUT.label_used],
    properties=(),
    prepare=prepare_cifar100,
)
SPECS = (CIFAR10, CIFAR100)
