"""Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 70,000 28 x 28 grey images, 10 classes.

The four IDX files (60,000 training + 10,000 test images, joined in that order into one
pool). Zalando's servers and Debian's ``dataset-fashion-mnist`` package serve the same IDX
content gzip-compressed with different compressed bytes (Debian recompressed them), so the
files are stored decompressed and pinned by the sha256 of the IDX content.
Images become float32 ``[N, 1, 28, 28]`` in [0, 1] (pixel / 255).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from leakbench.data.idx import read_idx
from leakbench.data.pool import Pool, image_pool
from leakbench.data.sources import LocalSource, RawFile, UrlSource, require_raw
from leakbench.data.spec import DatasetSpec
from leakbench.errors import DataError

SIDE = 28
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# (images file, labels file, record count) per split, in pool order.
SPLITS = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
)
# sha256 of the decompressed IDX files.
SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
_OFFICIAL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_GITHUB = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
_DEBIAN = Path("/usr/share/datasets/fashion-mnist")
_DEBIAN_HINT = "apt-get install dataset-fashion-mnist"

RAW_FILES = tuple(
    RawFile(
        filename=name,
        sha256=digest,
        sources=(
            UrlSource(f"{_OFFICIAL}{name}.gz"),
            UrlSource(f"{_GITHUB}{name}.gz"),
            LocalSource(_DEBIAN / f"{name}.gz", hint=_DEBIAN_HINT),
        ),
        gunzip=True,
    )
    for name, digest in SHA256.items()
)


def read_split(
    *, images_path: Path, labels_path: Path, expected_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read one split's IDX pair.

    Returns:
        ``(images, labels)``: uint8 ``[N, 28, 28]`` and int64 ``[N]``.

    Raises:
        DataError: naming the file, if the shapes, dtypes, counts or labels are off.
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.shape != (expected_rows, SIDE, SIDE):
        raise DataError(
            f"{images_path}: {images.dtype} images of shape {images.shape}; "
            f"expected uint8 ({expected_rows}, {SIDE}, {SIDE})"
        )
    if labels.dtype != np.uint8 or labels.shape != (expected_rows,):
        raise DataError(
            f"{labels_path}: {labels.dtype} labels of shape {labels.shape}; "
            f"expected uint8 ({expected_rows},)"
        )
    if labels.size and labels.max() >= len(CLASSES):
        raise DataError(f"{labels_path}: label {labels.max()}; allowed: [0, {len(CLASSES) - 1}]")
    return images, labels.astype(np.int64)


def prepare(*, raw_dir: Path, seed: int) -> Pool:
    """Read the four IDX files from ``raw_dir``; ``seed`` is unused (no random step).

    Raises:
        DataError: if a file is missing or malformed.
    """
    del seed
    parts = [
        read_split(
            images_path=require_raw(raw_dir=raw_dir, filename=images),
            labels_path=require_raw(raw_dir=raw_dir, filename=labels),
            expected_rows=rows,
        )
        for images, labels, rows in SPLITS
    ]
    return image_pool(
        images=np.concatenate([p[0] for p in parts]),
        labels=np.concatenate([p[1] for p in parts]),
        num_classes=len(CLASSES),
    )


SPEC = DatasetSpec(
    name="fashion_mnist",
    description=(
        "Fashion-MNIST (Xiao et al. 2017): 70,000 Zalando article images (60,000 train + "
        "10,000 test), 28 x 28 grey scaled to [0, 1], 10 classes."
    ),
    synthetic=False,
    raw_files=RAW_FILES,
    input_shape=(1, SIDE, SIDE),
    num_classes=len(CLASSES),
    properties=(),
    prepare=prepare,
)
