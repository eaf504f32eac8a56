"""Adapter: build the membership_lira table, summary and figures from the metrics files."""

from leakbench.runlog import log_to
from leakbench.steps import membership_lira_reporting
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
_, files = from_snakemake(snakemake)
membership_lira_reporting.aggregate(files=files)
