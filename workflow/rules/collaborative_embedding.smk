# Melis et al. 2019: per grid row, synchronised SGD of a model with an embedding layer at
# each batch size and vocabulary size, membership and batch-property inference from the
# batch bags of words its embedding updates reveal -> Tables II and VI.
EMBEDDING = "results/attacks/collaborative_embedding/{dataset}/{variant}"


rule simulate_collaborative_embedding:
    input:
        code=imports_of("simulate_collaborative_embedding.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        metrics=f"{EMBEDDING}/embedding_membership.json",
    params:
        row=row_of("collaborative_embedding"),
        seed=config["seed"],
    log:
        "results/logs/simulate_collaborative_embedding/{dataset}/{variant}.log",
    benchmark:
        "results/benchmarks/simulate_collaborative_embedding/{dataset}/{variant}.tsv"
    conda:
        ENV
    script:
        "../scripts/simulate_collaborative_embedding.py"


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_collaborative_embedding,


rule aggregate_collaborative_embedding:
    input:
        code=imports_of("aggregate_collaborative_embedding.py"),
        metrics=expand_grid(f"{EMBEDDING}/embedding_membership.json", "collaborative_embedding"),
    output:
        **study_outputs("collaborative_embedding"),
    log:
        "results/logs/aggregate_collaborative_embedding.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_collaborative_embedding.py"


# On a cluster it runs on the submitting host, which reaches the tracking store.
localrules:
    log_collaborative_embedding,


rule log_collaborative_embedding:
    input:
        code=imports_of("log_study.py"),
        metrics=rules.aggregate_collaborative_embedding.input.metrics,
        figure=rules.aggregate_collaborative_embedding.output.batch_md,
    output:
        STUDIES["collaborative_embedding"].receipt,
    params:
        default_uri=f"sqlite:///{ROOT / 'mlflow.db'}",
    log:
        "results/logs/log_collaborative_embedding.log",
    conda:
        ENV
    script:
        "../scripts/log_study.py"
