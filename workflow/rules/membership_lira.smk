# Membership inference with N keep-matrix reference models (Carlini et al. 2022, LiRA;
# Zarifzadeh et al. 2024, RMIA): split (records, keep matrix, RMIA population) -> train
# the N models in stacked parts -> query every model's signals -> one job per attack,
# leave-one-model-out over the targets -> table and figures -> MLflow.
LIRA = "results/models/membership_lira/{dataset}/{variant}"
LIRA_ATTACKS = "results/attacks/membership_lira/{dataset}/{variant}"
LIRA_SETTINGS = config["membership_lira"]


rule split_membership_lira:
    input:
        code=imports_of("split_membership_lira.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        f"{LIRA}/split.npz",
    params:
        row=row_of("membership_lira"),
        seed=config["seed"],
    log:
        "results/logs/split_membership_lira/{dataset}/{variant}.log",
    conda:
        ENV
    script:
        "../scripts/split_membership_lira.py"


rule train_membership_lira:
    input:
        code=imports_of("train_membership_lira.py"),
        pool="results/data/{dataset}/pool.npz",
        split=f"{LIRA}/split.npz",
    output:
        f"{LIRA}/part{{part}}.safetensors",
    params:
        row=row_of("membership_lira"),
        seed=config["seed"],
    log:
        "results/logs/train_membership_lira/{dataset}/{variant}/part{part}.log",
    benchmark:
        "results/benchmarks/train_membership_lira/{dataset}/{variant}/part{part}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/train_membership_lira.py"


rule query_membership_lira:
    input:
        code=imports_of("query_membership_lira.py"),
        pool="results/data/{dataset}/pool.npz",
        split=f"{LIRA}/split.npz",
        models=lira_parts,
    output:
        f"{LIRA_ATTACKS}/signals.npz",
    params:
        row=row_of("membership_lira"),
        attacks=LIRA_SETTINGS["attacks"],
        attack_params=LIRA_SETTINGS["attack_params"],
    log:
        "results/logs/query_membership_lira/{dataset}/{variant}.log",
    conda:
        ENV
    script:
        "../scripts/query_membership_lira.py"


rule attack_membership_lira:
    input:
        code=imports_of("attack_membership_lira.py"),
        split=f"{LIRA}/split.npz",
        signals=f"{LIRA_ATTACKS}/signals.npz",
    output:
        metrics=f"{LIRA_ATTACKS}/{{attack}}.json",
        scores=f"{LIRA_ATTACKS}/{{attack}}.scores.npz",
        roc=f"{LIRA_ATTACKS}/{{attack}}.roc.csv",
    params:
        row=row_of("membership_lira"),
        attack_params=LIRA_SETTINGS["attack_params"],
        seed=config["seed"],
    log:
        "results/logs/attack_membership_lira/{dataset}/{variant}/{attack}.log",
    conda:
        ENV
    script:
        "../scripts/attack_membership_lira.py"


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_membership_lira,


rule aggregate_membership_lira:
    input:
        code=imports_of("aggregate_membership_lira.py"),
        metrics=expand_grid(
            f"{LIRA_ATTACKS}/{{attack}}.json", "membership_lira", attack=LIRA_SETTINGS["attacks"]
        ),
        rocs=expand_grid(
            f"{LIRA_ATTACKS}/{{attack}}.roc.csv", "membership_lira", attack=LIRA_SETTINGS["attacks"]
        ),
    output:
        **study_outputs("membership_lira"),
    log:
        "results/logs/aggregate_membership_lira.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_membership_lira.py"


# On a cluster it runs on the submitting host, which reaches the tracking store.
localrules:
    log_membership_lira,


rule log_membership_lira:
    input:
        code=imports_of("log_study.py"),
        metrics=rules.aggregate_membership_lira.input.metrics,
        cell_files=rules.aggregate_membership_lira.input.rocs,
        figure=rules.aggregate_membership_lira.output.png,
    output:
        STUDIES["membership_lira"].receipt,
    params:
        default_uri=f"sqlite:///{ROOT / 'mlflow.db'}",
    log:
        "results/logs/log_membership_lira.log",
    conda:
        ENV
    script:
        "../scripts/log_study.py"
