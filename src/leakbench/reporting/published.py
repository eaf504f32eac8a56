"""The published numbers leakbench targets, read from their data file
(``workflow/scorecard/published.yaml``), and the selector that finds leakbench's value for
each in the studies' summary metrics files.

The file's header documents a row's keys; :func:`read_published` checks every row before
any value is looked up, with errors in the project's form.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from leakbench.errors import ConfigError, UnknownNameError
from leakbench.reporting.verdicts import COMPARISONS, Trend

WILDCARD = "*"
MATCHES = ("same", "stand-in")
AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {"max": max, "min": min}
_ID = re.compile(r"[a-z0-9][a-z0-9.-]*")
_TEXT_KEYS = ("paper", "citation", "source", "setting", "match_note")
_ROW_KEYS = {"id", "published", "compare", "tolerance", "metric", "match", "trend", "trend_note"}
_METRIC_KEYS = {"study", "path", "minus", "aggregate"}


@dataclass(frozen=True)
class Selector:
    """Where leakbench's value of a published number is: a path in a study's summary
    metrics file (the spec's metrics output, ``results/metrics/<study>.json``).

    Attributes:
        study: the study whose summary holds the value.
        path: the keys from the file's top down to the value; ``*`` stands for every key
            of the mapping at that level.
        minus: a key beside the value's, whose value is subtracted from it (None: none).
        aggregate: a name in :data:`AGGREGATES`, required exactly when the path has a
            ``*``: how the values it matches become one.
    """

    study: str
    path: tuple[str, ...]
    minus: str | None = None
    aggregate: str | None = None

    def __str__(self) -> str:
        text = f"{self.study}:{'/'.join(self.path)}"
        text += "" if self.minus is None else f" - {self.minus}"
        return text if self.aggregate is None else f"{self.aggregate}({text})"


@dataclass(frozen=True)
class PublishedRow:
    """One published number and what leakbench compares with it.

    Attributes:
        id: the row's name (lower case, digits, ``.`` and ``-``).
        paper: the paper, short (``Shokri et al. 2017``); citation: the full reference.
        source: the table, figure or section, quoting the words the value comes from.
        setting: the paper's setting, in words.
        published: the number.
        compare: how leakbench's value must sit against it (:data:`COMPARISONS`).
        tolerance: the absolute tolerance, in the metric's unit.
        metric: where leakbench's value is.
        match: ``same`` (same data and model) or ``stand-in``; match_note says which.
        trend: how a trend is judged when the value is out of tolerance (None: no trend).
        trend_note: why the trend's threshold.
    """

    id: str
    paper: str
    citation: str
    source: str
    setting: str
    published: float
    compare: str
    tolerance: float
    metric: Selector
    match: str
    match_note: str
    trend: Trend | None = None
    trend_note: str = ""


def _number(where: str, value: Any, *, minimum: float = -math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {value!r} is not allowed; allowed: a finite number")
    if value < minimum:
        raise ConfigError(f"{where}: {value!r} is not allowed; allowed: a number >= {minimum:g}")
    return float(value)


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {value!r} is not allowed; allowed: a non-empty string")
    return " ".join(value.split())


def _keys(where: str, values: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown, missing = sorted(set(values) - allowed), sorted(required - set(values))
    if unknown or missing:
        raise ConfigError(
            f"{where}: keys: unknown {unknown}, missing {missing} is not allowed; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _selector(where: str, values: Any) -> Selector:
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: {values!r} is not allowed; allowed: a mapping")
    _keys(where, values, _METRIC_KEYS, {"study", "path"})
    path = values["path"]
    if not isinstance(path, list) or not path or not all(isinstance(k, str) for k in path):
        raise ConfigError(f"{where}.path: {path!r} is not allowed; allowed: a list of strings")
    aggregate = values.get("aggregate")
    if aggregate is not None and aggregate not in AGGREGATES:
        raise UnknownNameError(f"{where}.aggregate", aggregate, AGGREGATES)
    if (aggregate is None) == (WILDCARD in path):
        raise ConfigError(
            f"{where}.aggregate: {aggregate!r} is not allowed; allowed: an aggregate exactly "
            f"when the path has {WILDCARD!r}"
        )
    minus = values.get("minus")
    return Selector(
        study=_text(f"{where}.study", values["study"]),
        path=tuple(path),
        minus=None if minus is None else _text(f"{where}.minus", minus),
        aggregate=aggregate,
    )


def _trend(where: str, values: Any) -> Trend:
    if not isinstance(values, Mapping) or len(values) != 1:
        raise ConfigError(
            f"{where}: {values!r} is not allowed; allowed: one of above, below: a number"
        )
    ((kind, threshold),) = values.items()
    return Trend(kind=kind, threshold=_number(f"{where}.{kind}", threshold))


def _row(where: str, values: Any) -> PublishedRow:
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: {values!r} is not allowed; allowed: a mapping")
    allowed = _ROW_KEYS | set(_TEXT_KEYS)
    _keys(where, values, allowed, allowed - {"trend", "trend_note"})
    row_id = values["id"]
    if not isinstance(row_id, str) or not _ID.fullmatch(row_id):
        raise ConfigError(
            f"{where}.id: {row_id!r} is not allowed; allowed: lower case, digits, '.' and '-'"
        )
    if values["compare"] not in COMPARISONS:
        raise UnknownNameError(f"{row_id}.compare", values["compare"], COMPARISONS)
    if values["match"] not in MATCHES:
        raise UnknownNameError(f"{row_id}.match", values["match"], MATCHES)
    trend = values.get("trend")
    if (trend is None) != ("trend_note" not in values):
        raise ConfigError(
            f"{row_id}.trend_note: {values.get('trend_note')!r} is not allowed; allowed: a "
            "note exactly when the row has a trend"
        )
    return PublishedRow(
        id=row_id,
        **{key: _text(f"{row_id}.{key}", values[key]) for key in _TEXT_KEYS},
        published=_number(f"{row_id}.published", values["published"]),
        compare=values["compare"],
        tolerance=_number(f"{row_id}.tolerance", values["tolerance"], minimum=0),
        metric=_selector(f"{row_id}.metric", values["metric"]),
        match=values["match"],
        trend=None if trend is None else _trend(f"{row_id}.trend", trend),
        trend_note="" if trend is None else _text(f"{row_id}.trend_note", values["trend_note"]),
    )


def parse_published(*, data: Any, source: str = "published") -> list[PublishedRow]:
    """The rows of a published-numbers document (``{"rows": [...]}``), checked.

    Raises:
        ConfigError: naming the row and key of the first value that is not allowed, or an
            id used twice.
    """
    if not isinstance(data, Mapping) or set(data) != {"rows"} or not isinstance(data["rows"], list):
        raise ConfigError(f"{source}: {data!r} is not allowed; allowed: a mapping rows: [...]")
    rows = [_row(f"{source}.rows[{i}]", values) for i, values in enumerate(data["rows"])]
    ids = [row.id for row in rows]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(f"{source}: id {', '.join(repeated)} is not allowed; allowed: once")
    return rows


def read_published(path: str | os.PathLike[str]) -> list[PublishedRow]:
    """The checked rows of the data file ``path`` (:func:`parse_published`)."""
    with Path(path).open(encoding="utf-8") as handle:
        return parse_published(data=yaml.safe_load(handle), source=str(path))


def _leaves(node: Any, path: Sequence[str]) -> list[Mapping[str, Any]]:
    """The mappings that hold the path's last key, ``*`` expanded (missing keys: none)."""
    if not isinstance(node, Mapping):
        return []
    if len(path) == 1:
        return [node]
    keys = sorted(node) if path[0] == WILDCARD else [path[0]] if path[0] in node else []
    return [leaf for key in keys for leaf in _leaves(node[key], path[1:])]


def _value(leaf: Mapping[str, Any], key: str, minus: str | None) -> float | None:
    """``leaf[key]`` (minus ``leaf[minus]``), None where a value is missing or null."""
    keys = [key] if minus is None else [key, minus]
    values = [leaf.get(k) for k in keys]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        return None
    return float(values[0]) if minus is None else float(values[0]) - float(values[1])


def select(*, selector: Selector, summaries: Mapping[str, Any]) -> float | None:
    """leakbench's value at ``selector``, None if the run has none.

    Args:
        selector: where the value is.
        summaries: ``{study: its summary metrics (parsed JSON)}`` of the studies the run
            configures; a study that is absent has no values.

    Returns:
        The value; with a ``*``, the aggregate of every matched value that is a number
        (null values, undefined for a cell such as the accountant's epsilon without DP,
        are left out); None when nothing matches.
    """
    if selector.study not in summaries:
        return None
    *_, key = selector.path
    values = [
        v
        for leaf in _leaves(summaries[selector.study], selector.path)
        if (v := _value(leaf, key, selector.minus)) is not None
    ]
    if not values:
        return None
    if selector.aggregate is None:
        return values[0]
    return AGGREGATES[selector.aggregate](values)
