"""File-level step of the tracking stage: log a study's finished metrics files to MLflow."""

from __future__ import annotations

from leakbench.errors import ConfigError
from leakbench.reporting.records import load_records
from leakbench.steps.context import Files, Job
from leakbench.tracking import log_study

RULE_PREFIX = "log_"


def log(*, job: Job, files: Files) -> None:
    """One MLflow run per metrics file (input ``metrics``) of the study the rule is named
    after (``log_<study>``), with its own file (if any) and the study figures (input
    ``figure``, one or more) as artifacts; the receipt is the output.

    Input ``cell_files`` is absent, or its file i (a ROC CSV, say) belongs to the grid cell
    of metrics file i. The store is ``$MLFLOW_TRACKING_URI`` when set, else the
    ``default_uri`` setting.
    """
    records = load_records(paths=files.input_list("metrics"))
    cell_files = files.input_list("cell_files")
    if cell_files and len(cell_files) != len(records):
        raise ConfigError(
            f"{job.rule}: input.cell_files: {len(cell_files)} files is not allowed; "
            f"allowed: none or one per metrics file ({len(records)})"
        )
    log_study(
        study=job.rule.removeprefix(RULE_PREFIX),
        records=records,
        artifacts={r.cell_id: [f] for r, f in zip(records, cell_files, strict=False)},
        shared_artifacts=files.input_list("figure"),
        default_uri=job.setting("default_uri"),
        receipt=files.output(),
    )
