"""Adapter: the ratio regression of one property and model."""

from leakbench.runlog import log_to
from leakbench.steps import property_poisoning
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
property_poisoning.attack_regression(job=job, files=files)
