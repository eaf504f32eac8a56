"""LFW: Labeled Faces in the Wild (Huang et al. 2007) with the attributes of Kumar et al.

Melis et al. 2019 (section V, Table I) train their collaborative face models on LFW's
13,233 images as 62 x 47 RGB faces, with main tasks and properties from the attributes
"gender, race, age, hair color, and eyewear" (Table III: gender against race: black,
race: asian, eyewear: sunglasses, eyeglasses ...). Two raw files:

- ``lfw-funneled.tgz``: the funneled images, from the publisher's page
  (http://vis-www.cs.umass.edu/lfw/, the official source, tried first) and the figshare copy
  scikit-learn's ``fetch_lfw_people`` downloads (the mirror). One 250 x 250 JPEG per image,
  member ``lfw_funneled/<Name>/<Name>_<NNNN>.jpg`` (spaces of the name are underscores,
  NNNN the 1-based image number). The publisher states no digest: the pins are the sha256
  scikit-learn records for its figshare copy and the MD5 torchvision records for the
  publisher's file. Neither was measured here (no network); both are checked on every fetch
  and before every preparation, so a wrong pin or mirrors that disagree show up as an
  error naming the file, the expected and the actual digest, never as different data.
- ``lfw_attributes.txt``: the 73 attribute scores per image of Kumar, Berg, Belhumeur and
  Nayar (2009, "Attribute and simile classifiers for face verification"), from their PubFig
  page at Columbia (official) and the Internet Archive's copy of that address (the mirror;
  not verified offline). No digest is stated anywhere: the first fetch stops and prints the
  sha256 of what it downloaded, and ``leakbench fetch lfw --record-digest`` records it
  (:mod:`leakbench.data.sources`). Format: tab-separated text; line 1 a comment, line 2 the
  header ``#``, ``person``, ``imagenum``, then the attribute names; then one line per image:
  the person's name (with spaces), the image number, and one real-valued classifier score
  per attribute (positive: the attribute is present).

Preparation (what scikit-learn's ``fetch_lfw_people(color=True)`` does, which gives the
paper's 62 x 47): each JPEG is decoded to RGB, cropped to rows 70-194 and columns 78-171
(125 x 94), and resized by one half with bicubic interpolation to 62 x 47. The pool holds
the images that have an attribute line, in the order of the attribute file; x is float32
``[N, 3, 62, 47]`` in [0, 1]. The class is the gender (1: the ``Male`` score is positive);
the record properties are the attributes Melis et al.'s Table III uses, each true where its
score is positive (the sign is the attribute classifiers' decision; ours to take as the
binary label, as the paper states no threshold).
"""

from __future__ import annotations

import io
import logging
import tarfile
from pathlib import Path

import numpy as np

from leakbench.data.pool import Pool, image_pool
from leakbench.data.sources import UNSTATED, RawFile, UrlSource, require_raw
from leakbench.data.spec import DatasetSpec
from leakbench.errors import DataError

log = logging.getLogger(__name__)

ARCHIVE = "lfw-funneled.tgz"
ATTRIBUTES = "lfw_attributes.txt"
FOLDER = "lfw_funneled"
SOURCE_SIDE = 250
CROP_BOX = (78, 70, 172, 195)  # (left, upper, right, lower): columns 78-171, rows 70-194
HEIGHT, WIDTH = 62, 47
CHANNELS = 3
CLASS_ATTRIBUTE = "Male"
CLASSES = ("female", "male")
# Record property -> the attribute column it is read from (Melis et al. Table III).
PROPERTIES = {
    "black": "Black",
    "asian": "Asian",
    "white": "White",
    "sunglasses": "Sunglasses",
    "eyeglasses": "Eyeglasses",
    "smiling": "Smiling",
}
_HEADER_LEAD = ("#", "person", "imagenum")

