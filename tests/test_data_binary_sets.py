"""The binary record sets: the synthetic Purchase-k and Location stand-ins, the authors'
Purchase-100 / Texas-100 / Location-30 archives (parsed from fixtures in their format), and
the fetch of a file whose publisher states no digest."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from leakbench.data.location import generate_location
from leakbench.data.registry import get_dataset
from leakbench.data.shokri_sets import LOCATION, PURCHASE, TEXAS, parse_archive
from leakbench.data.sources import (
    UNSTATED,
    LocalSource,
    RawFile,
    fetch_file,
    record_path,
    sha256_file,
    verify_raw,
)
from leakbench.errors import ChecksumError, ConfigError, DataError


@pytest.mark.parametrize("classes", [2, 10, 20, 50])
def test_purchase_variants_have_their_class_count(tmp_path, classes):
    spec = get_dataset(f"purchase_synth{classes}")
    assert spec.synthetic and spec.binary and spec.num_classes == classes
    assert "SYNTHETIC" in spec.description
    pool = spec.prepare(raw_dir=tmp_path, seed=0, records=300)
    assert pool.x.shape == (300, 600) and pool.num_classes == classes
    assert set(np.unique(pool.x)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.unique(pool.y), np.arange(classes))


def test_location_synth_is_shaped_like_location_30(tmp_path):
    spec = get_dataset("location_synth")
    assert spec.synthetic and spec.binary and "SYNTHETIC" in spec.description
    pool = spec.prepare(raw_dir=tmp_path, seed=1, records=400)
    assert pool.x.shape == (400, 446) == (400, *spec.input_shape)
    assert pool.x.dtype == np.float32 and set(np.unique(pool.x)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.unique(pool.y), np.arange(30))
    # Denser than Purchase: the mean of Beta(0.4, 1.6) is 0.2.
    assert abs(pool.x.mean() - 0.2) < 0.05
    again = generate_location(seed=1, n_records=400)
    np.testing.assert_array_equal(pool.x, again.x)
    np.testing.assert_array_equal(pool.y, again.y)
    with pytest.raises(ConfigError, match=r"location_synth\.records: 10 is not allowed"):
        generate_location(seed=1, n_records=10)


def _archive(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _lines(rows):
    return "".join(",".join(str(int(v)) for v in row) + "\n" for row in rows)


@pytest.mark.parametrize("layout", [PURCHASE, LOCATION])
def test_label_first_archives_parse(tmp_path, layout):
    rng = np.random.default_rng(0)
    x = (rng.random((3, layout.n_features)) < 0.3).astype(int)
    labels = np.array([1, layout.num_classes, 2])
    path = tmp_path / layout.archive
    _archive(path, {f"./{layout.features}": _lines(np.column_stack([labels, x]))})
    pool = parse_archive(path, layout)
    np.testing.assert_array_equal(pool.x, x.astype(np.float32))
    assert pool.y.tolist() == [0, layout.num_classes - 1, 1]


def test_texas_archive_parses_features_and_labels(tmp_path):
    x = np.zeros((2, TEXAS.n_features), int)
    x[0, [0, 6168]] = 1
    path = tmp_path / TEXAS.archive
    _archive(path, {TEXAS.features: _lines(x), TEXAS.labels: "100\n7\n"})
    pool = parse_archive(path, TEXAS)
    assert pool.x.shape == (2, 6169) and pool.x[0].sum() == 2 and pool.y.tolist() == [99, 6]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1," + ",".join(["0"] * 599) + "\n", "line 1 has 600 values; allowed: 601"),
        ("101," + ",".join(["0"] * 600) + "\n", "labels 101 .. 101; allowed: 1 .. 100"),
        ("1," + ",".join(["2"] * 600) + "\n", "a feature outside 0/1"),
    ],
)
def test_malformed_archives_are_refused(tmp_path, text, message):
    path = tmp_path / PURCHASE.archive
    _archive(path, {PURCHASE.features: text})
    with pytest.raises(DataError, match=message):
        parse_archive(path, PURCHASE)
    _archive(path, {"other": text})
    with pytest.raises(DataError, match="member 'dataset_purchase' missing"):
        parse_archive(path, PURCHASE)


def test_real_sets_name_the_official_source_first_and_no_digest():
    for name in ("purchase100", "texas100", "location30"):
        spec = get_dataset(name)
        (raw,) = spec.raw_files
        assert not spec.synthetic and spec.binary and raw.sha256 == UNSTATED
        assert raw.sources[0].url.startswith("https://www.comp.nus.edu.sg/~reza/files/")
        assert "github.com/privacytrustlab/datasets" in raw.sources[1].url


def test_an_unstated_digest_stops_the_fetch_until_the_user_records_it(tmp_path):
    published = tmp_path / "published.tgz"
    published.write_bytes(b"the authors' archive")
    digest = sha256_file(published)
    raw = RawFile(filename="set.tgz", sha256=UNSTATED, sources=(LocalSource(published),))
    raw_dir = tmp_path / "raw"

    with pytest.raises(DataError, match=f"publisher states no digest.*{digest}.*--record-digest"):
        fetch_file(raw, raw_dir=raw_dir)
    assert not raw_dir.exists() or not any(raw_dir.iterdir())  # nothing kept

    fetch_file(raw, raw_dir=raw_dir, record_digest=True)
    assert record_path(raw, raw_dir=raw_dir).read_text().strip() == digest
    assert fetch_file(raw, raw_dir=raw_dir) == raw_dir / "set.tgz"  # the record pins it now

    (raw_dir / "set.tgz").write_bytes(b"changed")
    with pytest.raises(ChecksumError):
        fetch_file(raw, raw_dir=raw_dir)

    class Spec:
        raw_files = (raw,)

    with pytest.raises(ChecksumError):
        verify_raw(Spec(), raw_dir=raw_dir)
    record_path(raw, raw_dir=raw_dir).unlink()
    with pytest.raises(DataError, match="publisher states no digest"):
        verify_raw(Spec(), raw_dir=raw_dir)
