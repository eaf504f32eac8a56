"""FourSquare check-ins in New York City and Tokyo (Yang, Zhang, Zheng and Yu 2015, "Modeling
user activity preference by leveraging user spatial temporal characteristics in LBSNs",
IEEE TSMC 45(1)), as token sequences for a text CNN.

Melis et al. 2019 (section V) train Kim's text CNN on FourSquare users' check-ins: location
indices (the 30,000 most popular locations) padded to l = 100, one record per user who
checked in at >= 10 different locations in NYC. Their subset comes from Yang et al.'s
global dataset with the users' gender (Yang et al. 2016, PrivCheck), which is not public
as a download; the public NYC/Tokyo dataset read here holds no gender. So the class here is
the user's city (0: New York, 1: Tokyo), which is not the paper's task; the location
sequences, vocabulary and length are the paper's, which is what the embedding-gradient
membership attack (their Table II) and the vocabulary defence (Table VI) read.

Raw file: ``dataset_tsmc2014.zip`` from Daqing Zhang's page at Telecom SudParis, where
Dingqi Yang's dataset page points (official; the current address first, then the one the
page gave before the school's domain changed), then the Internet Archive's copy of the
older address (not verified offline). The publisher states no digest: the first fetch
stops and prints the sha256 of what it downloaded, and ``leakbench fetch foursquare_tsmc
--record-digest`` records it (:mod:`leakbench.data.sources`).

Format (the archive's readme): members ``dataset_TSMC2014_NYC.txt`` (227,428 check-ins) and
``dataset_TSMC2014_TKY.txt`` (573,703), in a folder of the archive; tab-separated latin-1
text, one check-in a line, 8 fields: user ID, venue ID, venue category ID, venue category
name, latitude, longitude, time-zone offset in minutes, UTC time (e.g. ``Tue Apr 03
18:00:09 +0000 2012``).

Preparation: user IDs are per city (user 1 of NYC is not user 1 of Tokyo). A user's
check-ins are put in time order (ties in file order); users with fewer than 10 different
venues are left out. The vocabulary ranks venues by check-in count over both cities (ties
by venue ID); the top 29,998 get the ids 2, 3, ...; 0 pads, 1 stands for any other venue.
A record is the ids of the user's first 100 check-ins, padded with 0 at the end; x holds
them as float32 (exact below 2**24; the trainer casts token inputs to int64). Records are
the NYC users then the Tokyo users, each by user ID.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leakbench.data.pool import Pool
from leakbench.data.sources import UNSTATED, RawFile, UrlSource, require_raw
from leakbench.data.spec import DatasetSpec
from leakbench.errors import DataError

ARCHIVE = "dataset_tsmc2014.zip"
CITIES = ("nyc", "tokyo")
MEMBERS = {"nyc": "dataset_TSMC2014_NYC.txt", "tokyo": "dataset_TSMC2014_TKY.txt"}
LENGTH = 100
VOCAB = 30_000
PAD, OTHER = 0, 1
MIN_VENUES = 10
FIELDS = 8
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {month: i for i, month in enumerate(MONTHS)}

_OFFICIAL = "http://www-public.imtbs-tsp.eu/~zhang_da/pub/"
_OLD = "http://www-public.it-sudparis.eu/~zhang_da/pub/"
_WAYBACK = "https://web.archive.org/web/2019id_/" + _OLD


@dataclass(frozen=True, slots=True)
class CheckIn:
    """One check-in: the user (per city), the venue and the UTC time as a sortable key."""

    user: int
    venue: str
    time: tuple[int, int, int, int, int, int]


def parse_time(text: str) -> tuple[int, int, int, int, int, int]:
    """``"Tue Apr 03 18:00:09 +0000 2012"`` -> ``(2012, 3, 3, 18, 0, 9)`` (year, month 0-11,
    day, hour, minute, second), independent of the locale.

    Raises:
        ValueError: if the text is not in that form or its offset is not +0000.
    """
    parts = text.split()
    if len(parts) != 6 or parts[4] != "+0000" or parts[1] not in _MONTHS:
        raise ValueError(text)
    hour, minute, second = (int(v) for v in parts[3].split(":"))
    return (int(parts[5]), _MONTHS[parts[1]], int(parts[2]), hour, minute, second)


def read_checkins(lines: list[bytes], *, where: str) -> list[CheckIn]:
    """Parse one city's member (format in the module docstring).

    Raises:
        DataError: naming ``where`` and the line, if a line has other than 8 fields, a user
            ID is not an integer, a time does not parse, or there are no check-ins.
    """
    checkins = []
    for number, raw in enumerate(lines, start=1):
        line = raw.decode("latin-1").rstrip("\r\n")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != FIELDS:
            raise DataError(f"{where}: line {number} has {len(fields)} fields; allowed: {FIELDS}")
        try:
            checkins.append(CheckIn(int(fields[0]), fields[1], parse_time(fields[7])))
        except ValueError:
            raise DataError(
                f"{where}: line {number}: user {fields[0]!r} or time {fields[7]!r} is not "
                "allowed; allowed: an integer user ID and a time like 'Tue Apr 03 18:00:09 "
                "+0000 2012'"
            ) from None
    if not checkins:
        raise DataError(f"{where}: no check-ins")
    return checkins


def read_archive(path: Path) -> dict[str, list[CheckIn]]:
    """Each city's check-ins, from the members named in :data:`MEMBERS` (in any folder).

    Raises:
        DataError: if the file is not a zip archive, a member is missing or appears twice,
            or a member is malformed (:func:`read_checkins`).
    """
    cities = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            for city, member in MEMBERS.items():
                found = [n for n in names if n.rsplit("/", 1)[-1] == member]
                if len(found) != 1:
                    raise DataError(
                        f"{path}: {len(found)} members named {member}; expected exactly one"
                    )
                with archive.open(found[0]) as handle:
                    cities[city] = read_checkins(handle.readlines(), where=f"{path}:{found[0]}")
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DataError(f"{path}: not a readable zip archive: {err}") from err
    return cities


def vocabulary(cities: dict[str, list[CheckIn]], *, size: int = VOCAB) -> dict[str, int]:
    """Venue -> token id for the ``size - 2`` venues checked in most (ties by venue ID),
    ids from 2 in that order (0 pads, 1 is any other venue)."""
    counts = Counter(c.venue for checkins in cities.values() for c in checkins)
    ranked = sorted(counts, key=lambda venue: (-counts[venue], venue))[: size - 2]
    return {venue: token for token, venue in enumerate(ranked, start=OTHER + 1)}


def sequences(
    cities: dict[str, list[CheckIn]],
    *,
    vocab: dict[str, int],
    length: int = LENGTH,
    min_venues: int = MIN_VENUES,
) -> tuple[np.ndarray, np.ndarray]:
    """Token records and city labels (module docstring): int64 ``[N, length]`` and ``[N]``."""
    records, labels = [], []
    for label, city in enumerate(CITIES):
        by_user: dict[int, list[tuple[tuple[int, ...], int, str]]] = {}
        for order, checkin in enumerate(cities[city]):
            by_user.setdefault(checkin.user, []).append((checkin.time, order, checkin.venue))
        for user in sorted(by_user):
            visits = sorted(by_user[user])
            if len({venue for _, _, venue in visits}) < min_venues:
                continue
            tokens = [vocab.get(venue, OTHER) for _, _, venue in visits[:length]]
            records.append(tokens + [PAD] * (length - len(tokens)))
            labels.append(label)
    return np.asarray(records, dtype=np.int64).reshape(-1, length), np.asarray(labels, np.int64)


def build_pool(path: Path) -> Pool:
    """The pool of ``dataset_tsmc2014.zip`` (module docstring).

    Raises:
        DataError: if the archive is malformed or a city keeps no user.
    """
    cities = read_archive(path)
    tokens, labels = sequences(cities, vocab=vocabulary(cities))
    kept = np.bincount(labels, minlength=len(CITIES))
    if not kept.all():
        raise DataError(
            f"{path}: users with >= {MIN_VENUES} different venues per city "
            f"{dict(zip(CITIES, kept.tolist(), strict=True))}; allowed: at least one in each"
        )
    return Pool(
        x=tokens.astype(np.float32),
        y=labels,
        properties={},
        feature_names=tuple(f"checkin_{j:03d}" for j in range(LENGTH)),
        num_classes=len(CITIES),
    )


def prepare(*, raw_dir: Path, seed: int) -> Pool:
    """Parse the fetched archive; ``seed`` is unused (no draws)."""
    del seed
    return build_pool(require_raw(raw_dir=raw_dir, filename=ARCHIVE))


SPEC = DatasetSpec(
    name="foursquare_tsmc",
    description=(
        "FourSquare check-ins in New York and Tokyo (Yang et al. 2015, the public NYC/Tokyo "
        "dataset): one record per user with >= 10 different venues, the first 100 check-ins "
        "as venue tokens (the 29,998 most visited venues; 0 pads, 1 any other), class = "
        "city (the paper's gender labels are not public). The publisher states no digest: "
        "record yours with `leakbench fetch foursquare_tsmc --record-digest`."
    ),
    synthetic=False,
    raw_files=(
        RawFile(
            filename=ARCHIVE,
            sha256=UNSTATED,
            sources=(
                UrlSource(_OFFICIAL + ARCHIVE, timeout_s=60.0),
                UrlSource(_OLD + ARCHIVE, timeout_s=60.0),
                UrlSource(_WAYBACK + ARCHIVE, timeout_s=60.0),
            ),
        ),
    ),
    input_shape=(LENGTH,),
    num_classes=len(CITIES),
    properties=(),
    prepare=prepare,
)
