"""File-level step of the collaborative defences and active-attack study (see
:mod:`leakbench.studies.collaborative_defences`)."""

from __future__ import annotations

from leakbench.steps.context import Files, Job
from leakbench.steps.grid_rows import run_grid_row
from leakbench.studies import collaborative_defences as study


def simulate(*, job: Job, files: Files) -> None:
    """Run a grid row's two-party training at each sweep value, attack it, write the row's
    metrics record."""
    run_grid_row(job=job, files=files, study=study.STUDY, attack=study.ATTACK, run=study.run_row)
