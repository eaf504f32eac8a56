"""Result tables built from metrics records, and byte-stable CSV and Markdown writers.

The writers round every float to the precision they print, so two runs whose metrics agree
to that precision produce identical bytes.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from pandas.api.types import is_float_dtype

from leakbench.io import write_text
from leakbench.names import parse_shadow_label
from leakbench.reporting.records import MetricsRecord, RecordError

KEY_COLUMNS = ("dataset", "variant", "shadow_data", "attack")
MEMBERSHIP_METRICS = (
    "auc",
    "tpr_at_fpr_0.01",
    "tpr_at_fpr_0.001",
    "precision",
    "recall",
    "balanced_accuracy",
    "target_train_accuracy",
    "target_test_accuracy",
)
MEMBERSHIP_COLUMNS = (*KEY_COLUMNS, *MEMBERSHIP_METRICS, "generalisation_gap")
DEFAULT_DIGITS = 4
MARKDOWN_MISSING = "n/a"


def _metric(*, cell: str, metrics: Mapping[str, Any], key: str) -> float:
    """One metric as a float (``None`` becomes NaN, a value the record could not compute)."""
    if key not in metrics:
        raise RecordError(
            f"{cell}: metrics: missing key {key!r}; required: {', '.join(MEMBERSHIP_METRICS)}"
        )
    value = metrics[key]
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"{cell}: metrics.{key}: {value!r} is not allowed; expected a number")
    return float(value)


def membership_table(*, records: Iterable[MetricsRecord]) -> pd.DataFrame:
    """One row per (dataset, variant, shadow data, attack) cell with the attack and target
    metrics; the shadow-data variant (Shokri et al. 2017, section V-C) is read from the
    record's variant label (:func:`leakbench.names.parse_shadow_label`).

    The generalisation gap is target train accuracy minus target test accuracy, the
    overfitting measure Shokri et al. 2017 (S&P) relate to leakage in Sec. VI, "Effect of
    overfitting" (Fig. 11). A metric stored as ``null`` stays missing (NaN), and so does a
    gap computed from it.

    Args:
        records: Metrics records (see :mod:`leakbench.reporting.records`).

    Returns:
        A frame with columns :data:`MEMBERSHIP_COLUMNS`, rows sorted by dataset, variant,
        shadow data, attack, and a fresh ``RangeIndex``.
    """
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, ...]] = set()
    for record in records:
        cell = record.cell_id
        variant, shadow_data = parse_shadow_label(record.variant)
        key = (record.dataset, variant, shadow_data, record.attack)
        if key in seen:
            raise RecordError(f"{cell}: two records for {'/'.join(key)}; expected one per cell")
        seen.add(key)
        row: dict[str, Any] = dict(zip(KEY_COLUMNS, key, strict=True))
        for metric in MEMBERSHIP_METRICS:
            row[metric] = _metric(cell=cell, metrics=record.metrics, key=metric)
        row["generalisation_gap"] = row["target_train_accuracy"] - row["target_test_accuracy"]
        rows.append(row)
    if not rows:
        raise RecordError("membership table: no records; expected at least one")
    rows.sort(key=lambda row: tuple(row[column] for column in KEY_COLUMNS))
    return pd.DataFrame(rows, columns=list(MEMBERSHIP_COLUMNS))


def _format_float(value: float, *, digits: int, missing: str) -> str:
    """``value`` with exactly ``digits`` decimals; never ``-0.0000``; NaN as ``missing``."""
    if math.isnan(value):
        return missing
    text = f"{value:.{digits}f}"
    return text.removeprefix("-") if float(text) == 0 else text


def _cells(table: pd.DataFrame, *, digits: int, missing: str) -> list[list[str]]:
    """Every body cell as text: float columns rounded to ``digits``, the rest ``str``."""
    if digits < 0:
        raise ValueError(f"digits: {digits!r} is not allowed; expected an integer >= 0")
    columns = []
    for name in table.columns:
        values = table[name].tolist()
        if is_float_dtype(table[name].dtype):
            columns.append([_format_float(v, digits=digits, missing=missing) for v in values])
        else:
            columns.append([str(v) for v in values])
    return [list(row) for row in zip(*columns, strict=True)]


def table_csv(*, table: pd.DataFrame, digits: int = DEFAULT_DIGITS) -> str:
    """The table as CSV text: a header line, ``\\n`` line ends, missing floats empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([str(name) for name in table.columns])
    writer.writerows(_cells(table, digits=digits, missing=""))
    return buf.getvalue()


def table_markdown(*, table: pd.DataFrame, digits: int = DEFAULT_DIGITS) -> str:
    """The table as a GitHub Markdown table, padded so the raw text lines up.

    Float columns are right-aligned, the others left-aligned; missing floats read ``n/a``;
    a ``|`` inside a cell is escaped.
    """
    header = [str(name).replace("|", "\\|") for name in table.columns]
    body = [
        [cell.replace("|", "\\|") for cell in row]
        for row in _cells(table, digits=digits, missing=MARKDOWN_MISSING)
    ]
    right = [is_float_dtype(table[name].dtype) for name in table.columns]
    widths = [max(3, len(header[i]), *(len(row[i]) for row in body)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(width) if is_right else cell.ljust(width)
            for cell, width, is_right in zip(cells, widths, right, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        "-" * (width - 1) + ":" if is_right else ":" + "-" * (width - 1)
        for width, is_right in zip(widths, right, strict=True)
    ]
    return "\n".join([line(header), line(rule), *(line(row) for row in body)]) + "\n"


def write_table_csv(
    *, table: pd.DataFrame, path: str | os.PathLike[str], digits: int = DEFAULT_DIGITS
) -> None:
    """Write :func:`table_csv` to ``path`` atomically."""
    write_text(path, table_csv(table=table, digits=digits))


def write_table_md(
    *, table: pd.DataFrame, path: str | os.PathLike[str], digits: int = DEFAULT_DIGITS
) -> None:
    """Write :func:`table_markdown` to ``path`` atomically."""
    write_text(path, table_markdown(table=table, digits=digits))
