"""Adapter: the reproduction scorecard table and its summary record."""

from leakbench.runlog import log_to
from leakbench.steps import scorecard
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
scorecard.aggregate(job=job, files=files)
