"""Adapter: simulate one collaborative-learning grid row at each K and attack it."""

from leakbench.runlog import log_to
from leakbench.steps import collaborative
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
collaborative.simulate(job=job, files=files)
