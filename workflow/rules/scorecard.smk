# The reproduction scorecard (issue 11): each published number the studies target, from
# the data file, beside leakbench's value in the configured studies' summary metrics files.
from leakbench.studies.spec import OutputKind

PUBLISHED = config["scorecard"]["published"]


rule aggregate_scorecard:
    input:
        code=lib(
            "reporting",
            "studies",
            "names.py",
            "provenance.py",
            "runlog.py",
            "steps/__init__.py",
            "steps/context.py",
            "steps/scorecard.py",
        ),
        published=str(ROOT / PUBLISHED),
        **{
            spec.name: [o.path for o in spec.of_kind(OutputKind.METRICS)]
            for spec in configured_studies()
            if spec.name != "scorecard"
        },
    output:
        **study_outputs("scorecard"),
    params:
        published=PUBLISHED,
    log:
        "results/logs/aggregate_scorecard.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_scorecard.py"
