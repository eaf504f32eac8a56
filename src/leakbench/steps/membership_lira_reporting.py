"""File-level step of the reference-model membership study's aggregation: table, DVC
summary and figures."""

from __future__ import annotations

from leakbench.io import write_text
from leakbench.reporting.figures import save_figure
from leakbench.reporting.lira import (
    lira_references_figure,
    lira_roc_figure,
    lira_summary,
    lira_table,
)
from leakbench.reporting.records import load_records
from leakbench.reporting.roc import read_roc_csv
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.steps.context import Files


def aggregate(*, files: Files) -> None:
    """The study's table, DVC summary and two figures from the inputs ``metrics`` and
    ``rocs`` (file i of each belongs to one cell and attack)."""
    records = load_records(paths=files.input_list("metrics"))
    table = lira_table(records=records)
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))
    write_text(files.output("summary"), lira_summary(records=records))
    rocs = {
        (r.dataset, r.variant, r.attack): read_roc_csv(path=path)
        for r, path in zip(records, files.input_list("rocs"), strict=True)
    }
    save_figure(figure=lira_roc_figure(rocs=rocs), stem=files.stem("png"))
    save_figure(figure=lira_references_figure(table=table), stem=files.stem("refs_png"))
