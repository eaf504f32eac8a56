"""Adapter: run the membership attacks behind every output defence of one grid row."""

from leakbench.runlog import log_to
from leakbench.steps import membership_defences
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
membership_defences.defend(job=job, files=files)
