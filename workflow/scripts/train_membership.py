"""Adapter: train the target or all shadows of one grid row (one stacked job)."""

from leakbench.runlog import log_to
from leakbench.steps import membership

log_to(snakemake.log[0])
membership.train(
    pool=snakemake.input.pool,
    splits=snakemake.input.splits,
    out=snakemake.output[0],
    dataset=snakemake.wildcards.dataset,
    variant=snakemake.wildcards.variant,
    role=snakemake.wildcards.role,
    row=snakemake.params.row,
    seed=snakemake.params.seed,
)
