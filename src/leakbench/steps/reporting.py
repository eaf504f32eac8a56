"""File-level steps of the aggregation stage: tables, figures and the DVC metrics summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from leakbench.attacks import get_attack
from leakbench.io import read_npz, write_json
from leakbench.metrics import per_class_precision
from leakbench.names import RatioPair, parse_shadow_label
from leakbench.reporting.defences import defence_summary, defence_table
from leakbench.reporting.figures import membership_roc_figure, precision_cdf_figure, save_figure
from leakbench.reporting.overfitting import family_trends, overfitting_figure, overfitting_points
from leakbench.reporting.property import attack_figure, attack_table, regression_table
from leakbench.reporting.records import MetricsRecord, load_records
from leakbench.reporting.roc import read_roc_csv
from leakbench.reporting.tables import membership_table, write_table_csv, write_table_md
from leakbench.steps.context import Files

SUMMARY_KEYS = (
    "auc",
    "tpr_at_fpr_0.001",
    "tpr_at_fpr_0.01",
    "precision",
    "recall",
    "balanced_accuracy",
    "target_train_accuracy",
    "target_test_accuracy",
)


def _panel(record: MetricsRecord, variants_per_dataset: dict[str, set[str]]) -> tuple[str, str]:
    """Panel = dataset; curve label = attack, or variant/attack when variants share a panel."""
    several = len(variants_per_dataset[record.dataset]) > 1
    label = f"{record.variant}/{record.attack}" if several else record.attack
    return record.dataset, label


def _class_precisions(
    records: list[MetricsRecord], scores: list[Path]
) -> dict[str, dict[str, np.ndarray]]:
    """``{dataset/variant: {curve: per-class precisions}}`` of the records of attacks that
    train on shadow models (``scores[i]``: record i's scores file); a curve is the
    shadow-data variant, or ``shadow data/attack`` when several such attacks ran."""
    shadow_attacks = {r.attack for r in records if get_attack(r.attack).needs_shadows}
    out: dict[str, dict[str, np.ndarray]] = {}
    for record, path in zip(records, scores, strict=True):
        if record.attack not in shadow_attacks:
            continue
        variant, shadow_data = parse_shadow_label(record.variant)
        data = read_npz(path)
        per_class = per_class_precision(
            predictions=data["prediction"], member=data["member"], labels=data["label"]
        )
        label = shadow_data if len(shadow_attacks) == 1 else f"{shadow_data}/{record.attack}"
        out.setdefault(f"{record.dataset}/{variant}", {})[label] = np.array(
            list(per_class.values())
        )
    return out


def membership(*, files: Files) -> None:
    """Aggregate the membership study: table, defence table, DVC summary (with each model
    family's gap-precision trend, :func:`~leakbench.reporting.overfitting.family_trends`),
    ROC figure, per-class precision CDF figure and overfitting figure from the inputs
    ``metrics``, ``rocs`` and ``scores`` (file i of each belongs to one cell) and
    ``defences`` (one output-defence record per grid row that has defences)."""
    records = load_records(paths=files.input_list("metrics"))
    table = membership_table(records=records)
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))
    defence_records = load_records(paths=files.input_list("defences"))
    defences = defence_table(records=records, defences=defence_records)
    write_table_csv(table=defences, path=files.output("defences_csv"))
    write_table_md(table=defences, path=files.output("defences_md"))

    summary: dict[str, Any] = {}
    for r in records:
        cell = summary.setdefault(r.dataset, {}).setdefault(r.variant, {})
        keys = [*SUMMARY_KEYS, *sorted(k for k in r.metrics if k.startswith("shadow_data."))]
        cell[r.attack] = {k: round(r.value("metrics", k), 4) for k in keys}
    points = overfitting_points(records)
    trends = family_trends(points)
    if trends:
        summary["overfitting_trend"] = trends
    for (dataset, variant), cell in defence_summary(defence_records).items():
        summary.setdefault(dataset, {}).setdefault(variant, {})["defences"] = cell
    write_json(files.output("summary"), summary)
    save_figure(figure=overfitting_figure(points), stem=files.stem("overfit_png"))
    cdf = precision_cdf_figure(precisions=_class_precisions(records, files.input_list("scores")))
    save_figure(figure=cdf, stem=files.stem("cdf_png"))

    variants: dict[str, set[str]] = {}
    for r in records:
        variants.setdefault(r.dataset, set()).add(r.variant)
    curves: dict[str, dict[str, Any]] = {}
    for record, roc in zip(records, files.input_list("rocs"), strict=True):
        dataset, label = _panel(record, variants)
        curves.setdefault(dataset, {})[label] = read_roc_csv(path=roc)
    save_figure(figure=membership_roc_figure(rocs=curves), stem=files.stem("png"))


def property_poisoning(*, files: Files) -> None:
    """Aggregate the property-poisoning study from the inputs ``metrics`` and
    ``regression``: attack table, regression table, the DVC summary
    ``{property: {t0-t1: {model: {p: accuracy}}}, "regression": ...}`` and the figure."""
    table = attack_table(records=load_records(paths=files.input_list("metrics")))
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))
    reg = regression_table(records=load_records(paths=files.input_list("regression")))
    write_table_csv(table=reg, path=files.output("regression_csv"))
    write_table_md(table=reg, path=files.output("regression_md"))

    summary: dict[str, Any] = {}
    for row in table.itertuples(index=False):
        pair = str(RatioPair(row.t0, row.t1))
        cell = summary.setdefault(row.property, {}).setdefault(pair, {}).setdefault(row.model, {})
        cell[f"p{row.poison_rate:g}"] = round(row.attack_accuracy, 4)
    for row in reg.itertuples(index=False):
        summary.setdefault(row.property, {}).setdefault("regression_mae", {})[row.model] = round(
            row.mae, 4
        )
    write_json(files.output("summary"), summary)
    save_figure(figure=attack_figure(table=table), stem=files.stem("png"))
