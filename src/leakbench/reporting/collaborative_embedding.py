"""Tables of the embedding-gradient study (Melis et al. 2019, Tables II and VI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from leakbench.reporting.records import MetricsRecord, RecordError

_COLUMNS = ("precision", "recall", "property_auc", "model_auc")


def _rows(records: Sequence[MetricsRecord], part: str, column: str) -> pd.DataFrame:
    if not records:
        raise RecordError("collaborative_embedding: no records to tabulate")
    rows = []
    for r in records:
        fixed = (
            {"vocabulary": r.metrics["vocabulary"]}
            if part == "batch"
            else {"batch_size": r.grid["defence_batch_size"]}
        )
        for size in sorted(r.metrics[part], key=int, reverse=part == "vocab"):
            m = r.metrics[part][size]
            rows.append(
                {
                    "dataset": r.dataset,
                    "variant": r.variant,
                    column: int(size),
                    **fixed,
                    "rounds": r.grid["rounds"],
                    "mean_batch_words": round(m["mean_batch_words"], 1),
                    **{c: round(m[c], 4) for c in _COLUMNS},
                }
            )
    return pd.DataFrame(rows)


def batch_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """Table II: per grid row and batch size, the membership rule's precision and recall
    (with the property attack's AUC, the model's AUC and the mean words per batch BoW)."""
    return _rows(records, "batch", "batch_size")


def vocabulary_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """Table VI: per grid row and vocabulary size (largest first), the membership
    precision, the property attack's AUC and the model's main-task AUC."""
    return _rows(records, "vocab", "vocab_size")


def summary(*, records: Sequence[MetricsRecord]) -> dict[str, Any]:
    """The DVC summary ``{dataset: {variant: {batch|vocab: {size: {...}}}}}`` (the
    scorecard's paths), rounded to 4 digits."""
    out: dict[str, Any] = {}
    for r in records:
        out.setdefault(r.dataset, {})[r.variant] = {
            part: {
                size: {c: round(m[c], 4) for c in _COLUMNS} for size, m in r.metrics[part].items()
            }
            for part in ("batch", "vocab")
        }
    return out
