"""Adapter: collect the model outputs the membership attacks need."""

from leakbench.runlog import log_to
from leakbench.steps import membership

log_to(snakemake.log[0])
membership.query(
    pool=snakemake.input.pool,
    splits=snakemake.input.splits,
    target=snakemake.input.target,
    shadows=snakemake.input.shadows,
    out=snakemake.output[0],
    dataset=snakemake.wildcards.dataset,
    variant=snakemake.wildcards.variant,
    noise_queries=snakemake.params.noise_queries,
    seed=snakemake.params.seed,
)
