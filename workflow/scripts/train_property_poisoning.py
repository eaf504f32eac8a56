"""Adapter: train one group of target and shadow models once per poisoning rate (stacked)."""

from leakbench.runlog import log_to
from leakbench.steps import property_poisoning

log_to(snakemake.log[0])
property_poisoning.train(
    pool=snakemake.input.pool,
    sides=snakemake.input.sides,
    models_out=list(snakemake.output),
    dataset=snakemake.wildcards.dataset,
    prop_name=snakemake.wildcards.property,
    group=snakemake.wildcards.group,
    model=snakemake.params.model,
    study=snakemake.params.study,
    seed=snakemake.params.seed,
)
