"""Adapter: build the property-poisoning tables and figure from the metrics files."""

from leakbench.runlog import log_to
from leakbench.steps import reporting

log_to(snakemake.log[0])
reporting.property_poisoning(
    metrics=list(snakemake.input.metrics),
    regression=list(snakemake.input.regression),
    csv_out=snakemake.output.csv,
    md_out=snakemake.output.md,
    regression_csv_out=snakemake.output.regression_csv,
    regression_md_out=snakemake.output.regression_md,
    summary_out=snakemake.output.summary,
    figure_stem=snakemake.output.png.removesuffix(".png"),
)
