"""Adapter: one non-real shadow-data variant of a grid row: records, shadows, outputs."""

from leakbench.runlog import log_to
from leakbench.steps import membership
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership.shadow_data(job=job, files=files)
