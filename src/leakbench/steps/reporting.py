"""File-level steps of the aggregation stage: tables, figures and the DVC metrics summary."""

from __future__ import annotations

from typing import Any

from leakbench.io import write_json
from leakbench.names import RatioPair
from leakbench.reporting.figures import membership_roc_figure, read_roc_csv, save_figure
from leakbench.reporting.property import attack_figure, attack_table, regression_table
from leakbench.reporting.records import MetricsRecord, load_records
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


def membership(*, files: Files) -> None:
    """Aggregate the membership study: table, DVC summary and ROC figure from the inputs
    ``metrics`` and ``rocs`` (file i of each belongs to one cell)."""
    records = load_records(paths=files.input_list("metrics"))
    table = membership_table(records=records)
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))

    summary: dict[str, Any] = {}
    for r in records:
        cell = summary.setdefault(r.dataset, {}).setdefault(r.variant, {})
        cell[r.attack] = {k: round(r.value("metrics", k), 4) for k in SUMMARY_KEYS}
    write_json(files.output("summary"), summary)

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
