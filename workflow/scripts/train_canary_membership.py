"""Adapter: train the canary target of one membership variant (the DP audit's canaries)."""

from leakbench.runlog import log_to
from leakbench.steps import privacy
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
privacy.train_canary_target(job=job, files=files)
