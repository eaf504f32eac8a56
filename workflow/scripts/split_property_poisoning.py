"""Adapter: cut the pool into victim and adversary sides for one property; check the study fits."""

from leakbench.runlog import log_to
from leakbench.steps import property_poisoning
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
property_poisoning.split(job=job, files=files)
