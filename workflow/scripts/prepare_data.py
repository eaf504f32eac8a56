"""Adapter: parse and encode one dataset into its prepared pool."""

from leakbench.runlog import log_to
from leakbench.steps import data

log_to(snakemake.log[0])
data.prepare(
    dataset=snakemake.wildcards.dataset,
    raw_manifest=snakemake.input.raw or None,
    pool_out=snakemake.output.pool,
    info_out=snakemake.output.info,
    seed=snakemake.params.seed,
    options=snakemake.params.options,
)
