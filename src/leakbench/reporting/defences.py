"""The membership study's defence table (Shokri et al. 2017, section VIII-B): per dataset,
each defence with the attack's precision, recall and AUC and the target's test accuracy
(what the defence costs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from leakbench.names import REAL, parse_shadow_label
from leakbench.reporting.records import MetricsRecord

DEFENCE_COLUMNS = (
    "dataset",
    "variant",
    "defence",
    "attack",
    "precision",
    "recall",
    "auc",
    "target_test_accuracy",
)
NO_DEFENCE = "none"


def training_defence(grid: Mapping[str, Any]) -> str:
    """The training-time defences of a membership grid row, as a table label: ``l2_<λ>``
    for weight decay λ > 0 (L2 regularisation), ``dropout<p>`` for an MLP with dropout
    p > 0, joined by ``+``; ``none`` without either."""
    parts = []
    if grid.get("weight_decay", 0) > 0:
        parts.append(f"l2_{grid['weight_decay']:g}")
    dropout = grid.get("arch_params", {}).get("dropout", 0)
    if dropout > 0:
        parts.append(f"dropout{dropout:g}")
    return "+".join(parts) or NO_DEFENCE


def _row(
    dataset: str, variant: str, defence: str, attack: str, metrics: Mapping[str, Any]
) -> list[Any]:
    values = [
        float("nan") if metrics[k] is None else float(metrics[k]) for k in DEFENCE_COLUMNS[4:]
    ]
    return [dataset, variant, defence, attack, *values]


def defence_table(
    *, records: Iterable[MetricsRecord], defences: Iterable[MetricsRecord]
) -> pd.DataFrame:
    """One row per (dataset, variant, defence, attack) of every dataset with an output
    defence record (``defences``: :mod:`leakbench.steps.membership_defences`). A grid row
    with such a record gives its rows: the undefended API (``none``) and each output
    defence, in config order (the grid's ``defence_labels``), all with the defence job's
    attack parameters. Every other grid row of that dataset on real shadow data
    (``records``) gives its attacks' rows, labelled by its training defence
    (:func:`training_defence`). Rows are sorted by dataset and variant."""
    defences = list(defences)
    datasets = {d.dataset for d in defences}
    defended = {(d.dataset, d.variant) for d in defences}
    groups: dict[tuple[str, str], list[list[Any]]] = {}
    for record in records:
        variant, shadow_data = parse_shadow_label(record.variant)
        cell = (record.dataset, variant)
        if record.dataset in datasets and shadow_data == REAL and cell not in defended:
            groups.setdefault((record.dataset, variant), []).append(
                _row(
                    record.dataset,
                    variant,
                    training_defence(record.grid),
                    record.attack,
                    record.metrics,
                )
            )
    for record in defences:
        rows = groups.setdefault((record.dataset, record.variant), [])
        for label in record.grid["defence_labels"]:
            rows += [
                _row(record.dataset, record.variant, label, attack, metrics)
                for attack, metrics in record.metrics[label].items()
            ]
    body = [row for key in sorted(groups) for row in groups[key]]
    return pd.DataFrame(body, columns=list(DEFENCE_COLUMNS)).astype(
        {column: "float64" for column in DEFENCE_COLUMNS[4:]}
    )


def defence_summary(defences: Iterable[MetricsRecord]) -> dict[tuple[str, str], dict[str, Any]]:
    """The DVC summary of each defended grid row, by (dataset, variant):
    ``{attack: {metric: {defence label: value}}}`` for the metrics of
    :data:`DEFENCE_COLUMNS`, rounded to 4 decimals; a defence and the undefended ``none``
    are siblings, so a scorecard row can take their difference."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for record in defences:
        cell = out.setdefault((record.dataset, record.variant), {})
        for label in record.grid["defence_labels"]:
            for attack, metrics in record.metrics[label].items():
                for key in DEFENCE_COLUMNS[4:]:
                    value = metrics[key]
                    per_metric = cell.setdefault(attack, {}).setdefault(key, {})
                    per_metric[label] = None if value is None else round(float(value), 4)
    return out
