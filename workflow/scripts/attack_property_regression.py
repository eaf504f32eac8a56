"""Adapter: the ratio regression of one property and model."""

from leakbench.runlog import log_to
from leakbench.steps import property_poisoning

log_to(snakemake.log[0])
property_poisoning.attack_regression(
    pool=snakemake.input.pool,
    sides=snakemake.input.sides,
    models=list(snakemake.input.models),
    record_out=snakemake.output[0],
    dataset=snakemake.wildcards.dataset,
    prop_name=snakemake.wildcards.property,
    model=snakemake.params.model,
    study=snakemake.params.study,
    seed=snakemake.params.seed,
)
