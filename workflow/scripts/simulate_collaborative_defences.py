"""Adapter: run one collaborative defences / active-attack grid row at each sweep value."""

from leakbench.runlog import log_to
from leakbench.steps import collaborative_defences
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
collaborative_defences.simulate(job=job, files=files)
