"""Adapter: one attack on every target of a membership_lira cell."""

from leakbench.runlog import log_to
from leakbench.steps import membership_lira
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership_lira.attack(job=job, files=files)
