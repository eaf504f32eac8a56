"""Adapter: run the Zhao et al. measurements on one grid row's target."""

from leakbench.runlog import log_to
from leakbench.steps import zhao
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
zhao.attack(job=job, files=files)
