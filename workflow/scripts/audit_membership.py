"""Adapter: the empirical epsilon lower bound of one membership variant."""

from leakbench.runlog import log_to
from leakbench.steps import privacy
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
privacy.audit(job=job, files=files)
