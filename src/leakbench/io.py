"""Atomic, byte-deterministic writers and readers for every artifact leakbench makes.

Every writer goes through :func:`atomic_path`: bytes land under a temporary name in the
target's folder and are renamed into place only when complete, so a killed job never
leaves a file that looks finished.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# The names atomic_path's temporaries get: ``.<target name>.<8 random chars>.tmp``.
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        tmp_path.chmod(0o644)  # mkstemp creates 0600; artifacts are meant to be shared
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporaries that killed writers left under ``folder``; return them.

    A process killed by SIGKILL cannot clean up after :func:`atomic_path`, so its
    temporary stays beside the target (the target itself is untouched). Call this only
    while no writer can be running under ``folder``: the workflow calls it when a run
    starts, once Snakemake holds the folder's lock.
    """
    stale = sorted(
        path
        for path in Path(folder).rglob(".*.tmp")
        if path.is_file() and _TEMPORARY.fullmatch(path.name)
    )
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def to_builtin(obj: Any) -> Any:
    """Recursively turn numpy scalars and arrays into Python types that JSON accepts."""
    if isinstance(obj, Mapping):
        return {str(k): to_builtin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_builtin(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_builtin(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def dumps_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, two-space indent, trailing newline, no NaN."""
    return json.dumps(to_builtin(obj), sort_keys=True, indent=2, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as canonical JSON, atomically."""
    write_text(path, dumps_json(obj))


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """Write arrays as an uncompressed ``.npz`` whose bytes depend only on the arrays.

    ``numpy.savez`` stamps the wall-clock time into each zip entry; here every entry has
    the fixed date 1980-01-01 and entries are sorted by name.
    """
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file (no pickles)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
