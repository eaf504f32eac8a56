# Property inference from poisoning (Mahloujifar et al. 2022): sides -> train every group of
# models once per poisoning rate (stacked) -> label-only attack -> tables and figure.
PROPERTY = "results/models/property_poisoning/{dataset}/{property}"
PROPERTY_ATTACKS = "results/attacks/property_poisoning/{dataset}/{property}"
PAIR = "[0-9.]+-[0-9.]+"  # a ratio pair t0-t1


rule split_property_poisoning:
    input:
        code=imports_of("split_property_poisoning.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        f"{PROPERTY}/sides.npz",
    params:
        study=config["property_poisoning"],
        seed=config["seed"],
    log:
        "results/logs/split_property_poisoning/{dataset}/{property}.log",
    conda:
        ENV
    script:
        "../scripts/split_property_poisoning.py"


rule train_property_poisoning:
    input:
        code=imports_of("train_property_poisoning.py"),
        pool="results/data/{dataset}/pool.npz",
        sides=f"{PROPERTY}/sides.npz",
    output:
        expand(
            f"{PROPERTY}/{{group}}/{{model}}/{{privacy}}/p{{rate}}.safetensors",
            rate=property_rates("pairs"),
            allow_missing=True,
        ),
    wildcard_constraints:
        group=PAIR,
    params:
        row=property_model,
        study=config["property_poisoning"],
        seed=config["seed"],
    log:
        "results/logs/train_property_poisoning/{dataset}/{property}/{group}/{model}/{privacy}.log",
    benchmark:
        "results/benchmarks/train_property_poisoning/{dataset}/{property}/{group}/{model}/{privacy}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/train_property_poisoning.py"


use rule train_property_poisoning as train_property_regression with:
    output:
        expand(
            f"{PROPERTY}/{{group}}/{{model}}/{{privacy}}/p{{rate}}.safetensors",
            rate=property_rates("regression"),
            allow_missing=True,
        ),
    wildcard_constraints:
        group="regression",
        privacy="nodp",
    log:
        "results/logs/train_property_regression/{dataset}/{property}/{group}/{model}/{privacy}.log",
    benchmark:
        "results/benchmarks/train_property_regression/{dataset}/{property}/{group}/{model}/{privacy}.tsv"


rule attack_property_poisoning:
    input:
        code=imports_of("attack_property_poisoning.py"),
        pool="results/data/{dataset}/pool.npz",
        sides=f"{PROPERTY}/sides.npz",
        models=expand(
            f"{PROPERTY}/{{group}}/{{model}}/{{privacy}}/p{{rate}}.safetensors",
            rate=property_rates("pairs"),
            allow_missing=True,
        ),
    wildcard_constraints:
        group=PAIR,
    output:
        expand(
            f"{PROPERTY_ATTACKS}/{{group}}/{{model}}/{{privacy}}/p{{rate}}.json",
            rate=property_rates("pairs"),
            allow_missing=True,
        ),
    params:
        row=property_model,
        study=config["property_poisoning"],
        seed=config["seed"],
    log:
        "results/logs/attack_property_poisoning/{dataset}/{property}/{group}/{model}/{privacy}.log",
    conda:
        ENV
    script:
        "../scripts/attack_property_poisoning.py"


rule attack_property_regression:
    input:
        code=imports_of("attack_property_regression.py"),
        pool="results/data/{dataset}/pool.npz",
        sides=f"{PROPERTY}/sides.npz",
        models=expand(
            f"{PROPERTY}/regression/{{model}}/nodp/p{{rate}}.safetensors",
            rate=property_rates("regression"),
            allow_missing=True,
        ),
    output:
        f"{PROPERTY_ATTACKS}/regression/{{model}}.json",
    params:
        row=property_model,
        study=config["property_poisoning"],
        seed=config["seed"],
    log:
        "results/logs/attack_property_regression/{dataset}/{property}/{model}.log",
    conda:
        ENV
    script:
        "../scripts/attack_property_regression.py"


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_property_poisoning,


rule aggregate_property_poisoning:
    input:
        code=imports_of("aggregate_property_poisoning.py"),
        metrics=property_records("pairs"),
        regression=property_records("regression"),
    output:
        **study_outputs("property_poisoning"),
    log:
        "results/logs/aggregate_property_poisoning.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_property_poisoning.py"
