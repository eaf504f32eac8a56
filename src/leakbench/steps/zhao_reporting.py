"""File-level step of the Zhao et al. study's aggregation: table, summary and figures."""

from __future__ import annotations

from leakbench.io import read_npz, write_json
from leakbench.reporting import zhao as zhao_report
from leakbench.reporting.figures import save_figure
from leakbench.reporting.records import load_records
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.steps.context import Files


def aggregate(*, files: Files) -> None:
    """Aggregate the Zhao et al. study from the inputs ``metrics`` and ``arrays`` (file i
    of each belongs to one grid row): table, DVC summary and the three figures."""
    records = load_records(paths=files.input_list("metrics"))
    arrays = [read_npz(path) for path in files.input_list("arrays")]
    table = zhao_report.zhao_table(records=records)
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))
    write_json(files.output("summary"), zhao_report.summary(records=records))
    save_figure(
        figure=zhao_report.distance_figure(records=records, arrays=arrays),
        stem=files.stem("distance_png"),
    )
    save_figure(figure=zhao_report.strong_figure(records=records), stem=files.stem("strong_png"))
    save_figure(
        figure=zhao_report.attribute_figure(records=records, arrays=arrays),
        stem=files.stem("attribute_png"),
    )
