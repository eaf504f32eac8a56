"""File-level steps of the membership study (see :mod:`leakbench.studies.membership`)."""

from __future__ import annotations

import math

import numpy as np

from leakbench import metrics
from leakbench.data.pool import Pool
from leakbench.io import read_npz, write_npz, write_text
from leakbench.names import REAL, ShadowData, shadow_label, variant_label
from leakbench.privacy import row_epsilon
from leakbench.reporting.records import MetricsRecord
from leakbench.reporting.roc import roc_csv
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import membership
from leakbench.studies.model_families import Models, load_models, save_models, train_models
from leakbench.studies.shadow_data import make_shadow_records
from leakbench.studies.splits import MembershipSplits, make_splits
from leakbench.studies.synthesis import SynthesisParams

STUDY = "membership"


def split(*, job: Job, files: Files) -> None:
    """Draw the target/shadow masks for one grid row and save them."""
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    n_pool = len(Pool.load(files.input("pool")).y)
    splits = make_splits(
        n_pool=n_pool,
        members=job.setting("members"),
        shadows=job.setting("shadows"),
        seed=derive_seed(job.config_seed, STUDY, dataset, variant, "splits"),
    )
    write_npz(files.output(), **splits.arrays())


def train(*, job: Job, files: Files) -> None:
    """Train the target (one model) or every shadow (one stacked job) of a grid row."""
    configure_torch()
    role = job.wildcard("role")
    data = Pool.load(files.input("pool"))
    masks = MembershipSplits.from_arrays(read_npz(files.input("splits")))
    keep = masks.target_in[None, :] if role == "target" else masks.shadow_in
    models = _train(job=job, role=role, x=data.x, y=data.y, classes=data.num_classes, keep=keep)
    save_models(files.output(), models)


def _train(
    *, job: Job, role: str, x: np.ndarray, y: np.ndarray, classes: int, keep: np.ndarray
) -> Models:
    """The role's models of the job's grid row, one per row of ``keep``, on (x, y): the
    row's torch architecture (stacked) or scikit-learn family (one after the other)."""
    return train_models(
        row=job.row,
        x=x,
        y=y,
        num_classes=classes,
        keep=keep,
        seeds=membership.role_seeds(
            seed=job.config_seed,
            dataset=job.wildcard("dataset"),
            variant=job.wildcard("variant"),
            role=role,
            count=keep.shape[0],
        ),
    )


def query(*, job: Job, files: Files) -> None:
    """Save every model output the study's attacks need."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    outputs = membership.query_models(
        pool=Pool.load(files.input("pool")),
        splits=MembershipSplits.from_arrays(read_npz(files.input("splits"))),
        target=load_models(files.input("target")),
        shadows=load_models(files.input("shadows")),
        noise_queries=job.setting("noise_queries"),
        seed=derive_seed(job.config_seed, STUDY, dataset, variant, "noise"),
    )
    write_npz(files.output(), **outputs)


def shadow_data(*, job: Job, files: Files) -> None:
    """A non-real shadow-data variant of a grid row, in one job: generate the shadows'
    records (:func:`leakbench.studies.shadow_data.make_shadow_records`; ``synthetic``
    queries the row's target, input ``target``, through its prediction API), train every
    shadow on its own (one stacked run) and save the records (output ``records``) and the
    study outputs: the row's real outputs (input ``outputs``) with the shadows' rows on
    their generated records (output ``outputs``)."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    name = job.wildcard("shadow_data")
    data = Pool.load(files.input("pool"))
    kind = ShadowData.parse(name)
    target = load_models(files.input("target")) if kind.kind == "synthetic" else None
    records = make_shadow_records(
        shadow_data=kind,
        x=data.x,
        y=data.y,
        num_classes=data.num_classes,
        splits=MembershipSplits.from_arrays(read_npz(files.input("splits"))),
        count=job.row["shadow_records"] or job.row["members"],
        synthesis=SynthesisParams(**job.row["synthesis"]),
        predict=None if target is None else membership.prediction_api(target),
        seed=derive_seed(job.config_seed, STUDY, dataset, variant, "shadow_data", name),
    )
    shadows = _train(
        job=job,
        role="shadow",
        x=records.x,
        y=records.y,
        classes=data.num_classes,
        keep=records.shadow_in,
    )
    outputs = membership.query_shadow_records(
        outputs=read_npz(files.input("outputs")), records=records, shadows=shadows
    )
    write_npz(files.output("records"), **records.arrays())
    write_npz(files.output("outputs"), **outputs)


def attack(*, job: Job, files: Files) -> None:
    """Run one attack on a grid row; write its metrics record, scores and ROC curve."""
    dataset, variant, attack = (job.wildcard(key) for key in ("dataset", "variant", "attack"))
    shadow_data = job.cell.wildcards.get("shadow_data", REAL)
    attack_params = job.setting("attack_params")
    data = read_npz(files.input("outputs"))
    cell = shadow_label(variant, shadow_data)
    attack_seed = derive_seed(job.config_seed, STUDY, dataset, cell, attack)
    result, scores = membership.evaluate_attack(
        outputs=data, attack=attack, params=attack_params, seed=attack_seed
    )
    scores.update(membership.shadow_data_stats(data))
    if not math.isfinite(scores["threshold"]):
        scores["threshold"] = None
    fpr, tpr, _ = metrics.roc_curve(scores=result.scores, member=data["eval_member"])
    write_npz(
        files.output("scores"),
        index=data["eval_index"],
        member=data["eval_member"],
        score=result.scores,
        prediction=result.predictions,
        label=data["eval_labels"],
    )
    write_text(files.output("roc"), roc_csv(fpr=fpr, tpr=tpr))
    label = variant_label(cell, row_epsilon(job.row))
    MetricsRecord.build(
        study=STUDY,
        dataset=dataset,
        variant=label,
        attack=attack,
        grid={
            **job.row,
            "variant": label,
            "shadow_data": shadow_data,
            "shadows": job.setting("shadows"),
            "attack_params": dict(attack_params),
        },
        seeds={"config": job.config_seed, "attack": attack_seed},
        metrics=scores,
    ).write(files.output("metrics"))
