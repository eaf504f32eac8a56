"""File-level step of the embedding-gradient study (see
:mod:`leakbench.studies.collaborative_embedding`)."""

from __future__ import annotations

from leakbench.data.pool import Pool
from leakbench.data.registry import get_dataset
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import collaborative_embedding as study


def simulate(*, job: Job, files: Files) -> None:
    """Simulate a grid row's training runs, attack them, write the row's metrics record."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    seed = derive_seed(job.config_seed, study.STUDY, dataset, variant)
    metrics = study.run_row(
        pool=Pool.load(files.input("pool")),
        vocabulary=get_dataset(dataset).vocabulary,
        row=job.row,
        seed=seed,
        key=f"{study.STUDY}.grid[{dataset}/{variant}]",
    )
    MetricsRecord.build(
        study=study.STUDY,
        dataset=dataset,
        variant=variant,
        attack=study.ATTACK,
        grid=dict(job.row),
        seeds={"config": job.config_seed, "row": seed},
        metrics=metrics,
    ).write(files.output("metrics"))
