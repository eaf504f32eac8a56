"""Adapter: draw one Zhao et al. grid row's split and train its target."""

from leakbench.runlog import log_to
from leakbench.steps import zhao
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
zhao.train(job=job, files=files)
