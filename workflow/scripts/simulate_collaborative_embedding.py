"""Adapter: simulate one embedding-gradient grid row at each batch and vocabulary size and
attack it."""

from leakbench.runlog import log_to
from leakbench.steps import collaborative_embedding
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
collaborative_embedding.simulate(job=job, files=files)
