# Song et al. 2017: per grid row, train the benign model and its malicious twins stacked,
# encode (LSB), decode and measure -> table and image grid.
MEMORISATION = "results/models/memorisation/{dataset}/{variant}"
MEMORISATION_ATTACKS = "results/attacks/memorisation/{dataset}/{variant}"


rule encode_memorisation:
    input:
        code=imports_of("encode_memorisation.py"),
        pool="results/data/{dataset}/pool.npz",
    output:
        models=f"{MEMORISATION}/models.safetensors",
        metrics=f"{MEMORISATION_ATTACKS}/encodings.json",
        images=f"{MEMORISATION_ATTACKS}/images.npz",
    params:
        row=row_of("memorisation"),
        study=config.get("memorisation"),
        seed=config["seed"],
    log:
        "results/logs/encode_memorisation/{dataset}/{variant}.log",
    benchmark:
        "results/benchmarks/encode_memorisation/{dataset}/{variant}.tsv"
    conda:
        ENV
    script:
        "../scripts/encode_memorisation.py"


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_memorisation,


rule aggregate_memorisation:
    input:
        code=imports_of("aggregate_memorisation.py"),
        metrics=expand_grid(f"{MEMORISATION_ATTACKS}/encodings.json", "memorisation"),
        images=expand_grid(f"{MEMORISATION_ATTACKS}/images.npz", "memorisation"),
    output:
        **study_outputs("memorisation"),
    log:
        "results/logs/aggregate_memorisation.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_memorisation.py"
