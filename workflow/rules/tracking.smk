# log_{study}: the only jobs that touch MLflow. They read finished metrics files, so a
# tracking failure never loses a result; the receipt (run ids) is not a DVC output. A study
# logs the records of all its privacy variants; log_privacy logs the audits (natural-record
# and canary audits of the membership variants, white-box audits of the audit cell).
ATTACKS = config["membership"]["attacks"]


# On a cluster these run on the submitting host, which reaches the tracking store.
localrules:
    log_collaborative,
    log_collaborative_defences,
    log_membership,
    log_property_poisoning,
    log_privacy,
    log_scorecard,
    log_zhao,
    log_memorisation,


rule log_membership:
    input:
        code=imports_of("log_study.py"),
        metrics=with_dp(
            rules.aggregate_membership.input.metrics,
            dp_cells("membership", f"{MEMBERSHIP_ATTACKS}/{{attack}}.json", attack=ATTACKS),
        ),
        cell_files=with_dp(
            rules.aggregate_membership.input.rocs,
            dp_cells("membership", f"{MEMBERSHIP_PLOTS}/{{attack}}.roc.csv", attack=ATTACKS),
        ),
        figure=rules.aggregate_membership.output.png,
    output:
        STUDIES["membership"].receipt,
    params:
        default_uri=f"sqlite:///{ROOT / 'mlflow.db'}",
    log:
        "results/logs/log_membership.log",
    conda:
        ENV
    script:
        "../scripts/log_study.py"


use rule log_membership as log_property_poisoning with:
    input:
        code=imports_of("log_study.py"),
        metrics=with_dp(
            property_records("pairs") + property_records("regression"),
            rules.aggregate_privacy.input.property_poisoning,
        ),
        figure=rules.aggregate_property_poisoning.output.png,
    output:
        STUDIES["property_poisoning"].receipt,
    log:
        "results/logs/log_property_poisoning.log",


use rule log_membership as log_privacy with:
    input:
        code=imports_of("log_study.py"),
        metrics=(
            rules.aggregate_privacy.input.audits
            + rules.aggregate_privacy.input.whitebox
            + rules.aggregate_privacy.input.blackbox
            + rules.aggregate_privacy.input.one_run
        ),
        figure=[
            rules.aggregate_privacy.output.audit_png,
            rules.aggregate_privacy.output.whitebox_png,
        ],
    output:
        STUDIES["privacy"].receipt,
    log:
        "results/logs/log_privacy.log",


use rule log_membership as log_scorecard with:
    input:
        code=imports_of("log_study.py"),
        metrics=rules.aggregate_scorecard.output.summary,
        figure=rules.aggregate_scorecard.output.md,
    output:
        STUDIES["scorecard"].receipt,
    log:
        "results/logs/log_scorecard.log",


use rule log_membership as log_zhao with:
    input:
        code=imports_of("log_study.py"),
        metrics=rules.aggregate_zhao.input.metrics,
        figure=[
            rules.aggregate_zhao.output.distance_png,
            rules.aggregate_zhao.output.strong_png,
            rules.aggregate_zhao.output.attribute_png,
        ],
    output:
        STUDIES["zhao"].receipt,
    log:
        "results/logs/log_zhao.log",


use rule log_membership as log_memorisation with:
    input:
        code=imports_of("log_study.py"),
        metrics=rules.aggregate_memorisation.input.metrics,
        figure=rules.aggregate_memorisation.output.png,
    output:
        STUDIES["memorisation"].receipt,
    log:
        "results/logs/log_memorisation.log",


use rule log_membership as log_collaborative with:
    input:
        code=imports_of("log_study.py"),
        metrics=rules.aggregate_collaborative.input.metrics,
        figure=rules.aggregate_collaborative.output.png,
    output:
        STUDIES["collaborative"].receipt,
    log:
        "results/logs/log_collaborative.log",


use rule log_membership as log_collaborative_defences with:
    input:
        code=imports_of("log_study.py"),
        metrics=with_dp(
            rules.aggregate_collaborative_defences.input.metrics,
            rules.aggregate_collaborative_defences.input.private,
        ),
        figure=rules.aggregate_collaborative_defences.output.png,
    output:
        STUDIES["collaborative_defences"].receipt,
    log:
        "results/logs/log_collaborative_defences.log",
