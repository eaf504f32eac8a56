"""File-level step of the collaborative-learning study's aggregation: tables, summary, the
AUC-against-K figure and the score-per-round figure."""

from __future__ import annotations

from leakbench.io import write_json
from leakbench.reporting import collaborative as report
from leakbench.reporting import collaborative_runs as runs
from leakbench.reporting.figures import save_figure
from leakbench.reporting.records import load_records
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.steps.context import Files


def aggregate(*, files: Files) -> None:
    """Aggregate the study from the input ``metrics`` (one record per grid row)."""
    records = load_records(paths=files.input_list("metrics"))
    table = report.auc_table(records=records)
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))
    write_json(files.output("summary"), report.summary(records=records))
    save_figure(figure=report.auc_figure(records=records), stem=files.stem("png"))
    for name, table in (
        ("fraction", runs.runs_table(records=records, algorithm="sync_sgd")),
        ("federated", runs.runs_table(records=records, algorithm="fedavg")),
        ("rounds", runs.rounds_table(records=records)),
    ):
        write_table_csv(table=table, path=files.output(f"{name}_csv"))
        write_table_md(table=table, path=files.output(f"{name}_md"))
    save_figure(figure=runs.rounds_figure(records=records), stem=files.stem("rounds_png"))
