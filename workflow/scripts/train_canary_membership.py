"""Adapter: train the canary target of one membership variant (the DP audit's canaries)."""

from leakbench.runlog import log_to
from leakbench.steps import privacy

log_to(snakemake.log[0])
privacy.train_canary_target(
    pool=snakemake.input.pool,
    splits=snakemake.input.splits,
    model_out=snakemake.output.model,
    canaries_out=snakemake.output.canaries,
    dataset=snakemake.wildcards.dataset,
    variant=snakemake.wildcards.variant,
    row=snakemake.params.row,
    count=snakemake.params.canaries,
    seed=snakemake.params.seed,
)
