"""File-level step of the DP axis's aggregation: the trade-off and audit tables, figures
and DVC summary."""

from __future__ import annotations

import math
from typing import Any

from leakbench.io import write_json
from leakbench.names import BLACKBOX_AUDIT, ONE_RUN_AUDIT, WHITEBOX_AUDIT, CellId
from leakbench.reporting.figures import save_figure
from leakbench.reporting.privacy import (
    audit_figure,
    audit_table,
    audits_figure,
    audits_table,
    tradeoff_figure,
    tradeoff_table,
    whitebox_figure,
    whitebox_table,
)
from leakbench.reporting.records import load_records
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.steps.context import Files


def aggregate(*, files: Files) -> None:
    """The trade-off, audit, white-box audit and all-audits tables and figures, and the DVC
    summary
    ``{"audit": {dataset/cell: {epsilon: [accountant, lower bound]}}, "tradeoff": ...}``,
    from the records of the inputs ``membership``, ``audits``, ``property_poisoning``,
    ``collaborative_defences``, ``whitebox``, ``blackbox`` and ``one_run``; each white-box
    auditor is a cell ``<dataset>/whitebox-<auditor>`` of the summary's ``audit``, the
    black-box audit the cell ``<dataset>/blackbox`` and the white-box one-run audit
    ``<dataset>/one_run``, with the ceiling and optimal-test bound beside the bound."""
    audit_records = load_records(paths=files.input_list("audits"))
    audited = audit_table(records=audit_records)
    tradeoff = tradeoff_table(
        membership=load_records(paths=files.input_list("membership")),
        audits=audit_records,
        property_poisoning=load_records(paths=files.input_list("property_poisoning")),
        collaborative=load_records(paths=files.input_list("collaborative_defences")),
    )
    write_table_csv(table=tradeoff, path=files.output("csv"))
    write_table_md(table=tradeoff, path=files.output("md"))
    write_table_csv(table=audited, path=files.output("audit_csv"))
    write_table_md(table=audited, path=files.output("audit_md"))
    summary: dict[str, Any] = {"audit": {}, "tradeoff": {}}
    for row in audited.itertuples(index=False):
        cell = str(CellId.of(("dataset", "cell"), (row.dataset, row.cell)))
        summary["audit"].setdefault(cell, {})[f"{row.epsilon:g}"] = {
            "accountant_epsilon": (
                None if math.isnan(row.accountant_epsilon) else round(row.accountant_epsilon, 4)
            ),
            "epsilon_lower": round(row.epsilon_lower, 4),
            "optimal": None if math.isnan(row.optimal) else round(row.optimal, 4),
        }
    whitebox = whitebox_table(records=load_records(paths=files.input_list("whitebox")))
    write_table_csv(table=whitebox, path=files.output("whitebox_csv"))
    write_table_md(table=whitebox, path=files.output("whitebox_md"))
    for row in whitebox.itertuples(index=False):
        cell = str(CellId.of(("dataset", "cell"), (row.dataset, f"{WHITEBOX_AUDIT}-{row.audit}")))
        summary["audit"].setdefault(cell, {})[f"{row.epsilon:g}"] = {
            "accountant_epsilon": round(row.accountant_epsilon, 4),
            "epsilon_lower": round(row.epsilon_lower, 4),
            "ceiling": round(row.ceiling, 4),
            "optimal": round(row.optimal, 4),
        }
    blackbox = load_records(paths=files.input_list("blackbox"))
    one_run = load_records(paths=files.input_list("one_run"))
    audits = audits_table(audits=audited, whitebox=whitebox, blackbox=blackbox, one_run=one_run)
    write_table_csv(table=audits, path=files.output("audits_csv"))
    write_table_md(table=audits, path=files.output("audits_md"))
    for record, name in [(r, BLACKBOX_AUDIT) for r in blackbox] + [
        (r, ONE_RUN_AUDIT) for r in one_run
    ]:
        cell = str(CellId.of(("dataset", "cell"), (record.dataset, name)))
        summary["audit"].setdefault(cell, {})[f"{record.value('metrics', 'target_epsilon'):g}"] = {
            key: round(float(record.value("metrics", field)), 4)
            for key, field in (
                ("accountant_epsilon", "epsilon"),
                ("epsilon_lower", "epsilon_lower"),
                ("ceiling", "ceiling"),
                ("optimal", "optimal"),
            )
        }
    for row in tradeoff.itertuples(index=False):
        parts = [row.study, row.dataset, row.cell, row.attack]
        if row.study == "property_poisoning":
            parts.append(f"p{row.poison_rate:g}")
        key = "/".join(parts)
        value = row.attack_accuracy if row.study == "property_poisoning" else row.auc
        summary["tradeoff"].setdefault(key, {})[f"{row.epsilon:g}"] = round(value, 4)
    write_json(files.output("summary"), summary)
    save_figure(figure=tradeoff_figure(table=tradeoff), stem=files.stem("png"))
    save_figure(figure=audit_figure(table=audited), stem=files.stem("audit_png"))
    save_figure(figure=whitebox_figure(table=whitebox), stem=files.stem("whitebox_png"))
    save_figure(figure=audits_figure(table=audits), stem=files.stem("audits_png"))
