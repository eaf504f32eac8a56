"""File-level step of the Song et al. study (see :mod:`leakbench.studies.memorisation`)."""

from __future__ import annotations

import numpy as np

from leakbench.data.pool import Pool
from leakbench.io import write_npz
from leakbench.malicious.quality import image_shape
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import memorisation
from leakbench.training import save_models


def encode(*, job: Job, files: Files) -> None:
    """Train a grid row's benign and malicious models stacked, encode, decode and
    measure; write the models, the metrics record and the decoded images."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    study = job.setting("study")
    pool = Pool.load(files.input("pool"))
    seeds = {
        "config": job.config_seed,
        "split": derive_seed(job.config_seed, memorisation.STUDY, dataset, variant, "split"),
        "models": memorisation.model_seed(seed=job.config_seed, dataset=dataset, variant=variant),
        "countermeasure": derive_seed(
            job.config_seed, memorisation.STUDY, dataset, variant, "countermeasure"
        ),
    }
    split = memorisation.make_split(n_pool=len(pool), row=job.row, seed=seeds["split"])
    models = memorisation.train(
        pool=pool, split=split, row=job.row, study=study, seed=seeds["models"]
    )
    result, arrays = memorisation.evaluate(
        pool=pool,
        split=split,
        models=models,
        row=job.row,
        study=study,
        seed=seeds["countermeasure"],
    )
    save_models(files.output("models"), models)
    shape = np.asarray(image_shape(tuple(pool.x.shape[1:])))
    write_npz(files.output("images"), shape=shape, **arrays)
    settings = {key: value for key, value in study.items() if key != "grid"}
    MetricsRecord.build(
        study=memorisation.STUDY,
        dataset=dataset,
        variant=variant,
        attack="encodings",
        grid={**job.row, **settings},
        seeds=seeds,
        metrics=result,
    ).write(files.output("metrics"))
