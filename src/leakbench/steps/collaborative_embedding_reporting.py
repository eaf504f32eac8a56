"""File-level step of the embedding-gradient study's aggregation: Tables II and VI and the
summary."""

from __future__ import annotations

from leakbench.io import write_json
from leakbench.reporting import collaborative_embedding as report
from leakbench.reporting.records import load_records
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.steps.context import Files


def aggregate(*, files: Files) -> None:
    """Aggregate the study from the input ``metrics`` (one record per grid row)."""
    records = load_records(paths=files.input_list("metrics"))
    for name, table in (
        ("batch", report.batch_table(records=records)),
        ("vocab", report.vocabulary_table(records=records)),
    ):
        write_table_csv(table=table, path=files.output(f"{name}_csv"))
        write_table_md(table=table, path=files.output(f"{name}_md"))
    write_json(files.output("summary"), report.summary(records=records))
