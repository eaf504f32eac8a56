"""FourSquare NYC/Tokyo check-ins: the parser on a small zip in the real format (tab-separated
latin-1 members in a folder), the token records, the registry entry, and bad input."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import numpy as np
import pytest

from leakbench.data import foursquare
from leakbench.data.foursquare import CheckIn, parse_time, sequences, vocabulary
from leakbench.data.registry import get_dataset
from leakbench.data.sources import UNSTATED, LocalSource, fetch_file, sha256_file
from leakbench.errors import ChecksumError, DataError

FOLDER = "dataset_tsmc2014/"


def _line(user: int, venue: str, time: str, category: str = "Caf\xe9") -> str:
    return "\t".join(
        [str(user), venue, "4bf58dd8d48988d1e0931735", category, "40.7", "-74.0", "-240", time]
    )


def _time(minute: int) -> str:
    """A UTC time ``minute`` minutes after midnight on 3 April 2012."""
    return f"Tue Apr 03 {minute // 60:02d}:{minute % 60:02d}:09 +0000 2012"


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(FOLDER, "")
        for name, text in members.items():
            archive.writestr(FOLDER + name, text.encode("latin-1"))
    return path


def _city(users: dict[int, list[str]]) -> str:
    """One member's text: user -> venues in time order, written in reverse time order."""
    lines = [
        _line(user, venue, _time(i))
        for user, venues in users.items()
        for i, venue in enumerate(venues)
    ]
    return "\r\n".join(reversed(lines)) + "\r\n"


def test_parse_time_reads_the_utc_form_without_the_locale():
    assert parse_time("Tue Apr 03 18:00:09 +0000 2012") == (2012, 3, 3, 18, 0, 9)
    assert parse_time("Sat Feb 16 02:35:29 +0000 2013") == (2013, 1, 16, 2, 35, 29)
    for bad in (
        "2012-04-03 18:00:09",
        "Tue Apr 03 18:00:09 +0100 2012",
        "Tue Foo 03 1:2:3 +0000 1",
    ):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_vocabulary_ranks_by_count_then_venue_id_from_token_two():
    checkins = {
        "nyc": [CheckIn(1, v, (2012, 0, 1, 0, 0, i)) for i, v in enumerate("bbbaacd")],
        "tokyo": [CheckIn(1, "c", (2012, 0, 1, 0, 0, 0))],
    }
    # counts: b 3, a 2, c 2, d 1 -> b, then a and c by id, then d.
    assert vocabulary(checkins) == {"b": 2, "a": 3, "c": 4, "d": 5}
    assert vocabulary(checkins, size=4) == {"b": 2, "a": 3}


def test_sequences_sort_by_time_pad_truncate_and_drop_users_with_few_venues():
    t = (2012, 0, 1, 0, 0)
    checkins = {
        "nyc": [
            CheckIn(7, "z", (*t, 5)),
            CheckIn(7, "x", (*t, 1)),
            CheckIn(7, "y", (*t, 1)),  # same time as x: file order keeps x first
            CheckIn(3, "x", (*t, 0)),  # user 3 has one venue only: left out at min_venues 2
            CheckIn(3, "x", (*t, 1)),
        ],
        "tokyo": [CheckIn(3, v, (*t, s)) for s, v in enumerate("wxyzw")],
    }
    vocab = {"x": 2, "y": 3, "z": 4}
    tokens, labels = sequences(checkins, vocab=vocab, length=4, min_venues=2)
    np.testing.assert_array_equal(tokens, [[2, 3, 4, 0], [1, 2, 3, 4]])  # w is OOV (1)
    np.testing.assert_array_equal(labels, [0, 1])


def _real_like(path: Path) -> Path:
    nyc = {u: [f"n{u}_{j}" for j in range(12)] for u in (2, 1)}
    tokyo = {5: [f"t{j % 10}" for j in range(105)], 6: ["t0"] * 11}  # user 6: one venue
    return _zip(
        path,
        {
            "dataset_TSMC2014_NYC.txt": _city(nyc),
            "dataset_TSMC2014_TKY.txt": _city(tokyo),
            "dataset_TSMC2014_readme.txt": "This dataset includes ...",
        },
    )


