"""Adapter: the DP axis' trade-off and audit tables, figures and DVC summary."""

from leakbench.runlog import log_to
from leakbench.steps import privacy_reporting
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
_, files = from_snakemake(snakemake)
privacy_reporting.aggregate(files=files)
