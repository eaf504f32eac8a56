"""Metrics records: the per-cell JSON files every table, figure and MLflow run is built from.

A record describes one grid cell (study x dataset x variant x attack) and where its numbers
came from::

    {"study", "dataset", "variant", "attack", "grid": {...}, "seeds": {...},
     "metrics": {...}, "leakbench_version", "git_commit", "provenance": {...}}

It is built and checked in one place (:meth:`MetricsRecord.build` for a new record,
:meth:`MetricsRecord.from_json` for a written one) and written in one form
(:meth:`MetricsRecord.to_json`, canonical JSON), in the manner of TF Privacy's
``AttackInputData.validate`` / ``AttackResults``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from leakbench.errors import ConfigError, LeakbenchError
from leakbench.io import dumps_json, to_builtin, write_text
from leakbench.names import CellId
from leakbench.provenance import REPO_ROOT, environment
from leakbench.provenance import git_commit as _git_commit
from leakbench.provenance import leakbench_version as _leakbench_version

NAME_KEYS = ("study", "dataset", "variant", "attack")
MAPPING_KEYS = ("grid", "seeds", "metrics", "provenance")
VERSION_KEYS = ("leakbench_version", "git_commit")
RECORD_KEYS = NAME_KEYS + MAPPING_KEYS + VERSION_KEYS


class RecordError(LeakbenchError, ValueError):
    """A metrics record or ROC curve is malformed, duplicated or lacks a value a report needs."""


def _check(values: Mapping[str, Any], source: str) -> None:
    """Raise :class:`RecordError` unless ``values`` holds exactly the record's keys, each
    with a value of its kind."""
    keys = set(values)
    if keys != set(RECORD_KEYS):
        missing, unknown = sorted(set(RECORD_KEYS) - keys), sorted(keys - set(RECORD_KEYS))
        raise RecordError(
            f"{source}: keys: missing {missing}, unknown {unknown} is not allowed; "
            f"allowed: {', '.join(RECORD_KEYS)}"
        )
    for key in VERSION_KEYS:
        if not isinstance(values[key], str) or not values[key]:
            raise RecordError(
                f"{source}: {key}: {values[key]!r} is not allowed; allowed: a non-empty string"
            )
    for key in MAPPING_KEYS:
        if not isinstance(values[key], Mapping):
            raise RecordError(
                f"{source}: {key}: {values[key]!r} is not allowed; allowed: a JSON object"
            )
    for key, value in values["seeds"].items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecordError(
                f"{source}: seeds.{key}: {value!r} is not allowed; allowed: an integer"
            )
    for key, value in values["provenance"].items():
        if not isinstance(value, str):
            raise RecordError(
                f"{source}: provenance.{key}: {value!r} is not allowed; allowed: a string"
            )
    try:
        CellId(NAME_KEYS, tuple(values[key] for key in NAME_KEYS))
    except ConfigError as err:
        raise RecordError(f"{source}: {err}") from None
    try:
        dumps_json(values)
    except (TypeError, ValueError) as err:
        raise RecordError(f"{source}: {err}; allowed: finite JSON values") from None


@dataclass(frozen=True)
class MetricsRecord:
    """One grid cell's metrics, with the row, the seeds and the provenance that made them.

    Attributes:
        study: The study (``membership``, ``property_poisoning``, ``privacy``).
        dataset: The dataset name.
        variant: The record's variant label (:func:`leakbench.names.variant_label` for the
            membership cells; property cells name their property, group, model and rate).
        attack: The attack (or ``regression``, the property study's ratio regression).
        grid: The grid row the cell was computed from (JSON values).
        seeds: The config seed and the seeds derived from it, by name.
        metrics: The attack's metrics (JSON values; ``None`` where one is undefined).
        provenance: The software and platform (:func:`leakbench.provenance.environment`).
        leakbench_version: The library's version.
        git_commit: The checkout's commit (:func:`leakbench.provenance.git_commit`).
    """

    study: str
    dataset: str
    variant: str
    attack: str
    grid: Mapping[str, Any]
    seeds: Mapping[str, int]
    metrics: Mapping[str, Any]
    provenance: Mapping[str, str]
    leakbench_version: str
    git_commit: str

    @classmethod
    def build(
        cls,
        *,
        study: str,
        dataset: str,
        variant: str,
        attack: str,
        grid: Mapping[str, Any],
        seeds: Mapping[str, int],
        metrics: Mapping[str, Any],
        provenance: Mapping[str, str] | None = None,
        leakbench_version: str | None = None,
        git_commit: str | None = None,
        source: str = "record",
    ) -> MetricsRecord:
        """The one constructor: a checked record whose values are JSON builtins (numpy
        scalars and arrays become numbers and lists, tuples become lists).

        Args:
            study, dataset, variant, attack: The cell's names; each a non-empty name of
                letters, digits and ``_.+-`` (:class:`leakbench.names.CellId`).
            grid, seeds, metrics: See the attributes; values must be finite JSON values.
            provenance, leakbench_version, git_commit: As read from a written record; when
                None, those of the running code and checkout.
            source: What to call the record in an error message (a file name).

        Raises:
            RecordError: naming the key, the value and what is allowed.
        """
        values = {
            "study": study,
            "dataset": dataset,
            "variant": variant,
            "attack": attack,
            "grid": grid,
            "seeds": seeds,
            "metrics": metrics,
            "provenance": environment() if provenance is None else provenance,
            "leakbench_version": _leakbench_version()
            if leakbench_version is None
            else leakbench_version,
            "git_commit": _git_commit(REPO_ROOT) if git_commit is None else git_commit,
        }
        values = to_builtin(values)
        _check(values, source)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str, *, source: str = "record") -> MetricsRecord:
        """The record a :meth:`to_json` text holds, checked as :meth:`build` checks.

        Raises:
            RecordError: if the text is not JSON, not an object, or not a valid record.
        """
        try:
            values = json.loads(text)
        except json.JSONDecodeError as err:
            raise RecordError(f"{source}: not JSON ({err})") from None
        if not isinstance(values, dict):
            raise RecordError(f"{source}: {values!r} is not allowed; allowed: a JSON object")
        _check(values, source)
        return cls.build(source=source, **values)

    def as_dict(self) -> dict[str, Any]:
        """The record as one JSON object (a fresh dict)."""
        return to_builtin({field.name: getattr(self, field.name) for field in fields(self)})

    def to_json(self) -> str:
        """Canonical JSON (:func:`leakbench.io.dumps_json`): the bytes of a record file."""
        return dumps_json(self.as_dict())

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` to ``path`` atomically."""
        write_text(path, self.to_json())

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> MetricsRecord:
        """The record in file ``path`` (:meth:`from_json`; errors name the file)."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"), source=str(path))

    @property
    def cell(self) -> CellId:
        """The grid cell: ``<study>/<dataset>/<variant>/<attack>``."""
        return CellId(NAME_KEYS, (self.study, self.dataset, self.variant, self.attack))

    @property
    def cell_id(self) -> str:
        """``str(self.cell)``, the cell's name in tables, MLflow runs and messages."""
        return str(self.cell)

    def sha256(self) -> str:
        """The sha256 of :meth:`to_json`: two records hash alike exactly when they hold the
        same keys and values."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def value(self, part: str, key: str) -> Any:
        """``grid``, ``seeds`` or ``metrics`` value ``key``, a :class:`RecordError` naming
        the cell if the record lacks it (a report needs it)."""
        mapping = getattr(self, part)
        if key not in mapping:
            raise RecordError(
                f"{self.cell_id}: {part}.{key}: missing; present: {', '.join(sorted(mapping))}"
            )
        return mapping[key]


def load_records(*, paths: Iterable[str | os.PathLike[str]]) -> list[MetricsRecord]:
    """Read and check metrics records; refuse two records for the same grid cell.

    Args:
        paths: The metrics JSON files, one per grid cell.

    Returns:
        The records, in the order of ``paths``.
    """
    records: list[MetricsRecord] = []
    seen: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        record = MetricsRecord.read(path)
        if record.cell_id in seen:
            raise RecordError(
                f"{path}: cell {record.cell_id} already read from {seen[record.cell_id]}"
            )
        seen[record.cell_id] = path
        records.append(record)
    return records
