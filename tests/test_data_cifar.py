"""CIFAR-10/100: the binary record parser on small archives written here in the publisher's
format, the registry pins, and the publisher's MD5 checked beside the sha256."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from leakbench.data.cifar import (
    CIFAR10_LAYOUT,
    CIFAR100_LAYOUT,
    CifarLayout,
    prepare_layout,
    read_cifar_archive,
)
from leakbench.data.registry import get_dataset
from leakbench.data.sources import LocalSource, RawFile, UrlSource, fetch_file, sha256_file
from leakbench.errors import DataError


def _record(labels: list[int], red: int) -> bytes:
    """One binary record: the label bytes, then red (all ``red``), green (all 7), and blue
    holding (row * 32 + column) mod 256 at each pixel, each plane row-major."""
    blue = bytes((i % 256) for i in range(1024))
    return bytes(labels) + bytes([red]) * 1024 + bytes([7]) * 1024 + blue


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _small(layout: CifarLayout, rows: tuple[int, ...]) -> CifarLayout:
    """``layout`` with its members' record counts replaced by ``rows``."""
    members = tuple((name, n) for (name, _), n in zip(layout.members, rows, strict=True))
    return CifarLayout(layout.archive, members, layout.label_classes, layout.label_used)


def test_cifar10_records_parse_by_hand(tmp_path):
    layout = _small(CIFAR10_LAYOUT, (2, 0, 0, 0, 0, 1))
    members = {name: b"" for name, _ in layout.members}
    members["cifar-10-batches-bin/data_batch_1.bin"] = _record([3], 10) + _record([9], 11)
    members["cifar-10-batches-bin/test_batch.bin"] = _record([0], 12)
    path = _archive(tmp_path / layout.archive, members)
    images, labels = read_cifar_archive(path=path, layout=layout)
    assert images.shape == (3, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, [[3], [9], [0]])
    np.testing.assert_array_equal(images[:, 0, 0, 0], [10, 11, 12])  # red planes, in order
    assert (images[:, 1] == 7).all()
    # Blue pixel (row 1, column 2) is byte 32 + 2 of the blue plane: row-major.
    assert images[0, 2, 1, 2] == 34 and images[0, 2, 31, 31] == (31 * 32 + 31) % 256
    pool = prepare_layout(raw_dir=tmp_path, layout=layout)
    assert pool.x.shape == (3, 3, 32, 32) and pool.x.dtype == np.float32
    assert pool.x[0, 0, 0, 0] == np.float32(10) / np.float32(255)
    np.testing.assert_array_equal(pool.y, [3, 9, 0])
    assert pool.num_classes == 10


def test_cifar100_uses_the_fine_label_after_the_coarse_one(tmp_path):
    layout = _small(CIFAR100_LAYOUT, (2, 1))
    path = _archive(
        tmp_path / layout.archive,
        {
            "cifar-100-binary/train.bin": _record([19, 99], 1) + _record([4, 30], 2),
            "cifar-100-binary/test.bin": _record([0, 5], 3),
        },
    )
    _, labels = read_cifar_archive(path=path, layout=layout)
    np.testing.assert_array_equal(labels, [[19, 99], [4, 30], [0, 5]])
    pool = prepare_layout(raw_dir=tmp_path, layout=layout)
    np.testing.assert_array_equal(pool.y, [99, 30, 5])
    assert pool.num_classes == 100


@pytest.mark.parametrize(
    ("members", "match"),
    [
        ({"cifar-100-binary/train.bin": _record([1, 1], 0)}, r"member cifar-100-binary/test.bin"),
        (
            {
                "cifar-100-binary/train.bin": _record([1, 1], 0)[:-1],
                "cifar-100-binary/test.bin": _record([1, 1], 0),
            },
            r"train.bin holds 3073 bytes; expected a regular file of 1 records x 3074",
        ),
        (
            {
                "cifar-100-binary/train.bin": _record([20, 1], 0),
                "cifar-100-binary/test.bin": _record([1, 1], 0),
            },
            r"label byte 0 holds 20; allowed: 0 .. 19",
        ),
    ],
)
def test_malformed_archives_are_refused_naming_the_member(tmp_path, members, match):
    layout = _small(CIFAR100_LAYOUT, (1, 1))
    path = _archive(tmp_path / layout.archive, members)
    with pytest.raises(DataError, match=match):
        read_cifar_archive(path=path, layout=layout)


def test_a_file_that_is_not_a_tar_archive_is_refused(tmp_path):
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(b"not an archive")
    with pytest.raises(DataError, match=r"not a readable gzip-compressed tar archive"):
        read_cifar_archive(path=path, layout=CIFAR10_LAYOUT)


def test_registry_pins_the_publishers_md5_and_the_sha256():
    for name, md5, sha256 in (
        (
            "cifar10",
            "c32a1d4ab5d03f1284b67883e8d87530",
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        ),
        (
            "cifar100",
            "03b5dce01913d631647c71ecec9e9cb8",
            "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
        ),
    ):
        spec = get_dataset(name)
        (raw,) = spec.raw_files
        assert raw.filename.endswith("-binary.tar.gz")  # never the pickled version
        assert (raw.md5, raw.sha256) == (md5, sha256)
        assert raw.sources[0] == UrlSource(f"https://www.cs.toronto.edu/~kriz/{raw.filename}")
        assert spec.input_shape == (3, 32, 32)
    assert get_dataset("cifar100").num_classes == 100


def test_fetch_checks_the_publishers_md5_beside_the_sha256(tmp_path):
    source = tmp_path / "archive.bin"
    source.write_bytes(b"cifar bytes")
    digest = sha256_file(source)
    wrong = RawFile(
        filename="a.bin",
        sha256=digest,
        md5="0" * 32,  # not the md5 of these bytes
        sources=(LocalSource(source),),
    )
    with pytest.raises(DataError, match=r"a.bin from local file .* md5 mismatch"):
        fetch_file(wrong, raw_dir=tmp_path / "raw")
    assert not (tmp_path / "raw" / "a.bin").exists()
    right = hashlib.md5(b"cifar bytes", usedforsecurity=False).hexdigest()
    kept = RawFile(filename="a.bin", sha256=digest, md5=right, sources=(LocalSource(source),))
    assert fetch_file(kept, raw_dir=tmp_path / "raw").read_bytes() == b"cifar bytes"
    with pytest.raises(DataError, match=r"RawFile.md5 of a.bin: 'xyz' is not allowed"):
        RawFile(filename="a.bin", sha256=digest, md5="xyz", sources=(LocalSource(source),))
