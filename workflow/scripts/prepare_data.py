"""Adapter: parse and encode one dataset into its prepared pool."""

from leakbench.runlog import log_to
from leakbench.steps import data
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
data.prepare(job=job, files=files)
