"""Adapter: draw the membership splits of one grid row."""

from leakbench.runlog import log_to
from leakbench.steps import membership

log_to(snakemake.log[0])
membership.split(
    pool=snakemake.input.pool,
    out=snakemake.output[0],
    dataset=snakemake.wildcards.dataset,
    variant=snakemake.wildcards.variant,
    members=snakemake.params.members,
    shadows=snakemake.params.shadows,
    seed=snakemake.params.seed,
)
