"""Adapter: build the Zhao et al. table, summary and figures from the metrics files."""

from leakbench.runlog import log_to
from leakbench.steps import zhao_reporting
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
_, files = from_snakemake(snakemake)
zhao_reporting.aggregate(files=files)
