# Membership inference (Shokri et al. 2017): split -> train target and shadows (stacked)
# -> query -> one job per attack -> table and figure.
MEMBERSHIP = "results/models/membership/{dataset}/{variant}"
MEMBERSHIP_ATTACKS = "results/attacks/membership/{dataset}/{variant}"
MEMBERSHIP_PLOTS = "results/plots/membership/{dataset}/{variant}"


rule split_membership:
    input:
        code=lib("studies/splits.py"),
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
        code=lib("models", "training", "seeding.py"),
        pool="results/data/{dataset}/pool.npz",
        splits=f"{MEMBERSHIP}/splits.npz",
    output:
        f"{MEMBERSHIP}/{{role}}.safetensors",
    params:
        row=row_of("membership"),
        seed=config["seed"],
    log:
        "results/logs/train_membership/{dataset}/{variant}/{role}.log",
    benchmark:
        "results/benchmarks/train_membership/{dataset}/{variant}/{role}.tsv"
    threads: 1
    conda:
        ENV
    script:
        "../scripts/train_membership.py"


rule query_membership:
    input:
        code=lib("studies/membership.py", "training"),
        pool="results/data/{dataset}/pool.npz",
        splits=f"{MEMBERSHIP}/splits.npz",
        target=f"{MEMBERSHIP}/target.safetensors",
        shadows=f"{MEMBERSHIP}/shadow.safetensors",
    output:
        f"{MEMBERSHIP_ATTACKS}/outputs.npz",
    params:
        noise_queries=config["membership"]["noise_queries"],
        seed=config["seed"],
    log:
        "results/logs/query_membership/{dataset}/{variant}.log",
    conda:
        ENV
    script:
        "../scripts/query_membership.py"


rule attack_membership:
    input:
        code=lib("attacks", "metrics.py", "studies/membership.py", "provenance.py"),
        outputs=f"{MEMBERSHIP_ATTACKS}/outputs.npz",
    output:
        metrics=f"{MEMBERSHIP_ATTACKS}/{{attack}}.json",
        scores=f"{MEMBERSHIP_ATTACKS}/{{attack}}.scores.npz",
        roc=f"{MEMBERSHIP_PLOTS}/{{attack}}.roc.csv",
    params:
        row=row_of("membership"),
        attack_params=attack_params,
        shadows=config["membership"]["shadows"],
        seed=config["seed"],
    log:
        "results/logs/attack_membership/{dataset}/{variant}/{attack}.log",
    conda:
        ENV
    script:
        "../scripts/attack_membership.py"


rule aggregate_membership:
    input:
        code=lib("reporting"),
        metrics=expand_grid(
            f"{MEMBERSHIP_ATTACKS}/{{attack}}.json",
            "membership",
            attack=config["membership"]["attacks"],
        ),
        rocs=expand_grid(
            f"{MEMBERSHIP_PLOTS}/{{attack}}.roc.csv",
            "membership",
            attack=config["membership"]["attacks"],
        ),
    output:
        csv=report("results/tables/membership.csv", category="Membership inference"),
        md="results/tables/membership.md",
        summary="results/metrics/membership.json",
        png=report(
            "results/figures/membership_roc.png",
            caption="../report/membership_roc.rst",
            category="Membership inference",
        ),
        pdf="results/figures/membership_roc.pdf",
    log:
        "results/logs/aggregate_membership.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_membership.py"
