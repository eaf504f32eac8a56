# Melis et al. 2019: per grid row, two-party collaborative training at each value of the
# row's sweep (active alpha, shared fraction, dropout) and the property attack on it ->
# table (AUC beside utility) and AUC-against-alpha figure.
COLLABORATIVE_DEFENCES = "results/attacks/collaborative_defences/{dataset}/{variant}"


rule simulate_collaborative_defences:
    input:
        code=imports_of("simulate_collaborative_defences.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        metrics=f"{COLLABORATIVE_DEFENCES}/defended_property.json",
    params:
        row=row_of("collaborative_defences"),
        seed=config["seed"],
    log:
        "results/logs/simulate_collaborative_defences/{dataset}/{variant}.log",
    benchmark:
        "results/benchmarks/simulate_collaborative_defences/{dataset}/{variant}.tsv"
    conda:
        ENV
    script:
        "../scripts/simulate_collaborative_defences.py"


rule aggregate_collaborative_defences:
    input:
        code=imports_of("aggregate_collaborative_defences.py"),
        metrics=expand_grid(
            f"{COLLABORATIVE_DEFENCES}/defended_property.json", "collaborative_defences"
        ),
    output:
        **study_outputs("collaborative_defences"),
    log:
        "results/logs/aggregate_collaborative_defences.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_collaborative_defences.py"
