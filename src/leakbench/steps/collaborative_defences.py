"""File-level step of the collaborative defences and active-attack study (see
:mod:`leakbench.studies.collaborative_defences`)."""

from __future__ import annotations

from leakbench.data.pool import Pool
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import collaborative_defences as study


def simulate(*, job: Job, files: Files) -> None:
    """Run a grid row's two-party training at each sweep value, attack it, write the row's
    metrics record."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    seed = derive_seed(job.config_seed, study.STUDY, dataset, variant)
    metrics = study.run_row(
        pool=Pool.load(files.input("pool")),
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
