# log_{study}: the only jobs that touch MLflow. They read finished metrics files, so a
# tracking failure never loses a result; the receipt (run ids) is not a DVC output.


rule log_membership:
    input:
        code=lib("tracking.py"),
        metrics=rules.aggregate_membership.input.metrics,
        cell_files=rules.aggregate_membership.input.rocs,
        figure=rules.aggregate_membership.output.png,
    output:
        "results/tracking/membership.json",
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
        code=lib("tracking.py"),
        metrics=property_records("pairs") + property_records("regression"),
        figure="results/figures/property_poisoning.png",
    output:
        "results/tracking/property_poisoning.json",
    log:
        "results/logs/log_property_poisoning.log",
