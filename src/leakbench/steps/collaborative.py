"""File-level step of the collaborative-learning study (see
:mod:`leakbench.studies.collaborative`)."""

from __future__ import annotations

from leakbench.data.pool import Pool
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import collaborative


def simulate(*, job: Job, files: Files) -> None:
    """Simulate a grid row's collaborative training at each K, attack it, write the
    row's metrics record."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    seed = derive_seed(job.config_seed, collaborative.STUDY, dataset, variant)
    metrics = collaborative.run_row(
        pool=Pool.load(files.input("pool")),
        row=job.row,
        seed=seed,
        key=f"{collaborative.STUDY}.grid[{dataset}/{variant}]",
    )
    MetricsRecord.build(
        study=collaborative.STUDY,
        dataset=dataset,
        variant=variant,
        attack=collaborative.ATTACK,
        grid=dict(job.row),
        seeds={"config": job.config_seed, "row": seed},
        metrics=metrics,
    ).write(files.output("metrics"))
