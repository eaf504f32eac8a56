"""Adapter: train one part of the N models of a membership_lira cell (one stacked job)."""

from leakbench.runlog import log_to
from leakbench.steps import membership_lira
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership_lira.train(job=job, files=files)
