"""File-level step of the Song et al. study's aggregation: table, summary, image grid and
parameter histograms."""

from __future__ import annotations

from leakbench.io import read_npz, write_json
from leakbench.reporting import memorisation as report
from leakbench.reporting.figures import save_figure
from leakbench.reporting.records import load_records
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.steps.context import Files


def aggregate(*, files: Files) -> None:
    """Aggregate the memorisation study from the inputs ``metrics`` and ``images`` (file
    i of each belongs to one grid row): table, DVC summary, the image grid and the
    parameter histograms."""
    records = load_records(paths=files.input_list("metrics"))
    arrays = [read_npz(path) for path in files.input_list("images")]
    table = report.memorisation_table(records=records)
    write_table_csv(table=table, path=files.output("csv"))
    write_table_md(table=table, path=files.output("md"))
    write_json(files.output("summary"), report.summary(records=records))
    save_figure(figure=report.image_grid(records=records, arrays=arrays), stem=files.stem("png"))
    save_figure(
        figure=report.parameter_histograms(records=records, arrays=arrays),
        stem=files.stem("parameters_png"),
    )
