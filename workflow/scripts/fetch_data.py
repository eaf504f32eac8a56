"""Adapter: fetch and verify one dataset's raw files."""

from leakbench.runlog import log_to
from leakbench.steps import data

log_to(snakemake.log[0])
data.fetch(dataset=snakemake.wildcards.dataset, manifest=snakemake.output[0])
