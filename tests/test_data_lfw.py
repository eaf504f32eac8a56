"""LFW with Kumar et al.'s attributes: the parser on small files in the real formats (a
gzip-compressed tar of 250 x 250 JPEGs, the tab-separated attribute file), the registry
entry and its pins, and bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from leakbench.data import lfw
from leakbench.data.registry import get_dataset
from leakbench.data.sources import (
    UNSTATED,
    LocalSource,
    UrlSource,
    fetch_file,
    sha256_file,
    verify_raw,
)
from leakbench.errors import ChecksumError, DataError

RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 200, 30)
NAMES = ("Male", "Asian", "White", "Black", "Eyeglasses", "Sunglasses", "Smiling", "Blurry")


def _jpeg(*, left=RED, right=BLUE, top=GREEN, size=(250, 250)) -> bytes:
    """A 250 x 250 JPEG: rows 0-59 ``top`` (cropped away), below them columns 0-124 ``left``
    and 125-249 ``right``."""
    pixels = np.empty((size[1], size[0], 3), dtype=np.uint8)
    pixels[:, : size[0] // 2] = left
    pixels[:, size[0] // 2 :] = right
    pixels[:60] = top
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95)
    return out.getvalue()


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _attributes(path: Path, rows: list[tuple[str, int, list[float]]], names=NAMES) -> Path:
    lines = [
        "# Kumar et al. attributes (test fixture)",
        "\t".join(["#", "person", "imagenum", *names]),
    ]
    lines += [
        "\t".join([person, str(n), *(f"{v:.6f}" for v in values)]) for person, n, values in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#          Male  Asian White Black Eyegl Sungl Smile Blurry
ROWS = [
    ("Aaron Eckhart", 1, [1.5, -0.2, 1.1, -2.0, -1.0, 0.3, 0.8, 0.0]),
    ("Zoe Ball", 1, [-0.7, 0.4, -1.0, 1.2, 0.9, -0.5, -0.1, 0.0]),
    ("Zoe Ball", 2, [-1.2, -0.4, 0.5, -1.2, -0.9, -0.5, 0.2, 0.0]),  # no image in the archive
    ("Aaron Eckhart", 2, [0.1, 0.1, -0.1, 0.1, 0.1, 0.1, -0.1, 0.0]),
]


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    _archive(
        raw / lfw.ARCHIVE,
        {
            "lfw_funneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg": _jpeg(),
            "lfw_funneled/Aaron_Eckhart/Aaron_Eckhart_0002.jpg": _jpeg(left=BLUE, right=RED),
            "lfw_funneled/Zoe_Ball/Zoe_Ball_0001.jpg": _jpeg(left=GREEN, right=GREEN),
            "lfw_funneled/No_Attributes/No_Attributes_0001.jpg": _jpeg(),
        },
    )
    _attributes(raw / lfw.ATTRIBUTES, ROWS)
    return raw


def test_member_names_follow_the_archive_layout():
    assert (
        lfw.member_name("Aaron Eckhart", 1) == "lfw_funneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg"
    )
    assert lfw.member_name("Ai Sugiyama", 12) == "lfw_funneled/Ai_Sugiyama/Ai_Sugiyama_0012.jpg"


def test_face_is_cropped_to_the_centre_and_halved_like_fetch_lfw_people():
    pixels = lfw.face(_jpeg(), where="fixture")
    assert pixels.shape == (3, 62, 47) and pixels.dtype == np.uint8
    # The crop keeps columns 78-171: the red/blue boundary at column 125 lands at 47 of 94,
    # i.e. 23.5 of 47 after halving; rows 70-194 are below the green band (rows 0-59).
    red, blue = np.array(RED)[:, None, None], np.array(BLUE)[:, None, None]
    assert np.abs(pixels[:, :, :21].astype(int) - red).max() <= 8
    assert np.abs(pixels[:, :, 27:].astype(int) - blue).max() <= 8
    assert pixels[1].max() < 60  # no green left


def test_pool_keeps_attributed_images_in_attribute_order(raw_dir):
    pool = lfw.prepare(raw_dir=raw_dir, seed=0)
    assert pool.x.shape == (3, 3, 62, 47) and pool.x.dtype == np.float32
    assert get_dataset("lfw").input_shape == pool.input_shape
    # Zoe Ball 2 has no image (left out); No_Attributes has no line (ignored).
    np.testing.assert_array_equal(pool.y, [1, 0, 1])  # Male score > 0
    assert pool.num_classes == 2
    assert set(pool.properties) == set(lfw.PROPERTIES)
    np.testing.assert_array_equal(pool.properties["black"], [False, True, True])
    np.testing.assert_array_equal(pool.properties["asian"], [False, True, True])
    np.testing.assert_array_equal(pool.properties["white"], [True, False, False])
    np.testing.assert_array_equal(pool.properties["sunglasses"], [True, False, True])
    np.testing.assert_array_equal(pool.properties["eyeglasses"], [False, True, True])
    np.testing.assert_array_equal(pool.properties["smiling"], [True, False, False])
    # Image order: Aaron 1 (red left), Zoe 1 (green), Aaron 2 (blue left).
    assert pool.x[0, 0, 30, 5] > 0.7 and pool.x[2, 2, 30, 5] > 0.7
    assert pool.x[1, 1, 30, 5] > 0.7
    assert pool.feature_names == ()


def test_rerun_gives_the_same_bytes(raw_dir, tmp_path):
    lfw.prepare(raw_dir=raw_dir, seed=0).save(tmp_path / "a.npz")
    lfw.prepare(raw_dir=raw_dir, seed=1).save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_a_file_that_is_not_a_tar_archive_is_refused(raw_dir):
    (raw_dir / lfw.ARCHIVE).write_bytes(b"not an archive")
    with pytest.raises(DataError, match=r"lfw-funneled\.tgz: not a readable gzip-compressed tar"):
        lfw.prepare(raw_dir=raw_dir, seed=0)


def test_a_truncated_archive_is_refused(raw_dir):
    path = raw_dir / lfw.ARCHIVE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=r"lfw-funneled\.tgz"):
        lfw.prepare(raw_dir=raw_dir, seed=0)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_jpeg()[:400], r"Aaron_Eckhart_0001\.jpg: not a readable image"),
        (b"\xff\xd8 garbage", r"Aaron_Eckhart_0001\.jpg: not a readable image"),
        (_jpeg(size=(200, 250)), r"image of 200 x 250 pixels; expected 250 x 250"),
    ],
    ids=["truncated-jpeg", "not-a-jpeg", "wrong-size"],
)
def test_a_bad_image_is_refused_naming_the_member(raw_dir, data, match):
    _archive(raw_dir / lfw.ARCHIVE, {"lfw_funneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg": data})
    with pytest.raises(DataError, match=match):
        lfw.prepare(raw_dir=raw_dir, seed=0)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("# comment\nperson\timagenum\tMale\n", r"line 2 starts \['person', 'imagenum', 'Male'\]"),
        ("# comment\n#\tperson\timagenum\tMale\nA\t1\n", r"line 3 has 2 fields; allowed: 3"),
        ("# comment\n#\tperson\timagenum\tMale\nA\tone\t1.0\n", r"line 3 holds a value that"),
        ("# comment\n#\tperson\timagenum\tMale\nA\t1\tnan\n", r"line 3: image number 1 or a"),
        ("# comment\n#\tperson\timagenum\tMale\nA\t1\t1\nA\t1\t2\n", r"line 4: A image 1 appears"),
        ("# comment\n#\tperson\timagenum\tMale\n", r"no records"),
    ],
    ids=["header", "fields", "number", "finite", "duplicate", "empty"],
)
def test_a_malformed_attribute_file_is_refused_naming_the_line(tmp_path, text, match):
    path = tmp_path / lfw.ATTRIBUTES
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=match):
        lfw.read_attributes(path)


def test_an_attribute_file_without_a_property_column_is_refused(raw_dir):
    names = tuple(n for n in NAMES if n != "Sunglasses")
    _attributes(raw_dir / lfw.ATTRIBUTES, [(p, n, v[:5] + v[6:]) for p, n, v in ROWS], names)
    with pytest.raises(DataError, match=r"no attribute column Sunglasses; allowed: a file with"):
        lfw.prepare(raw_dir=raw_dir, seed=0)


def test_attributes_that_match_no_image_are_refused(raw_dir):
    _attributes(raw_dir / lfw.ATTRIBUTES, [("Nobody Here", 1, ROWS[0][2])])
    with pytest.raises(DataError, match=r"none of the 1 images .* is in the archive"):
        lfw.prepare(raw_dir=raw_dir, seed=0)


def test_registry_entry_pins_the_archive_and_leaves_the_attributes_to_the_user():
    spec = get_dataset("lfw")
    archive, attributes = spec.raw_files
    assert archive.filename == "lfw-funneled.tgz"
    assert archive.sources[0] == UrlSource("http://vis-www.cs.umass.edu/lfw/lfw-funneled.tgz", 60.0)
    assert archive.sources[1].url == "https://ndownloader.figshare.com/files/5976015"
    # scikit-learn's recorded sha256 of the figshare copy; torchvision's md5 of the publisher's.
    assert archive.sha256 == "b47c8422c8cded889dc5a13418c4bc2abbda121092b3533a83306f90d900100a"
    assert archive.md5 == "1b42dfed7d15c9b2dd63d5e5840c86ad"
    assert attributes.filename == "lfw_attributes.txt" and attributes.sha256 == UNSTATED
    assert attributes.sources[0].url.startswith("https://www.cs.columbia.edu/CAVE/")
    assert spec.properties == tuple(lfw.PROPERTIES) and spec.num_classes == 2


def test_a_delivered_archive_with_another_digest_is_refused(tmp_path):
    fake = _archive(tmp_path / "lfw-funneled.tgz", {"lfw_funneled/A/A_0001.jpg": _jpeg()})
    (archive, _) = get_dataset("lfw").raw_files
    local = dataclasses.replace(archive, sources=(LocalSource(fake),))
    with pytest.raises(ChecksumError) as err:
        fetch_file(local, raw_dir=tmp_path / "raw")
    assert err.value.expected == archive.sha256
    assert err.value.actual == sha256_file(fake)
    assert "lfw-funneled.tgz from local file" in str(err.value)
    assert not (tmp_path / "raw" / "lfw-funneled.tgz").exists()


def test_the_attribute_file_is_kept_only_once_its_digest_is_recorded(tmp_path, raw_dir):
    (_, attributes) = get_dataset("lfw").raw_files
    local = dataclasses.replace(attributes, sources=(LocalSource(raw_dir / lfw.ATTRIBUTES),))
    target = tmp_path / "fetched"
    with pytest.raises(DataError, match=r"publisher states no digest for lfw_attributes\.txt"):
        fetch_file(local, raw_dir=target)
    assert not (target / "lfw_attributes.txt").exists()
    path = fetch_file(local, raw_dir=target, record_digest=True)
    recorded = (target / "lfw_attributes.txt.sha256").read_text().strip()
    assert recorded == sha256_file(path)
    path.write_text(path.read_text() + "Extra Person\t1\n")
    spec = dataclasses.replace(get_dataset("lfw"), raw_files=(local,))
    with pytest.raises(ChecksumError, match=r"changed since it was fetched"):
        verify_raw(spec, raw_dir=target)


def test_face_matches_scikit_learns_fetch_lfw_people_pixels(tmp_path):
    # The paper's 62 x 47 are fetch_lfw_people(color=True)'s defaults; its image loader is
    # the oracle (a private helper of scikit-learn, a dependency already).
    from sklearn.datasets._lfw import _load_imgs

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(250, 250, 3), dtype=np.uint8)
    path = tmp_path / "face.jpg"
    Image.fromarray(pixels).save(path, format="JPEG", quality=90)
    (expected,) = _load_imgs(
        [str(path)], slice_=(slice(70, 195), slice(78, 172)), color=True, resize=0.5
    )
    ours = lfw.face(path.read_bytes(), where="fixture")
    np.testing.assert_array_equal(ours.transpose(1, 2, 0).astype(np.float32) / 255, expected)


def test_fetch_verify_and_prepare_through_the_registry_entry(tmp_path, raw_dir):
    # The entry's two files, served from local copies of the fixtures; the archive pinned by
    # the fixture's digests in place of the real archive's.
    archive_bytes = (raw_dir / lfw.ARCHIVE).read_bytes()
    spec = get_dataset("lfw")
    archive, attributes = spec.raw_files
    served = (
        dataclasses.replace(
            archive,
            sha256=hashlib.sha256(archive_bytes).hexdigest(),
            md5=hashlib.md5(archive_bytes, usedforsecurity=False).hexdigest(),
            sources=(LocalSource(raw_dir / lfw.ARCHIVE),),
        ),
        dataclasses.replace(attributes, sources=(LocalSource(raw_dir / lfw.ATTRIBUTES),)),
    )
    local = dataclasses.replace(spec, raw_files=served)
    target = tmp_path / "fetched"
    for raw in served:
        fetch_file(raw, raw_dir=target, record_digest=True)
    assert verify_raw(local, raw_dir=target) == [target / lfw.ARCHIVE, target / lfw.ATTRIBUTES]
    pool = local.prepare(raw_dir=target, seed=0)
    assert pool.x.shape == (3, *spec.input_shape) and set(pool.properties) == set(spec.properties)
