"""Metrics records: the per-cell JSON files every table, figure and MLflow run is built from.

A record describes one grid cell (study x dataset x variant x attack)::

    {"study", "dataset", "variant", "attack", "grid": {...}, "seeds": {...},
     "metrics": {...}, "leakbench_version", "git_commit"}
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from leakbench.errors import LeakbenchError
from leakbench.io import dumps_json, read_json

NAME_KEYS = ("study", "dataset", "variant", "attack")
MAPPING_KEYS = ("grid", "seeds", "metrics")
PROVENANCE_KEYS = ("leakbench_version", "git_commit")
RECORD_KEYS = NAME_KEYS + MAPPING_KEYS + PROVENANCE_KEYS


class RecordError(LeakbenchError, ValueError):
    """A metrics record or ROC curve is malformed, duplicated or lacks a value a report needs."""


def check_record(*, record: Mapping[str, Any], source: str = "record") -> None:
    """Raise :class:`RecordError` unless ``record`` has every key with the right type.

    Args:
        record: One metrics record.
        source: What to call the record in the message (its file name, normally).
    """
    if not isinstance(record, Mapping):
        raise RecordError(f"{source}: a metrics record must be a JSON object, got {record!r}")
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        raise RecordError(
            f"{source}: missing key(s) {', '.join(missing)}; required: {', '.join(RECORD_KEYS)}"
        )
    for key in NAME_KEYS + PROVENANCE_KEYS:
        value = record[key]
        if not isinstance(value, str) or not value or (key in NAME_KEYS and "/" in value):
            raise RecordError(
                f"{source}: {key}: {value!r} is not allowed; expected a non-empty string"
                + (" without '/'" if key in NAME_KEYS else "")
            )
    for key in MAPPING_KEYS:
        if not isinstance(record[key], Mapping):
            raise RecordError(
                f"{source}: {key}: expected a JSON object, got {type(record[key]).__name__}"
            )


def cell_id(*, record: Mapping[str, Any]) -> str:
    """The grid cell a record belongs to: ``"<study>/<dataset>/<variant>/<attack>"``."""
    check_record(record=record)
    return "/".join(record[key] for key in NAME_KEYS)


def record_sha256(*, record: Mapping[str, Any]) -> str:
    """The sha256 of the record's canonical JSON (:func:`leakbench.io.dumps_json`).

    Two records hash alike exactly when they hold the same keys and values, whatever the
    order their keys were written in.
    """
    return hashlib.sha256(dumps_json(record).encode("utf-8")).hexdigest()


def load_records(*, paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Read and check metrics records; refuse two records for the same grid cell.

    Args:
        paths: The metrics JSON files, one per grid cell.

    Returns:
        The records, in the order of ``paths``.
    """
    records: list[dict[str, Any]] = []
    seen: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        record = read_json(path)
        check_record(record=record, source=str(path))
        cell = cell_id(record=record)
        if cell in seen:
            raise RecordError(f"{path}: cell {cell} already read from {seen[cell]}")
        seen[cell] = path
        records.append(record)
    return records
