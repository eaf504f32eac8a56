"""Adapter: draw the records, keep matrix and RMIA population of one membership_lira cell."""

from leakbench.runlog import log_to
from leakbench.steps import membership_lira
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership_lira.split(job=job, files=files)
