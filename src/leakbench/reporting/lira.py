"""The reference-model membership study's table, DVC summary and figures.

The table has one row per (dataset, variant, attack, number of reference models k) with
the mean and the standard deviation over the target models of AUC, the best balanced
accuracy, and the TPR at 0.1%, 1% and 0% FPR (the TPR of the largest ROC point whose FPR
is at most the level, :func:`leakbench.metrics.tpr_at_fpr`), as Carlini et al. 2022
(IEEE S&P), Table 1 and Figure 9, and Zarifzadeh et al. 2024 (ICML), Table 2, report them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib.style
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from leakbench.io import dumps_json
from leakbench.reporting.figures import PANEL_INCHES, STYLE, membership_roc_figure
from leakbench.reporting.records import MetricsRecord, RecordError
from leakbench.reporting.tables import DEFAULT_DIGITS

LIRA_METRICS = ("auc", "balanced_accuracy", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01", "tpr_at_fpr_0")
LIRA_COLUMNS = (
    "dataset",
    "variant",
    "attack",
    "references",
    *(f"{m}_{stat}" for m in LIRA_METRICS for stat in ("mean", "std")),
)
CURVE_ATTACKS = ("lira_online", "lira_offline", "rmia_online", "rmia_offline")
"""The attacks of the TPR against reference models figure (Carlini et al. 2022, Fig. 9,
LiRA online and offline; Zarifzadeh et al. 2024, RMIA)."""


def _by_count(record: MetricsRecord) -> Mapping[str, Mapping[str, Any]]:
    value = record.value("metrics", "references")
    if not isinstance(value, Mapping) or not value:
        raise RecordError(
            f"{record.cell_id}: metrics.references: {value!r} is not allowed; allowed: "
            "{k: {metric_mean, metric_std}} for at least one k"
        )
    return value


def lira_table(*, records: Iterable[MetricsRecord]) -> pd.DataFrame:
    """One row per (dataset, variant, attack, k), sorted; columns :data:`LIRA_COLUMNS`.

    Raises:
        RecordError: for no record, or a record without a metric the table needs.
    """
    rows: list[dict[str, Any]] = []
    for record in records:
        for count, values in _by_count(record).items():
            row: dict[str, Any] = {
                "dataset": record.dataset,
                "variant": record.variant,
                "attack": record.attack,
                "references": int(count),
            }
            for column in LIRA_COLUMNS[4:]:
                if column not in values:
                    raise RecordError(
                        f"{record.cell_id}: metrics.references.{count}.{column}: missing"
                    )
                row[column] = float(values[column])
            rows.append(row)
    if not rows:
        raise RecordError("membership_lira table: no records; expected at least one")
    rows.sort(key=lambda r: (r["dataset"], r["variant"], r["attack"], r["references"]))
    return pd.DataFrame(rows, columns=list(LIRA_COLUMNS))


def lira_summary(*, records: Iterable[MetricsRecord]) -> str:
    """The DVC metrics summary as JSON text, rounded to the table's digits.

    ``{dataset: {variant: {metric: {attack: mean at the attack's largest k},
    "max_references": {attack: k}, "by_references": {k: {metric: {attack: mean}}}}}}``:
    metric first, so that the scorecard can set two attacks side by side (its ``minus``
    takes a sibling key).
    """
    summary: dict[str, Any] = {}
    for r in records:
        cell = summary.setdefault(r.dataset, {}).setdefault(r.variant, {})
        for key in LIRA_METRICS:
            value = round(float(r.value("metrics", key)), DEFAULT_DIGITS)
            cell.setdefault(key, {})[r.attack] = value
        cell.setdefault("max_references", {})[r.attack] = int(r.value("metrics", "max_references"))
        for count, values in _by_count(r).items():
            for key in LIRA_METRICS:
                value = round(float(values[f"{key}_mean"]), DEFAULT_DIGITS)
                by = cell.setdefault("by_references", {}).setdefault(str(count), {})
                by.setdefault(key, {})[r.attack] = value
    return dumps_json(summary)


def lira_roc_figure(*, rocs: Mapping[tuple[str, str, str], tuple[ArrayLike, ArrayLike]]) -> Figure:
    """Log-log ROC curves, one panel per dataset (``dataset/variant`` when a dataset has
    several variants), one curve per attack: :func:`~leakbench.reporting.figures.
    membership_roc_figure` in the style of Carlini et al. 2022, Figure 4.

    Args:
        rocs: ``{(dataset, variant, attack): (fpr, tpr)}``.
    """
    variants: dict[str, set[str]] = {}
    for dataset, variant, _ in rocs:
        variants.setdefault(dataset, set()).add(variant)
    panels: dict[str, dict[str, tuple[ArrayLike, ArrayLike]]] = {}
    for (dataset, variant, attack), curve in rocs.items():
        panel = f"{dataset}/{variant}" if len(variants[dataset]) > 1 else dataset
        panels.setdefault(panel, {})[attack] = curve
    return membership_roc_figure(rocs=panels)


def lira_references_figure(*, table: pd.DataFrame) -> Figure:
    """TPR at 0.1% FPR (mean, with the standard deviation over targets as error bars)
    against the number of reference models k on a log2 axis, one panel per
    dataset/variant, one line per attack of :data:`CURVE_ATTACKS` in the table (Carlini
    et al. 2022, Figure 9; Zarifzadeh et al. 2024, Figure 2).

    Raises:
        RecordError: if the table holds none of :data:`CURVE_ATTACKS`.
    """
    chosen = table[table["attack"].isin(CURVE_ATTACKS)]
    if chosen.empty:
        raise RecordError(
            f"membership_lira references figure: none of {', '.join(CURVE_ATTACKS)} in the "
            "table; expected at least one"
        )
    cells = sorted({(r.dataset, r.variant) for r in chosen.itertuples(index=False)})
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        figure = Figure(figsize=(PANEL_INCHES * len(cells), PANEL_INCHES + 0.2))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        axes = figure.subplots(1, len(cells), squeeze=False)[0]
        for ax, (dataset, variant) in zip(axes, cells, strict=True):
            for i, attack in enumerate(CURVE_ATTACKS):
                rows = chosen[
                    (chosen["dataset"] == dataset)
                    & (chosen["variant"] == variant)
                    & (chosen["attack"] == attack)
                ]
                if rows.empty:
                    continue
                ax.errorbar(
                    rows["references"].to_numpy(),
                    rows["tpr_at_fpr_0.001_mean"].to_numpy(),
                    yerr=rows["tpr_at_fpr_0.001_std"].to_numpy(),
                    color=colors[i % len(colors)],
                    marker="o",
                    markersize=3,
                    linewidth=1.2,
                    capsize=2,
                    label=attack,
                )
            ax.set_xscale("log", base=2)
            ax.set_ylim(bottom=0)
            ax.grid(True, which="major", linewidth=0.3)
            ax.set_title(f"{dataset}/{variant}")
            ax.set_xlabel("reference models")
            ax.legend(loc="upper left", fontsize=6)
        axes[0].set_ylabel("TPR at 0.1% FPR")
    return figure
