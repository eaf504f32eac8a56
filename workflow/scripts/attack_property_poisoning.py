"""Adapter: the label-only two-world attack on one group, at every poisoning rate."""

from leakbench.runlog import log_to
from leakbench.steps import property_poisoning
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
property_poisoning.attack(job=job, files=files)
