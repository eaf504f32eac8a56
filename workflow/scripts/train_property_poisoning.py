"""Adapter: train one group of target and shadow models once per poisoning rate (stacked)."""

from leakbench.runlog import log_to
from leakbench.steps import property_poisoning
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
property_poisoning.train(job=job, files=files)
