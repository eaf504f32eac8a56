"""Adapter: the empirical epsilon lower bound of one membership variant."""

from leakbench.runlog import log_to
from leakbench.steps import privacy

log_to(snakemake.log[0])
privacy.audit(
    target=snakemake.input.target,
    scores=snakemake.input.scores,
    out=snakemake.output[0],
    dataset=snakemake.wildcards.dataset,
    variant=snakemake.wildcards.variant,
    attack=snakemake.params.attack,
    row=snakemake.params.row,
    delta=snakemake.params.delta,
    seed=snakemake.params.seed,
    canary=(
        {
            "pool": snakemake.input.canary_pool,
            "model": snakemake.input.canary_model,
            "canaries": snakemake.input.canaries,
        }
        if snakemake.input.get("canaries")
        else None
    ),
)
