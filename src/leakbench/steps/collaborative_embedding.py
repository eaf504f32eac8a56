"""File-level step of the embedding-gradient study (see
:mod:`leakbench.studies.collaborative_embedding`)."""

from __future__ import annotations

from functools import partial

from leakbench.data.registry import get_dataset
from leakbench.steps.context import Files, Job
from leakbench.steps.grid_rows import run_grid_row
from leakbench.studies import collaborative_embedding as study


def simulate(*, job: Job, files: Files) -> None:
    """Simulate a grid row's training runs, attack them, write the row's metrics record."""
    vocabulary = get_dataset(job.wildcard("dataset")).vocabulary
    run = partial(study.run_row, vocabulary=vocabulary)
    run_grid_row(job=job, files=files, study=study.STUDY, attack=study.ATTACK, run=run)
