"""Adapter: build the membership table and ROC figure from the metrics files."""

from leakbench.runlog import log_to
from leakbench.steps import reporting

log_to(snakemake.log[0])
reporting.membership(
    metrics=list(snakemake.input.metrics),
    rocs=list(snakemake.input.rocs),
    csv_out=snakemake.output.csv,
    md_out=snakemake.output.md,
    summary_out=snakemake.output.summary,
    figure_stem=snakemake.output.png.removesuffix(".png"),
)
