"""Adapter: build the membership table and ROC figure from the metrics files."""

from leakbench.runlog import log_to
from leakbench.steps import reporting
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
_, files = from_snakemake(snakemake)
reporting.membership(files=files)
