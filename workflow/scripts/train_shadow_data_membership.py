"""Adapter: train every shadow of a grid row on its generated records (one stacked job)."""

from leakbench.runlog import log_to
from leakbench.steps import membership
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership.train_on_shadow_data(job=job, files=files)
