"""Adapter: train the target or all shadows of one grid row (one stacked job)."""

from leakbench.runlog import log_to
from leakbench.steps import membership
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership.train(job=job, files=files)
