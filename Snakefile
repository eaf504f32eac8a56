# leakbench: one DAG from raw data to every figure and table. See README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


# One rules file per configured study (its spec names it), in dependency order.
for spec in configured_studies():

    include: f"workflow/rules/{spec.rules}"


include: "workflow/rules/tracking.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