def test_pool_holds_first_hundred_checkins_as_tokens_nyc_then_tokyo(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    _real_like(raw / foursquare.ARCHIVE)
    pool = foursquare.prepare(raw_dir=raw, seed=0)
    assert pool.x.shape == (3, 100) and pool.x.dtype == np.float32
    assert get_dataset("foursquare_tsmc").input_shape == pool.input_shape
    np.testing.assert_array_equal(pool.y, [0, 0, 1])  # NYC users 1, 2; Tokyo user 5
    tokens = pool.x.astype(np.int64)
    # Tokyo's t0..t9 are checked in 10-11 times (t0 also 11 times by user 6): they lead the
    # vocabulary with ids 2..11, ranked by count then id; the NYC venues (once each) follow.
    assert tokens[2, :10].tolist() == [2, *range(3, 12)][:10]
    assert sorted(set(tokens[2].tolist())) == list(range(2, 12))
    assert (tokens[0, 12:] == 0).all() and (tokens[0, :12] >= 12).all()
    assert len(set(tokens[0, :12].tolist()) | set(tokens[1, :12].tolist())) == 24
    assert pool.feature_names[0] == "checkin_000" and pool.properties == {}


def test_rerun_gives_the_same_bytes(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    _real_like(raw / foursquare.ARCHIVE)
    foursquare.prepare(raw_dir=raw, seed=0).save(tmp_path / "a.npz")
    foursquare.prepare(raw_dir=raw, seed=5).save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


@pytest.mark.parametrize(
    ("members", "match"),
    [
        ({"dataset_TSMC2014_NYC.txt": _line(1, "a", _time(1))}, r"0 members named .*TKY\.txt"),
        (
            {
                "dataset_TSMC2014_NYC.txt": "1\ta\tb\n",
                "dataset_TSMC2014_TKY.txt": _line(1, "a", _time(1)),
            },
            r"NYC\.txt: line 1 has 3 fields; allowed: 8",
        ),
        (
            {
                "dataset_TSMC2014_NYC.txt": _line(1, "a", "2012-04-03"),
                "dataset_TSMC2014_TKY.txt": _line(1, "a", _time(1)),
            },
            r"line 1: user '1' or time '2012-04-03' is not allowed",
        ),
        (
            {"dataset_TSMC2014_NYC.txt": "\n", "dataset_TSMC2014_TKY.txt": _line(1, "a", _time(1))},
            r"NYC\.txt: no check-ins",
        ),
        (
            {
                "dataset_TSMC2014_NYC.txt": _city({1: [str(j) for j in range(10)]}),
                "dataset_TSMC2014_TKY.txt": _city({1: ["a"] * 20}),
            },
            r"per city \{'nyc': 1, 'tokyo': 0\}; allowed: at least one in each",
        ),
    ],
    ids=["missing-member", "fields", "time", "empty", "no-user-kept"],
)
def test_malformed_archives_are_refused_naming_member_and_line(tmp_path, members, match):
    path = _zip(tmp_path / foursquare.ARCHIVE, members)
    with pytest.raises(DataError, match=match):
        foursquare.build_pool(path)


def test_a_file_that_is_not_a_zip_archive_is_refused(tmp_path):
    path = tmp_path / foursquare.ARCHIVE
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match=r"dataset_tsmc2014\.zip: not a readable zip archive"):
        foursquare.build_pool(path)


def test_registry_entry_lists_the_publishers_addresses_and_no_digest(tmp_path):
    spec = get_dataset("foursquare_tsmc")
    (raw,) = spec.raw_files
    assert raw.filename == "dataset_tsmc2014.zip" and raw.sha256 == UNSTATED
    assert [s.url for s in raw.sources] == [
        "http://www-public.imtbs-tsp.eu/~zhang_da/pub/dataset_tsmc2014.zip",
        "http://www-public.it-sudparis.eu/~zhang_da/pub/dataset_tsmc2014.zip",
        "https://web.archive.org/web/2019id_/http://www-public.it-sudparis.eu/~zhang_da/pub/"
        "dataset_tsmc2014.zip",
    ]
    assert spec.input_shape == (100,) and spec.num_classes == 2
    source = _real_like(tmp_path / "download.zip")
    local = dataclasses.replace(raw, sources=(LocalSource(source),))
    with pytest.raises(DataError, match=r"publisher states no digest for dataset_tsmc2014\.zip"):
        fetch_file(local, raw_dir=tmp_path / "raw")
    assert not (tmp_path / "raw" / raw.filename).exists()


def test_a_download_that_differs_from_the_recorded_digest_is_refused(tmp_path):
    (raw,) = get_dataset("foursquare_tsmc").raw_files
    source = _real_like(tmp_path / "download.zip")
    local = dataclasses.replace(raw, sources=(LocalSource(source),))
    target = tmp_path / "raw"
    recorded = sha256_file(fetch_file(local, raw_dir=target, record_digest=True))
    assert (target / "dataset_tsmc2014.zip.sha256").read_text().strip() == recorded
    (target / raw.filename).unlink()
    _zip(source, {"dataset_TSMC2014_NYC.txt": "edited", "dataset_TSMC2014_TKY.txt": "edited"})
    with pytest.raises(ChecksumError) as err:
        fetch_file(local, raw_dir=target)
    assert (err.value.expected, err.value.actual) == (recorded, sha256_file(source))
    assert "dataset_tsmc2014.zip from local file" in str(err.value)
    assert not (target / raw.filename).exists()
