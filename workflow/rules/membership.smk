# Membership inference (Shokri et al. 2017): split -> train target and shadows (stacked)
# -> query -> one job per attack -> table and figures.
# Each grid row has the privacy variant nodp; the rows privacy.cells lists have every one.
# A row's non-real shadow-data variants (section V-C) generate the shadows' records, train
# the shadows on them and query them in one job, then run the attacks that use shadows, at
# nodp.
MEMBERSHIP = "results/models/membership/{dataset}/{variant}"
MEMBERSHIP_ATTACKS = "results/attacks/membership/{dataset}/{variant}/{privacy}"
MEMBERSHIP_PLOTS = "results/plots/membership/{dataset}/{variant}/{privacy}"
SHADOW_DATA = f"{MEMBERSHIP}/nodp/shadow_data/{{shadow_data}}"
SHADOW_DATA_ATTACKS = "results/attacks/membership/{dataset}/{variant}/nodp/shadow_data/{shadow_data}"
SHADOW_DATA_PLOTS = "results/plots/membership/{dataset}/{variant}/nodp/shadow_data/{shadow_data}"
# A row's output defences (section VIII) run in one job on its nodp query outputs.
DEFENCES = "results/attacks/membership/{dataset}/{variant}/nodp/defences"


rule split_membership:
    input:
        code=imports_of("split_membership.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        f"{MEMBERSHIP}/splits.npz",
    params:
        members=row_of("membership", "members"),
        shadows=config["membership"]["shadows"],
        seed=config["seed"],
    log:
        "results/logs/split_membership/{dataset}/{variant}.log",
    conda:
        ENV
    script:
        "../scripts/split_membership.py"


rule train_membership:
    input:
        code=imports_of("train_membership.py"),
        pool="results/data/{dataset}/pool.npz",
        splits=f"{MEMBERSHIP}/splits.npz",
    output:
        f"{MEMBERSHIP}/{{privacy}}/{{role}}.safetensors",
    params:
        row=private_row("membership"),
        seed=config["seed"],
    log:
        "results/logs/train_membership/{dataset}/{variant}/{privacy}/{role}.log",
    benchmark:
        "results/benchmarks/train_membership/{dataset}/{variant}/{privacy}/{role}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/train_membership.py"


rule query_membership:
    input:
        code=imports_of("query_membership.py"),
        pool="results/data/{dataset}/pool.npz",
        splits=f"{MEMBERSHIP}/splits.npz",
        target=f"{MEMBERSHIP}/{{privacy}}/target.safetensors",
        shadows=f"{MEMBERSHIP}/{{privacy}}/shadow.safetensors",
    output:
        f"{MEMBERSHIP_ATTACKS}/outputs.npz",
    params:
        noise_queries=config["membership"]["noise_queries"],
        seed=config["seed"],
    log:
        "results/logs/query_membership/{dataset}/{variant}/{privacy}.log",
    conda:
        ENV
    script:
        "../scripts/query_membership.py"


rule attack_membership:
    input:
        code=imports_of("attack_membership.py"),
        outputs=f"{MEMBERSHIP_ATTACKS}/outputs.npz",
    output:
        metrics=f"{MEMBERSHIP_ATTACKS}/{{attack}}.json",
        scores=f"{MEMBERSHIP_ATTACKS}/{{attack}}.scores.npz",
        roc=f"{MEMBERSHIP_PLOTS}/{{attack}}.roc.csv",
    params:
        row=private_row("membership"),
        attack_params=attack_params,
        shadows=config["membership"]["shadows"],
        seed=config["seed"],
    log:
        "results/logs/attack_membership/{dataset}/{variant}/{privacy}/{attack}.log",
    conda:
        ENV
    script:
        "../scripts/attack_membership.py"


rule shadow_data_membership:
    input:
        unpack(synthesis_target),
        code=imports_of("shadow_data_membership.py"),
        pool="results/data/{dataset}/pool.npz",
        splits=f"{MEMBERSHIP}/splits.npz",
        outputs="results/attacks/membership/{dataset}/{variant}/nodp/outputs.npz",
    output:
        records=f"{SHADOW_DATA}/records.npz",
        outputs=f"{SHADOW_DATA_ATTACKS}/outputs.npz",
    params:
        row=row_of("membership"),
        seed=config["seed"],
    log:
        "results/logs/shadow_data_membership/{dataset}/{variant}/{shadow_data}.log",
    benchmark:
        "results/benchmarks/shadow_data_membership/{dataset}/{variant}/{shadow_data}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/shadow_data_membership.py"


use rule attack_membership as attack_shadow_data_membership with:
    input:
        code=imports_of("attack_membership.py"),
        outputs=f"{SHADOW_DATA_ATTACKS}/outputs.npz",
    output:
        metrics=f"{SHADOW_DATA_ATTACKS}/{{attack}}.json",
        scores=f"{SHADOW_DATA_ATTACKS}/{{attack}}.scores.npz",
        roc=f"{SHADOW_DATA_PLOTS}/{{attack}}.roc.csv",
    log:
        "results/logs/attack_shadow_data_membership/{dataset}/{variant}/{shadow_data}/{attack}.log",


rule defend_membership:
    input:
        code=imports_of("defend_membership.py"),
        outputs="results/attacks/membership/{dataset}/{variant}/nodp/outputs.npz",
    output:
        f"{DEFENCES}/metrics.json",
    params:
        row=row_of("membership"),
        attacks=config["membership"]["attacks"],
        attack_params=config["membership"]["attack_params"],
        defence_attack_params=config["membership"]["defence_attack_params"],
        seed=config["seed"],
    log:
        "results/logs/defend_membership/{dataset}/{variant}.log",
    benchmark:
        "results/benchmarks/defend_membership/{dataset}/{variant}.tsv"
    conda:
        ENV
    script:
        "../scripts/defend_membership.py"


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_membership,


rule aggregate_membership:
    input:
        code=imports_of("aggregate_membership.py"),
        metrics=membership_cells(
            f"{MEMBERSHIP_ATTACKS}/{{attack}}.json", f"{SHADOW_DATA_ATTACKS}/{{attack}}.json"
        ),
        rocs=membership_cells(
            f"{MEMBERSHIP_PLOTS}/{{attack}}.roc.csv", f"{SHADOW_DATA_PLOTS}/{{attack}}.roc.csv"
        ),
        scores=membership_cells(
            f"{MEMBERSHIP_ATTACKS}/{{attack}}.scores.npz",
            f"{SHADOW_DATA_ATTACKS}/{{attack}}.scores.npz",
        ),
        defences=defence_rows(f"{DEFENCES}/metrics.json"),
    output:
        **study_outputs("membership"),
    log:
        "results/logs/aggregate_membership.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_membership.py"
