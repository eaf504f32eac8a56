"""Adapter: build the Song et al. table, summary and image grid from the metrics files."""

from leakbench.runlog import log_to
from leakbench.steps import memorisation_reporting
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
_, files = from_snakemake(snakemake)
memorisation_reporting.aggregate(files=files)
