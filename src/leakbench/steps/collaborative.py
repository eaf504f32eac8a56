"""File-level step of the collaborative-learning study (see
:mod:`leakbench.studies.collaborative`)."""

from __future__ import annotations

from leakbench.steps.context import Files, Job
from leakbench.steps.grid_rows import run_grid_row
from leakbench.studies import collaborative as study


def simulate(*, job: Job, files: Files) -> None:
    """Simulate a grid row's collaborative training at each K, attack it, write the
    row's metrics record."""
    run_grid_row(job=job, files=files, study=study.STUDY, attack=study.ATTACK, run=study.run_row)
