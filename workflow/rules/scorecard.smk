# The reproduction scorecard: each published number the studies target, from
# the data file, beside leakbench's value in the configured studies' summary metrics files.
PUBLISHED = config["scorecard"]["published"]


# A table job reads small files and ends the DAG: on a cluster it runs on the submitting
# host as soon as its inputs exist (profiles/slurm says why).
localrules:
    aggregate_scorecard,


rule aggregate_scorecard:
    input:
        code=imports_of("aggregate_scorecard.py"),
        published=os.path.relpath(ROOT / PUBLISHED),
        **summaries_of_other_studies("scorecard"),
    output:
        **study_outputs("scorecard"),
    params:
        # The configured path as written, recorded in the summary (a setting, not the
        # input: the input is that path relative to the working directory).
        published=lambda wildcards: PUBLISHED,
    log:
        "results/logs/aggregate_scorecard.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_scorecard.py"
