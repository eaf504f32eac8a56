"""Adapter: draw the membership splits of one grid row."""

from leakbench.runlog import log_to
from leakbench.steps import membership
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership.split(job=job, files=files)
