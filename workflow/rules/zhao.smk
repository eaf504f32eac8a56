# Zhao et al. 2019: per grid row, split and train the target -> distance, strong membership
# and attribute-inference measurements -> table and figures.
ZHAO = "results/models/zhao/{dataset}/{variant}"
ZHAO_ATTACKS = "results/attacks/zhao/{dataset}/{variant}"


rule train_zhao:
    input:
        code=imports_of("train_zhao.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        split=f"{ZHAO}/split.npz",
        target=f"{ZHAO}/target.safetensors",
    params:
        row=row_of("zhao"),
        seed=config["seed"],
    log:
        "results/logs/train_zhao/{dataset}/{variant}.log",
    benchmark:
        "results/benchmarks/train_zhao/{dataset}/{variant}.tsv"
    conda:
        ENV
    script:
        "../scripts/train_zhao.py"


rule attack_zhao:
    input:
        code=imports_of("attack_zhao.py"),
        pool="results/data/{dataset}/pool.npz",
        split=f"{ZHAO}/split.npz",
        target=f"{ZHAO}/target.safetensors",
    output:
        metrics=f"{ZHAO_ATTACKS}/max_confidence.json",
        arrays=f"{ZHAO_ATTACKS}/arrays.npz",
    params:
        row=row_of("zhao"),
        study=config["zhao"],
        seed=config["seed"],
    log:
        "results/logs/attack_zhao/{dataset}/{variant}.log",
    benchmark:
        "results/benchmarks/attack_zhao/{dataset}/{variant}.tsv"
    conda:
        ENV
    script:
        "../scripts/attack_zhao.py"


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_zhao,


rule aggregate_zhao:
    input:
        code=imports_of("aggregate_zhao.py"),
        metrics=expand_grid(f"{ZHAO_ATTACKS}/max_confidence.json", "zhao"),
        arrays=expand_grid(f"{ZHAO_ATTACKS}/arrays.npz", "zhao"),
    output:
        **study_outputs("zhao"),
    log:
        "results/logs/aggregate_zhao.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_zhao.py"
