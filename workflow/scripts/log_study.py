"""Adapter: log one study's finished metrics files to MLflow."""

from leakbench.runlog import log_to
from leakbench.steps import tracking
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
tracking.log(job=job, files=files)
