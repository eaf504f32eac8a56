"""Adapter: the label-only two-world attack on one group, at every poisoning rate."""

from leakbench.runlog import log_to
from leakbench.steps import property_poisoning

log_to(snakemake.log[0])
property_poisoning.attack(
    pool=snakemake.input.pool,
    sides=snakemake.input.sides,
    models=list(snakemake.input.models),
    records_out=list(snakemake.output),
    dataset=snakemake.wildcards.dataset,
    prop_name=snakemake.wildcards.property,
    group=snakemake.wildcards.group,
    model=snakemake.params.model,
    study=snakemake.params.study,
    seed=snakemake.params.seed,
)
