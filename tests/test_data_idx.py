"""The IDX reader on tiny hand-built files, plain and gzip-compressed, and its errors."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from leakbench.data.idx import read_idx
from leakbench.errors import DataError


def _idx(code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


IMAGES = _idx(0x08, (2, 3, 4), bytes(range(24)))
LABELS = _idx(0x08, (5,), bytes([3, 1, 4, 1, 5]))


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_uint8_images_and_labels(tmp_path, compress):
    for name, data in (("images", IMAGES), ("labels", LABELS)):
        (tmp_path / name).write_bytes(gzip.compress(data, mtime=0) if compress else data)
    images = read_idx(tmp_path / "images")
    assert images.dtype == np.uint8
    assert images.shape == (2, 3, 4)
    # Row-major: image 1, row 2, column 3 is byte 12 + 2 * 4 + 3 = 23.
    assert images[1, 2, 3] == 23
    assert images[0, 1, 0] == 4
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), [3, 1, 4, 1, 5])


def test_big_endian_int32_becomes_native(tmp_path):
    (tmp_path / "ints").write_bytes(_idx(0x0C, (2,), struct.pack(">2i", 1, -258)))
    values = read_idx(tmp_path / "ints")
    assert values.dtype == np.dtype("int32")
    assert values.dtype.isnative
    np.testing.assert_array_equal(values, [1, -258])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x08\x03\x00\x00" + IMAGES[4:], "bad IDX magic number 08030000"),
        (b"", r"bad IDX magic number \(empty\)"),
        (_idx(0x07, (1,), b"\x00"), "unknown IDX dtype code 0x07"),
        (IMAGES[:10], "truncated IDX header: 10 bytes, need 16"),
        (IMAGES[:-1], r"truncated IDX data: 23 bytes after the header, expected 24"),
        (IMAGES + b"\x00", "too long IDX data: 25 bytes"),
    ],
)
def test_malformed_files_raise_naming_the_file(tmp_path, data, message):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataError, match=f"broken-idx3-ubyte: {message}"):
        read_idx(path)


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(IMAGES)[:-10])
    with pytest.raises(DataError, match=r"cut\.gz: not a valid gzip stream"):
        read_idx(path)