_UMASS = "http://vis-www.cs.umass.edu/lfw/"
_FIGSHARE = "https://ndownloader.figshare.com/files/5976015"
_COLUMBIA = "https://www.cs.columbia.edu/CAVE/databases/pubfig/download/"
_WAYBACK = "https://web.archive.org/web/2019id_/" + _COLUMBIA.replace("https:", "http:", 1)


def read_attributes(path: Path) -> tuple[list[tuple[str, int]], tuple[str, ...], np.ndarray]:
    """Parse ``lfw_attributes.txt`` (format in the module docstring).

    Returns:
        ``(images, names, scores)``: (person, image number) per line, the attribute names,
        and float64 ``[lines, attributes]`` scores.

    Raises:
        DataError: naming the file and line, if the header is not the documented one, a
            line has the wrong number of fields, a number does not parse, a score is not
            finite, an (person, image number) pair repeats, or there are no lines.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a readable UTF-8 text file: {err}") from err
    lines = text.splitlines()
    if len(lines) < 2:
        raise DataError(f"{path}: {len(lines)} lines; expected a comment, a header and records")
    header = lines[1].rstrip("\r").split("\t")
    if tuple(header[:3]) != _HEADER_LEAD or len(header) < 4:
        raise DataError(
            f"{path}: line 2 starts {header[:3]}; expected the header "
            f"{list(_HEADER_LEAD)} followed by attribute names"
        )
    names = tuple(header[3:])
    width = 2 + len(names)
    images: list[tuple[str, int]] = []
    rows: list[list[float]] = []
    seen: set[tuple[str, int]] = set()
    for number, line in enumerate(lines[2:], start=3):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) != width:
            raise DataError(f"{path}: line {number} has {len(fields)} fields; allowed: {width}")
        try:
            image = (fields[0], int(fields[1]))
            scores = [float(v) for v in fields[2:]]
        except ValueError:
            raise DataError(f"{path}: line {number} holds a value that is not a number") from None
        if image[1] < 1 or not np.isfinite(scores).all():
            raise DataError(
                f"{path}: line {number}: image number {image[1]} or a score is not allowed; "
                "allowed: an image number >= 1 and finite scores"
            )
        if image in seen:
            raise DataError(f"{path}: line {number}: {image[0]} image {image[1]} appears twice")
        seen.add(image)
        images.append(image)
        rows.append(scores)
    if not rows:
        raise DataError(f"{path}: no records")
    return images, names, np.asarray(rows, dtype=np.float64)


def member_name(person: str, number: int) -> str:
    """The archive member of ``person``'s image ``number``, e.g.
    ``lfw_funneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg``."""
    folder = person.replace(" ", "_")
    return f"{FOLDER}/{folder}/{folder}_{number:04d}.jpg"


def face(jpeg: bytes, *, where: str) -> np.ndarray:
    """One JPEG as uint8 ``[3, 62, 47]``: RGB, cropped and resized as
    ``fetch_lfw_people(color=True)`` does (see the module docstring).

    Raises:
        DataError: naming ``where``, if the bytes are not an image or not 250 x 250.
    """
    from PIL import Image, UnidentifiedImageError  # only preparation decodes images

    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            if image.size != (SOURCE_SIDE, SOURCE_SIDE):
                raise DataError(
                    f"{where}: image of {image.size[0]} x {image.size[1]} pixels; "
                    f"expected {SOURCE_SIDE} x {SOURCE_SIDE}"
                )
            rgb = image.convert("RGB").crop(CROP_BOX)
            small = rgb.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
            pixels = np.asarray(small, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{where}: not a readable image: {err}") from err
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def read_faces(path: Path, wanted: list[str]) -> dict[str, np.ndarray]:
    """Decode the members of ``wanted`` that the archive holds (:func:`face`).

    Raises:
        DataError: if the archive is not a readable gzip-compressed tar or an image is bad.
    """
    wanted_set = set(wanted)
    faces: dict[str, np.ndarray] = {}
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for info in archive:
                name = info.name.removeprefix("./")
                if name not in wanted_set or not info.isfile():
                    continue
                handle = archive.extractfile(info)
                if handle is None:
                    raise DataError(f"{path}: member {name} cannot be read")
                with handle:
                    faces[name] = face(handle.read(), where=f"{path}:{name}")
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DataError(f"{path}: not a readable gzip-compressed tar archive: {err}") from err
    return faces


def build_pool(*, archive: Path, attributes: Path) -> Pool:
    """The pool of the images that have an attribute line (module docstring).

    Raises:
        DataError: if a file is malformed, the attribute file lacks ``Male`` or a property's
            column, no attribute line has its image in the archive, or the pool holds one
            gender only.
    """
    images, names, scores = read_attributes(attributes)
    needed = (CLASS_ATTRIBUTE, *PROPERTIES.values())
    missing = [name for name in needed if name not in names]
    if missing:
        raise DataError(
            f"{attributes}: no attribute column {', '.join(missing)}; allowed: a file with "
            f"the columns {', '.join(needed)}"
        )
    members = [member_name(person, number) for person, number in images]
    faces = read_faces(archive, members)
    kept = [i for i, member in enumerate(members) if member in faces]
    if not kept:
        raise DataError(
            f"{archive}: none of the {len(members)} images of {attributes} is in the archive "
            f"(expected members like {members[0]})"
        )
    if len(kept) < len(members):
        log.warning(
            "%s: %d of %d attribute lines have no image in %s; left out",
            attributes,
            len(members) - len(kept),
            len(members),
            archive,
        )
    column = {name: j for j, name in enumerate(names)}
    labels = (scores[kept, column[CLASS_ATTRIBUTE]] > 0).astype(np.int64)
    if len(np.unique(labels)) < len(CLASSES):
        raise DataError(f"{attributes}: every kept image has the same gender; allowed: both")
    pool = image_pool(
        images=np.stack([faces[members[i]] for i in kept]),
        labels=labels,
        num_classes=len(CLASSES),
    )
    properties = {prop: scores[kept, column[name]] > 0 for prop, name in PROPERTIES.items()}
    return Pool(
        x=pool.x,
        y=pool.y,
        properties=properties,
        feature_names=(),
        num_classes=pool.num_classes,
    )


def prepare(*, raw_dir: Path, seed: int) -> Pool:
    """Parse the fetched archive and attribute file; ``seed`` is unused (no draws)."""
    del seed
    return build_pool(
        archive=require_raw(raw_dir=raw_dir, filename=ARCHIVE),
        attributes=require_raw(raw_dir=raw_dir, filename=ATTRIBUTES),
    )


RAW_FILES = (
    RawFile(
        filename=ARCHIVE,
        sha256="b47c8422c8cded889dc5a13418c4bc2abbda121092b3533a83306f90d900100a",
        md5="1b42dfed7d15c9b2dd63d5e5840c86ad",
        sources=(UrlSource(_UMASS + ARCHIVE, timeout_s=60.0), UrlSource(_FIGSHARE, timeout_s=60.0)),
    ),
    RawFile(
        filename=ATTRIBUTES,
        sha256=UNSTATED,
        sources=(UrlSource(_COLUMBIA + ATTRIBUTES), UrlSource(_WAYBACK + ATTRIBUTES)),
    ),
)

SPEC = DatasetSpec(
    name="lfw",
    description=(
        "LFW (Huang et al. 2007), funneled, with Kumar et al.'s attributes: the images that "
        "have attributes (about 13,100 of 13,233) as 62 x 47 RGB in [0, 1], class = gender, "
        "properties from the attribute scores (Melis et al. 2019, Table III). The attribute "
        "file's publisher states no digest: record yours with `leakbench fetch lfw "
        "--record-digest`."
    ),
    synthetic=False,
    raw_files=RAW_FILES,
    input_shape=(CHANNELS, HEIGHT, WIDTH),
    num_classes=len(CLASSES),
    properties=tuple(PROPERTIES),
    prepare=prepare,
)
