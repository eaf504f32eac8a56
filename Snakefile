# leakbench: one DAG from raw data to every figure and table. See README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/membership.smk"
include: "workflow/rules/property_poisoning.smk"
include: "workflow/rules/privacy.smk"
include: "workflow/rules/tracking.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
