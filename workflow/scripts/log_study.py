"""Adapter: log one study's finished metrics files to MLflow."""

from leakbench.runlog import log_to
from leakbench.steps import tracking

log_to(snakemake.log[0])
tracking.log(
    study=snakemake.rule.removeprefix("log_"),
    metrics=list(snakemake.input.metrics),
    cell_files=list(snakemake.input.get("cell_files", [])),
    figure=snakemake.input.figure,
    receipt=snakemake.output[0],
    default_uri=snakemake.params.default_uri,
)
