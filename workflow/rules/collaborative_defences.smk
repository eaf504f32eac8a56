# Melis et al. 2019: per grid row, two-party collaborative training at each value of the
# row's sweep (active alpha, shared fraction, dropout) and the property attack on it ->
# table (AUC beside utility) and AUC-against-alpha figure. The rows listed in
# privacy.cells.collaborative_defences run again under participant-level DP at every
# finite epsilon (the {privacy} path level; nodp is the row's own run) -> the DP table.
COLLABORATIVE_DEFENCES = "results/attacks/collaborative_defences/{dataset}/{variant}/{privacy}"


rule simulate_collaborative_defences:
    input:
        code=imports_of("simulate_collaborative_defences.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        metrics=f"{COLLABORATIVE_DEFENCES}/defended_property.json",
    params:
        row=private_row("collaborative_defences"),
        seed=config["seed"],
    log:
        "results/logs/simulate_collaborative_defences/{dataset}/{variant}/{privacy}.log",
    benchmark:
        "results/benchmarks/simulate_collaborative_defences/{dataset}/{variant}/{privacy}.tsv"
    conda:
        ENV
    script:
        "../scripts/simulate_collaborative_defences.py"


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_collaborative_defences,


rule aggregate_collaborative_defences:
    input:
        code=imports_of("aggregate_collaborative_defences.py"),
        metrics=expand_grid(
            f"{COLLABORATIVE_DEFENCES}/defended_property.json",
            "collaborative_defences",
            privacy="nodp",
        ),
        private=dp_cells("collaborative_defences", f"{COLLABORATIVE_DEFENCES}/defended_property.json"),
    output:
        **study_outputs("collaborative_defences"),
    log:
        "results/logs/aggregate_collaborative_defences.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_collaborative_defences.py"
