"""Adapter: cut the pool into victim and adversary sides for one property; check the study fits."""

from leakbench.runlog import log_to
from leakbench.steps import property_poisoning

log_to(snakemake.log[0])
property_poisoning.split(
    pool=snakemake.input.pool,
    out=snakemake.output[0],
    dataset=snakemake.wildcards.dataset,
    prop_name=snakemake.wildcards.property,
    study=snakemake.params.study,
    seed=snakemake.params.seed,
)
