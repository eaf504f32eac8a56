"""File-level step of the tracking stage: log a study's finished metrics files to MLflow."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from leakbench.reporting.records import cell_id, load_records
from leakbench.tracking import log_study


def log(
    *,
    study: str,
    metrics: Sequence[str | Path],
    rocs: Sequence[str | Path],
    figure: str | Path,
    receipt: str | Path,
    default_uri: str,
) -> None:
    """One MLflow run per metrics file, with its ROC CSV and the study figure as artifacts.

    ``metrics[i]`` and ``rocs[i]`` belong to the same grid cell. The store is
    ``$MLFLOW_TRACKING_URI`` when set, else ``default_uri``.
    """
    records = load_records(paths=metrics)
    log_study(
        study=study,
        records=records,
        artifacts={cell_id(record=r): [roc] for r, roc in zip(records, rocs, strict=True)},
        shared_artifacts=[figure],
        default_uri=default_uri,
        receipt=receipt,
    )
