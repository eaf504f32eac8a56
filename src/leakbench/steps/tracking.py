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
    cell_files: Sequence[str | Path],
    figure: str | Path,
    receipt: str | Path,
    default_uri: str,
) -> None:
    """One MLflow run per metrics file, with its own file (if any) and the study figure as
    artifacts.

    ``cell_files`` is empty, or ``cell_files[i]`` (a ROC CSV, say) belongs to the grid cell
    of ``metrics[i]``. The store is ``$MLFLOW_TRACKING_URI`` when set, else ``default_uri``.
    """
    records = load_records(paths=metrics)
    if cell_files and len(cell_files) != len(records):
        raise ValueError(f"cell_files: {len(cell_files)} files for {len(records)} records")
    log_study(
        study=study,
        records=records,
        artifacts={cell_id(record=r): [f] for r, f in zip(records, cell_files, strict=False)},
        shared_artifacts=[figure],
        default_uri=default_uri,
        receipt=receipt,
    )
