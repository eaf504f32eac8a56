"""ROC curves as data: their area and the CSV files the attack jobs write.

Kept apart from the figures so that the jobs writing a curve do not import matplotlib.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from leakbench.reporting.records import RecordError


def check_curve(label: str, fpr: ArrayLike, tpr: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Check one ROC curve and return it as float64 arrays."""
    x = np.asarray(fpr, dtype=np.float64)
    y = np.asarray(tpr, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise RecordError(
            f"{label}: fpr and tpr must be 1-D of equal length >= 2, "
            f"got shapes {x.shape} and {y.shape}"
        )
    for name, values in (("fpr", x), ("tpr", y)):
        if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
            raise RecordError(f"{label}: {name} values must lie in [0, 1]")
        if np.any(np.diff(values) < 0):
            raise RecordError(f"{label}: {name} must be non-decreasing along the curve")
    return x, y


def roc_auc(*, fpr: ArrayLike, tpr: ArrayLike) -> float:
    """Area under an ROC curve by the trapezoidal rule.

    ``AUC = sum_i (fpr[i+1] - fpr[i]) * (tpr[i+1] + tpr[i]) / 2`` (Fawcett 2006, "An
    introduction to ROC analysis", Pattern Recognition Letters 27, Sec. 7, Algorithm 3).
    On a curve that lists every score threshold from (0, 0) to (1, 1) it equals the
    Mann-Whitney probability that a member outscores a non-member, ties counting half.

    Args:
        fpr: False-positive rates, non-decreasing, in [0, 1].
        tpr: True-positive rates at the same thresholds.
    """
    x, y = check_curve("roc", fpr, tpr)
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def roc_csv(*, fpr: ArrayLike, tpr: ArrayLike) -> str:
    """An ROC curve as CSV text with the header ``fpr,tpr``, each rate to 6 significant
    digits (what :func:`read_roc_csv` reads)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["fpr", "tpr"])
    writer.writerows((f"{f:.6g}", f"{t:.6g}") for f, t in zip(fpr, tpr, strict=True))  # type: ignore[call-overload]
    return buf.getvalue()


def read_roc_csv(*, path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read an ROC CSV with the header ``fpr,tpr``; return the two columns as float64."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or rows[0] != ["fpr", "tpr"]:
        header = rows[0] if rows else []
        raise RecordError(f"{path}: header {header!r} is not allowed; expected ['fpr', 'tpr']")
    body = rows[1:]
    if any(len(row) != 2 for row in body):
        raise RecordError(f"{path}: each row must hold two values fpr,tpr")
    try:
        values = np.array([[float(f), float(t)] for f, t in body], dtype=np.float64)
    except ValueError as err:
        raise RecordError(f"{path}: each row must hold two numbers fpr,tpr ({err})") from err
    values = values.reshape(-1, 2)
    return check_curve(str(path), values[:, 0], values[:, 1])
