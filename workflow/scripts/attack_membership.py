"""Adapter: run one membership attack on one grid row."""

from leakbench.runlog import log_to
from leakbench.steps import membership

log_to(snakemake.log[0])
membership.attack(
    outputs=snakemake.input.outputs,
    metrics_out=snakemake.output.metrics,
    scores_out=snakemake.output.scores,
    roc_out=snakemake.output.roc,
    dataset=snakemake.wildcards.dataset,
    variant=snakemake.wildcards.variant,
    attack=snakemake.wildcards.attack,
    row=snakemake.params.row,
    attack_params=snakemake.params.attack_params,
    shadows=snakemake.params.shadows,
    seed=snakemake.params.seed,
)
