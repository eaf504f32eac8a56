# Melis et al. 2019: per grid row, collaborative training simulated at each K and the
# passive property attack on the observed updates -> table and AUC-against-K figure.
COLLABORATIVE = "results/attacks/collaborative/{dataset}/{variant}"


rule simulate_collaborative:
    input:
        code=imports_of("simulate_collaborative.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        metrics=f"{COLLABORATIVE}/passive_property.json",
    params:
        row=row_of("collaborative"),
        seed=config["seed"],
    log:
        "results/logs/simulate_collaborative/{dataset}/{variant}.log",
    benchmark:
        "results/benchmarks/simulate_collaborative/{dataset}/{variant}.tsv"
    conda:
        ENV
    script:
        "../scripts/simulate_collaborative.py"


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_collaborative,


rule aggregate_collaborative:
    input:
        code=imports_of("aggregate_collaborative.py"),
        metrics=expand_grid(f"{COLLABORATIVE}/passive_property.json", "collaborative"),
    output:
        **study_outputs("collaborative"),
    log:
        "results/logs/aggregate_collaborative.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_collaborative.py"
