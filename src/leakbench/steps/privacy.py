"""File-level steps of the DP axis: audit each membership variant (the aggregation is
:mod:`leakbench.steps.privacy_reporting`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from leakbench.attacks.base import cross_entropy
from leakbench.data.pool import Pool
from leakbench.io import read_npz, write_npz
from leakbench.names import BLACKBOX_AUDIT, ONE_RUN_AUDIT, WHITEBOX_AUDIT, variant_label
from leakbench.privacy import (
    DiracMechanism,
    DPConfig,
    audit_scores,
    clopper_pearson_ceiling,
    mechanism_optimal_bound,
    one_run_audit,
    row_epsilon,
)
from leakbench.privacy.canaries import Canaries, make_canaries
from leakbench.reporting.records import MetricsRecord
from leakbench.seeding import configure_torch, derive_seed
from leakbench.steps.context import Files, Job
from leakbench.studies.blackbox_audit import BlackBoxCell, blackbox_audit
from leakbench.studies.membership import role_seeds
from leakbench.studies.one_run_audit import OneRunCell, one_run_whitebox_audit
from leakbench.studies.splits import MembershipSplits
from leakbench.studies.whitebox_audit import AuditCell, whitebox_audit
from leakbench.training import TrainConfig, load_models, predict_logits, save_models, train_stacked

STUDY = "privacy"


def train_canary_target(*, job: Job, files: Files) -> None:
    """Train the canary target of one membership variant: the target's own training set
    and seed plus the inserted half of the ``canaries`` setting's count of canaries
    (mislabelled pool records from outside that set)."""
    configure_torch()
    dataset, variant = job.wildcard("dataset"), job.wildcard("variant")
    data = Pool.load(files.input("pool"))
    target_in = MembershipSplits.from_arrays(read_npz(files.input("splits"))).target_in
    canaries = make_canaries(
        y=data.y,
        num_classes=data.num_classes,
        candidates=np.flatnonzero(~target_in),
        count=job.setting("canaries"),
        seed=derive_seed(job.config_seed, STUDY, dataset, variant, "canaries"),
    )
    keep = np.concatenate([target_in, canaries.inserted])[None, :]
    models = train_stacked(
        arch=job.row["arch"],
        arch_params=job.row["arch_params"],
        x=np.concatenate([data.x, data.x[canaries.rows]]),
        y=np.concatenate([data.y, canaries.labels]),
        num_classes=data.num_classes,
        keep=keep,
        seeds=role_seeds(
            seed=job.config_seed, dataset=dataset, variant=variant, role="target", count=1
        ),
        config=TrainConfig.from_row(job.row),
    )
    write_npz(files.output("canaries"), **canaries.arrays())
    save_models(files.output("model"), models)


def _canary_bound(*, files: Files, delta: float, guesses: int) -> dict[str, Any]:
    """The one-run audit on the canaries (Steinke, Nasr and Jagielski 2023, the valid
    bound for m canaries inserted by fair coins into one training run): the loss attack's
    score -CE(f(x), y) ranks them, the top ``guesses`` are guessed in and the bottom
    ``guesses`` out, and the bound comes from the number of correct guesses."""
    data = Pool.load(files.input("canary_pool"))
    marks = Canaries.from_arrays(read_npz(files.input("canaries")))
    logits = predict_logits(load_models(files.input("canary_model")), data.x[marks.rows])[0]
    result = one_run_audit(
        scores=-cross_entropy(logits, marks.labels),
        included=marks.inserted,
        k_plus=guesses,
        k_minus=guesses,
        delta=delta,
    )
    return {
        "canaries": int(marks.rows.size),
        "canary_epsilon_lower": result.epsilon_lower,
        "canary_guesses": result.guesses,
        "canary_correct": result.correct,
        "canary_ceiling": result.ceiling,
    }


def audit(*, job: Job, files: Files) -> None:
    """The empirical epsilon lower bound of one membership variant's target model, from
    the ``attack`` setting's scores on its members and non-members, with the
    Clopper-Pearson ceiling of that many records, and (with the inputs
    ``canary_pool``, ``canary_model`` and ``canaries``) the one-run bound from the canary
    target's losses on its canaries (``guesses`` setting), next to the epsilon the
    accountant reports and the optimal-test bound of the target's mechanism for as many
    members and non-members (``natural_optimal`` setting: held-out runs and repeats of
    :func:`~leakbench.privacy.mechanism_optimal_bound`, every-iterate view: the
    subsampled Gaussian with the target's q, T and sigma; none without DP)."""
    dataset = job.wildcard("dataset")
    privacy = load_models(files.input("target")).privacy
    data = read_npz(files.input("scores"))
    delta = privacy["delta"] if privacy else job.setting("delta")
    name = variant_label(job.wildcard("variant"), row_epsilon(job.row))
    audit_seed = derive_seed(job.config_seed, STUDY, dataset, name)
    member = data["member"].astype(bool)
    result = audit_scores(scores=data["score"], member=member, delta=delta, seed=audit_seed)
    counts = {"members": int(member.sum()), "non_members": int((~member).sum())}
    ceiling = clopper_pearson_ceiling(**counts, delta=delta)
    optimal = None
    if privacy:
        optimal = mechanism_optimal_bound(
            mechanism=DiracMechanism(
                noise_multiplier=privacy["noise_multiplier"],
                sample_rate=privacy["sample_rate"],
                steps=privacy["steps"],
            ),
            view="every_iterate",
            delta=delta,
            seed=derive_seed(audit_seed, "optimal"),
            **counts,
            **job.setting("natural_optimal"),
        )
    canary = files.input_list("canaries")
    extra = (
        _canary_bound(files=files, delta=delta, guesses=job.setting("guesses")) if canary else {}
    )
    MetricsRecord.build(
        study=STUDY,
        dataset=dataset,
        variant=name,
        attack=job.setting("attack"),
        grid={**job.row, "variant": name},
        seeds={"config": job.config_seed, "audit": audit_seed},
        metrics={
            **result.as_dict(),
            "ceiling": ceiling,
            "optimal": optimal,
            "accountant": privacy["accountant"] if privacy else None,
            "accountant_epsilon": privacy["epsilon"] if privacy else None,
            "noise_multiplier": privacy["noise_multiplier"] if privacy else None,
            **extra,
        },
    ).write(files.output())


def audit_whitebox(*, job: Job, files: Files) -> None:
    """The white-box audits of the purpose-built cell (``audit`` setting,
    :class:`~leakbench.studies.whitebox_audit.AuditCell`) at the job's privacy variant:
    every-iterate and final-model bounds, the accountant's epsilon, the ceiling and the
    optimal-test bound, in one record."""
    configure_torch()
    dataset = job.wildcard("dataset")
    data = Pool.load(files.input("pool"))
    cell = AuditCell.from_mapping({**job.setting("audit"), "dataset": dataset})
    dp = DPConfig.from_mapping(job.row["privacy"])
    name = variant_label(WHITEBOX_AUDIT, dp.epsilon)
    seed = derive_seed(job.config_seed, STUDY, dataset, name)
    result = whitebox_audit(
        x=data.x, y=data.y, num_classes=data.num_classes, cell=cell, dp=dp, seed=seed
    )
    MetricsRecord.build(
        study=STUDY,
        dataset=dataset,
        variant=name,
        attack="dirac_canary",
        grid={**job.row, "audit": dict(job.setting("audit")), "variant": name},
        seeds={"config": job.config_seed, "audit": seed},
        metrics=result.as_dict(),
    ).write(files.output())


def audit_one_run(*, job: Job, files: Files) -> None:
    """The white-box one-run audit (``one_run`` setting,
    :class:`~leakbench.studies.one_run_audit.OneRunCell`, on the ``audit`` setting's cell)
    at the job's privacy variant: the bound from the guesses on m Dirac canaries of one
    run, the accountant's epsilon, the ceiling and the optimal-test bound, in one record."""
    configure_torch()
    dataset = job.wildcard("dataset")
    data = Pool.load(files.input("pool"))
    cell = AuditCell.from_mapping({**job.setting("audit"), "dataset": dataset})
    one_run = OneRunCell.from_mapping(job.setting("one_run"))
    dp = DPConfig.from_mapping(job.row["privacy"])
    name = variant_label(ONE_RUN_AUDIT, dp.epsilon)
    seed = derive_seed(job.config_seed, STUDY, dataset, name)
    result = one_run_whitebox_audit(
        x=data.x,
        y=data.y,
        num_classes=data.num_classes,
        cell=cell,
        one_run=one_run,
        dp=dp,
        seed=seed,
    )
    MetricsRecord.build(
        study=STUDY,
        dataset=dataset,
        variant=name,
        attack="dirac_canaries_one_run",
        grid={
            **job.row,
            "audit": dict(job.setting("audit")),
            "one_run": dict(job.setting("one_run")),
            "variant": name,
        },
        seeds={"config": job.config_seed, "audit": seed},
        metrics=result.as_dict(),
    ).write(files.output())


def audit_blackbox(*, job: Job, files: Files) -> None:
    """The black-box multi-run audit (``blackbox`` setting,
    :class:`~leakbench.studies.blackbox_audit.BlackBoxCell`, on the ``audit`` setting's
    dataset and model) at the job's privacy variant: the bound from the canary's loss, the
    accountant's epsilon, the ceiling and the optimal-test bounds, in one record."""
    configure_torch()
    dataset = job.wildcard("dataset")
    data = Pool.load(files.input("pool"))
    settings = {**job.setting("blackbox"), "dataset": dataset, "model": job.setting("model")}
    cell = BlackBoxCell.from_mapping(settings)
    dp = DPConfig.from_mapping(job.row["privacy"])
    name = variant_label(BLACKBOX_AUDIT, dp.epsilon)
    seed = derive_seed(job.config_seed, STUDY, dataset, name)
    result = blackbox_audit(
        x=data.x, y=data.y, num_classes=data.num_classes, cell=cell, dp=dp, seed=seed
    )
    MetricsRecord.build(
        study=STUDY,
        dataset=dataset,
        variant=name,
        attack="canary_loss",
        grid={**job.row, "blackbox": settings, "variant": name},
        seeds={"config": job.config_seed, "audit": seed},
        metrics=result.as_dict(),
    ).write(files.output())
