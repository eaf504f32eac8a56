"""File-level steps of the membership study (see :mod:`leakbench.studies.membership`)."""

from __future__ import annotations

import math

from leakbench import metrics
from leakbench.data.pool import Pool
from leakbench.io import read_npz, write_npz, write_text
from leakbench.names import variant_label
from leakbench.privacy import row_epsilon
from leakbench.reporting.figures import roc_csv
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies import membership
from leakbench.studies.splits import MembershipSplits, make_splits
from leakbench.training import TrainConfig, load_models, save_models, train_stacked

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
    models = train_stacked(
        arch=job.row["arch"],
        arch_params=job.row["arch_params"],
        x=data.x,
        y=data.y,
        num_classes=data.num_classes,
        keep=keep,
        seeds=membership.role_seeds(
            seed=job.config_seed,
            dataset=job.wildcard("dataset"),
            variant=job.wildcard("variant"),
            role=role,
            count=keep.shape[0],
        ),
        config=TrainConfig.from_row(job.row),
    )
    save_models(files.output(), models)


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


def attack(*, job: Job, files: Files) -> None:
    """Run one attack on a grid row; write its metrics record, scores and ROC curve."""
    dataset, variant, attack = (job.wildcard(key) for key in ("dataset", "variant", "attack"))
    attack_params = job.setting("attack_params")
    data = read_npz(files.input("outputs"))
    attack_seed = derive_seed(job.config_seed, STUDY, dataset, variant, attack)
    result, scores = membership.evaluate_attack(
        outputs=data, attack=attack, params=attack_params, seed=attack_seed
    )
    if not math.isfinite(scores["threshold"]):
        scores["threshold"] = None
    fpr, tpr, _ = metrics.roc_curve(scores=result.scores, member=data["eval_member"])
    write_npz(
        files.output("scores"),
        index=data["eval_index"],
        member=data["eval_member"],
        score=result.scores,
        prediction=result.predictions,
    )
    write_text(files.output("roc"), roc_csv(fpr=fpr, tpr=tpr))
    label = variant_label(variant, row_epsilon(job.row))
    MetricsRecord.build(
        study=STUDY,
        dataset=dataset,
        variant=label,
        attack=attack,
        grid={
            **job.row,
            "variant": label,
            "shadows": job.setting("shadows"),
            "attack_params": dict(attack_params),
        },
        seeds={"config": job.config_seed, "attack": attack_seed},
        metrics=scores,
    ).write(files.output("metrics"))
