"""The file-level step of a study whose job runs one grid row end to end from its pool
(the collaborative-learning studies): seed, run, metrics record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leakbench.data.pool import Pool
from leakbench.names import variant_label
from leakbench.privacy import row_epsilon
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job


def run_grid_row(
    *, job: Job, files: Files, study: str, attack: str, run: Callable[..., dict[str, Any]]
) -> None:
    """Run the job's grid row on input ``pool`` and write its metrics record (output
    ``metrics``). A row with a privacy variant's DP settings (``privacy``) is recorded as
    ``<variant>.eps<epsilon>``, with the seed of its non-private run.

    Args:
        study: the study's name (seed derivation, the record, the error keys).
        attack: the record's attack name.
        run: ``run(*, pool, row, seed, key) -> metrics``; ``seed`` is derived from the
            config seed, the study and the job's (dataset, variant), ``key`` names the row
            in error messages.
    """
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    seed = derive_seed(job.config_seed, study, dataset, variant)
    label = variant_label(variant, row_epsilon(job.row))
    metrics = run(
        pool=Pool.load(files.input("pool")),
        row=job.row,
        seed=seed,
        key=f"{study}.grid[{dataset}/{variant}]",
    )
    MetricsRecord.build(
        study=study,
        dataset=dataset,
        variant=label,
        attack=attack,
        grid={**job.row, "variant": label},
        seeds={"config": job.config_seed, "row": seed},
        metrics=metrics,
    ).write(files.output("metrics"))
