"""Adapter: build the collaborative defences table, summary and AUC-against-alpha figure."""

from leakbench.runlog import log_to
from leakbench.steps import collaborative_defences_reporting
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
_, files = from_snakemake(snakemake)
collaborative_defences_reporting.aggregate(files=files)
