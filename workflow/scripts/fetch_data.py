"""Adapter: fetch and verify one dataset's raw files."""

from leakbench.runlog import log_to
from leakbench.steps import data
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
data.fetch(job=job, files=files)
