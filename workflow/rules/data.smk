# fetch_data -> prepare_data: raw files (sha256-verified) to one prepared pool per dataset.


# Downloads run on the submitting host: cluster compute nodes often cannot reach the
# internet, and fetching is light.
localrules:
    fetch_data,


rule fetch_data:
    input:
        code=imports_of("fetch_data.py"),
    output:
        "results/data/{dataset}/raw/manifest.json",
    log:
        "results/logs/fetch_data/{dataset}.log",
    conda:
        ENV
    script:
        "../scripts/fetch_data.py"


rule prepare_data:
    input:
        code=imports_of("prepare_data.py"),
        raw=raw_manifest,
    output:
        pool="results/data/{dataset}/pool.npz",
        info="results/data/{dataset}/info.json",
    params:
        seed=config["seed"],
        options=data_options,
    log:
        "results/logs/prepare_data/{dataset}.log",
    conda:
        ENV
    script:
        "../scripts/prepare_data.py"
