"""The reproduction scorecard: every published number leakbench targets beside leakbench's
value for it, with a verdict (:mod:`leakbench.reporting.verdicts`).

Its rows come from the published-numbers data file (:mod:`leakbench.reporting.published`)
in file order, its values from the studies' summary metrics files; its summary (the count
of rows per verdict, and each row's verdict) is one metrics record, which the tracking
stage logs to MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from leakbench.reporting.published import PublishedRow, select
from leakbench.reporting.records import MetricsRecord
from leakbench.reporting.verdicts import COMPARISON_SYMBOLS, DIGITS, Verdict, judge

STUDY = "scorecard"
COLUMNS = (
    "id",
    "paper",
    "source",
    "setting",
    "published",
    "tolerance",
    "leakbench",
    "metric",
    "match",
    "trend",
    "verdict",
)
SUMMARY_CELL = {"dataset": "all", "variant": "published", "attack": "verdicts"}


@dataclass(frozen=True)
class ScoredRow:
    """A published number with leakbench's value (None: not run) and the verdict."""

    row: PublishedRow
    value: float | None
    verdict: Verdict


def score(*, rows: Sequence[PublishedRow], summaries: Mapping[str, Any]) -> list[ScoredRow]:
    """Judge every published row against the run's summaries (:func:`judge`).

    Args:
        rows: the published numbers, in the data file's order.
        summaries: ``{study: summary metrics}`` of the studies the run configures.
    """
    scored = []
    for row in rows:
        value = select(selector=row.metric, summaries=summaries)
        verdict = judge(
            value=value,
            published=row.published,
            compare=row.compare,
            tolerance=row.tolerance,
            trend=row.trend,
        )
        rounded = None if value is None else round(value, DIGITS)
        scored.append(ScoredRow(row=row, value=rounded, verdict=verdict))
    return scored


def scorecard_table(*, scored: Sequence[ScoredRow]) -> pd.DataFrame:
    """One line per published number: the paper, the source, the setting, the published
    value with its comparison (``>= 0.9``), the tolerance, leakbench's value (missing when
    not run), the metric it is read from, whether the setting matches (``same`` or
    ``stand-in: <which>``), the trend judged (``> 0.5``) and the verdict."""
    lines = [
        {
            "id": s.row.id,
            "paper": s.row.paper,
            "source": s.row.source,
            "setting": s.row.setting,
            "published": f"{COMPARISON_SYMBOLS[s.row.compare]} {s.row.published:g}",
            "tolerance": s.row.tolerance,
            "leakbench": float("nan") if s.value is None else s.value,
            "metric": str(s.row.metric),
            "match": s.row.match if s.row.match == "same" else f"stand-in: {s.row.match_note}",
            "trend": "" if s.row.trend is None else str(s.row.trend),
            "verdict": s.verdict.value,
        }
        for s in scored
    ]
    return pd.DataFrame(lines, columns=list(COLUMNS)).astype(
        {"tolerance": float, "leakbench": float}
    )


def verdict_counts(*, scored: Sequence[ScoredRow]) -> dict[str, int]:
    """``{verdict key: number of rows}`` for every verdict (zeros included), and ``rows``."""
    counts = {v.key: sum(s.verdict is v for s in scored) for v in Verdict}
    return {**counts, "rows": len(scored)}


def summary_record(*, scored: Sequence[ScoredRow], published: str) -> MetricsRecord:
    """The scorecard's one metrics record, ``scorecard/all/published/verdicts``: the
    verdict counts as metrics, each row's verdict (``verdicts.<id>``) and the data file in
    the grid, so MLflow holds both."""
    return MetricsRecord.build(
        study=STUDY,
        **SUMMARY_CELL,
        grid={"published": published, "verdicts": {s.row.id: s.verdict.value for s in scored}},
        seeds={},
        metrics=verdict_counts(scored=scored),
    )
