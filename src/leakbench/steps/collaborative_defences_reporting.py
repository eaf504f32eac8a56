"""File-level step of the collaborative defences study's aggregation: table, summary and
the AUC-against-alpha figure."""

from __future__ import annotations

from leakbench.io import write_json
from leakbench.reporting import collaborative_defences as report
from leakbench.reporting.figures import save_figure
from leakbench.reporting.records import load_records
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.steps.context import Files


def aggregate(*, files: Files) -> None:
    """Aggregate the study from the input ``metrics`` (one record per grid row) and
    ``private`` (every privacy variant of the DP cells: the participant-level DP table)."""
    records = load_records(paths=files.input_list("metrics"))
    table = report.sweep_table(records=records)
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))
    write_json(files.output("summary"), report.summary(records=records))
    save_figure(figure=report.alpha_figure(records=records), stem=files.stem("png"))
    private = report.dp_table(records=load_records(paths=files.input_list("private")))
    write_table_csv(table=private, path=files.output("dp_csv"))
    write_table_md(table=private, path=files.output("dp_md"))
