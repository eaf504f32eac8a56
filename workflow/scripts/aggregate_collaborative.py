"""Adapter: build the collaborative-learning table, summary and figure from the metrics files."""

from leakbench.runlog import log_to
from leakbench.steps import collaborative_reporting
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
_, files = from_snakemake(snakemake)
collaborative_reporting.aggregate(files=files)
