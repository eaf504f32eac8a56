"""Adapter: generate one non-real shadow-data variant's records of a grid row."""

from leakbench.runlog import log_to
from leakbench.steps import membership
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership.generate_shadow_data(job=job, files=files)
