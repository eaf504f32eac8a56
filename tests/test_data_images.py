"""MNIST 5k CSV and Fashion-MNIST IDX readers on tiny hand-built files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from leakbench.data import fashion_mnist, mnist
from leakbench.data.pool import image_pool
from leakbench.errors import DataError


def _csv_row(label: int, marked_pixel: int) -> str:
    pixels = [0] * 784
    pixels[marked_pixel] = 255
    return ",".join(map(str, [*pixels, label]))


def test_mnist_csv_label_is_the_last_column_and_pixels_row_major(tmp_path):
    path = tmp_path / "mnist_5k.csv.gz"
    # Pixel 28 * 2 + 5 = 61 is row 2, column 5.
    path.write_bytes(gzip.compress(f"{_csv_row(7, 61)}\n{_csv_row(0, 0)}\n".encode()))
    images, labels = mnist.read_mnist_csv(path=path, expected_rows=2)
    np.testing.assert_array_equal(labels, [7, 0])
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert images[0, 2, 5] == 255 and images[0].sum() == 255
    pool = image_pool(images=images, labels=labels, num_classes=10)
    assert pool.x.shape == (2, 1, 28, 28) and pool.x[0, 0, 2, 5] == 1.0


@pytest.mark.parametrize(
    ("text", "expected_rows", "message"),
    [
        ("1,2,3\n", None, "3 values per line; expected 785"),
        (f"{_csv_row(10, 0)}\n", None, r"labels in \[10, 10\]; allowed: \[0, 9\]"),
        (f"{_csv_row(1, 0).replace('255', '256')}\n", None, r"pixel values in \[0, 256\]"),
        (f"{_csv_row(1, 0)}\n", 5000, "1 records; expected 5000"),
    ],
)
def test_mnist_csv_errors_name_the_file(tmp_path, text, expected_rows, message):
    path = tmp_path / "mnist_5k.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(DataError, match=rf"mnist_5k\.csv\.gz: {message}"):
        mnist.read_mnist_csv(path=path, expected_rows=expected_rows)


def _idx(shape: tuple[int, ...], payload: bytes) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def test_fashion_split_reads_an_idx_pair(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    (tmp_path / "img").write_bytes(_idx((3, 28, 28), pixels.tobytes()))
    (tmp_path / "lab").write_bytes(_idx((3,), bytes([9, 0, 4])))
    images, labels = fashion_mnist.read_split(
        images_path=tmp_path / "img", labels_path=tmp_path / "lab", expected_rows=3
    )
    np.testing.assert_array_equal(images, pixels)
    np.testing.assert_array_equal(labels, [9, 0, 4])
    assert labels.dtype == np.int64


def test_fashion_split_rejects_wrong_counts_and_labels(tmp_path):
    (tmp_path / "img").write_bytes(_idx((2, 28, 28), bytes(2 * 784)))
    (tmp_path / "lab").write_bytes(_idx((2,), bytes([1, 10])))
    with pytest.raises(DataError, match=r"img: uint8 images of shape \(2, 28, 28\); expected"):
        fashion_mnist.read_split(
            images_path=tmp_path / "img", labels_path=tmp_path / "lab", expected_rows=3
        )
    with pytest.raises(DataError, match=r"lab: label 10; allowed: \[0, 9\]"):
        fashion_mnist.read_split(
            images_path=tmp_path / "img", labels_path=tmp_path / "lab", expected_rows=2
        )
