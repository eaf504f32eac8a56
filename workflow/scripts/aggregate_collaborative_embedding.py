"""Adapter: build the embedding-gradient tables (Tables II and VI) and summary from the
metrics files."""

from leakbench.runlog import log_to
from leakbench.steps import collaborative_embedding_reporting
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
_, files = from_snakemake(snakemake)
collaborative_embedding_reporting.aggregate(files=files)
