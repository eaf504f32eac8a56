"""File-level steps of the Zhao et al. study (see :mod:`leakbench.studies.zhao`)."""

from __future__ import annotations

from leakbench.data.pool import Pool
from leakbench.io import read_npz, write_npz
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import zhao
from leakbench.training import TrainConfig, load_models, save_models, train_stacked


def train(*, job: Job, files: Files) -> None:
    """Draw a grid row's split and train its target on the training records."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    pool = Pool.load(files.input("pool"))
    split = zhao.make_split(
        n_pool=len(pool),
        row=job.row,
        seed=derive_seed(job.config_seed, zhao.STUDY, dataset, variant, "split"),
    )
    model = train_stacked(
        arch=job.row["arch"],
        arch_params=job.row["arch_params"],
        x=pool.x,
        y=pool.y,
        num_classes=pool.num_classes,
        keep=split.keep(len(pool)),
        seeds=[zhao.target_seed(seed=job.config_seed, dataset=dataset, variant=variant)],
        config=TrainConfig.from_row(job.row),
    )
    write_npz(files.output("split"), **split.arrays())
    save_models(files.output("target"), model)


def attack(*, job: Job, files: Files) -> None:
    """Run the three measurements on a grid row's target; write its metrics record and
    the arrays its figures draw."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    seed = derive_seed(job.config_seed, zhao.STUDY, dataset, variant, "attack")
    study = job.setting("study")
    result, arrays = zhao.evaluate(
        pool=Pool.load(files.input("pool")),
        split=zhao.ZhaoSplit.from_arrays(read_npz(files.input("split"))),
        model=load_models(files.input("target")),
        study=study,
        seed=seed,
    )
    write_npz(files.output("arrays"), **arrays)
    settings = {key: value for key, value in study.items() if key != "grid"}
    MetricsRecord.build(
        study=zhao.STUDY,
        dataset=dataset,
        variant=variant,
        attack="max_confidence",
        grid={**job.row, **settings},
        seeds={"config": job.config_seed, "attack": seed},
        metrics=result,
    ).write(files.output("metrics"))
