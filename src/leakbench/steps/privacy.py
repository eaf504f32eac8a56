"""File-level steps of the DP axis: audit each membership variant, aggregate the axis."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from leakbench import __version__
from leakbench.attacks.base import cross_entropy
from leakbench.data.pool import Pool
from leakbench.io import read_npz, write_json, write_npz
from leakbench.names import variant_label
from leakbench.privacy import audit_scores, row_epsilon
from leakbench.privacy.canaries import Canaries, make_canaries
from leakbench.provenance import git_commit
from leakbench.reporting.figures import save_figure
from leakbench.reporting.privacy import audit_figure, audit_table, tradeoff_figure, tradeoff_table
from leakbench.reporting.records import load_records
from leakbench.reporting.tables import write_table_csv, write_table_md
from leakbench.seeding import configure_torch, derive_seed
from leakbench.studies.membership import role_seeds
from leakbench.studies.splits import MembershipSplits
from leakbench.training import TrainConfig, load_models, predict_logits, save_models, train_stacked

STUDY = "privacy"


def train_canary_target(
    *,
    pool: Path,
    splits: Path,
    model_out: Path,
    canaries_out: Path,
    dataset: str,
    variant: str,
    row: Mapping[str, Any],
    count: int,
    seed: int,
) -> None:
    """Train the canary target of one membership variant: the target's own training set
    and seed plus the inserted half of ``count`` canaries (mislabelled pool records from
    outside that set)."""
    configure_torch()
    data = Pool.load(pool)
    target_in = MembershipSplits.from_arrays(read_npz(splits)).target_in
    canaries = make_canaries(
        y=data.y,
        num_classes=data.num_classes,
        candidates=np.flatnonzero(~target_in),
        count=count,
        seed=derive_seed(seed, STUDY, dataset, variant, "canaries"),
    )
    keep = np.concatenate([target_in, canaries.inserted])[None, :]
    models = train_stacked(
        arch=row["arch"],
        arch_params=row["arch_params"],
        x=np.concatenate([data.x, data.x[canaries.rows]]),
        y=np.concatenate([data.y, canaries.labels]),
        num_classes=data.num_classes,
        keep=keep,
        seeds=role_seeds(seed=seed, dataset=dataset, variant=variant, role="target", count=1),
        config=TrainConfig.from_row(row),
    )
    write_npz(canaries_out, **canaries.arrays())
    save_models(model_out, models)


def _canary_bound(
    *, pool: Path, model: Path, canaries: Path, delta: float, seed: int
) -> dict[str, Any]:
    """The audit on the canaries: the loss attack's score -CE(f(x), y) of each canary."""
    data = Pool.load(pool)
    marks = Canaries.from_arrays(read_npz(canaries))
    logits = predict_logits(load_models(model), data.x[marks.rows])[0]
    result = audit_scores(
        scores=-cross_entropy(logits, marks.labels), member=marks.inserted, delta=delta, seed=seed
    )
    return {
        "canaries": int(marks.rows.size),
        "canary_epsilon_lower": result.epsilon_lower,
        "canary_counts": [result.tp, result.fn, result.fp, result.tn],
    }


def audit(
    *,
    target: Path,
    scores: Path,
    out: Path,
    dataset: str,
    variant: str,
    attack: str,
    row: Mapping[str, Any],
    delta: float,
    seed: int,
    canary: Mapping[str, Path] | None = None,
) -> None:
    """The empirical epsilon lower bound of one membership variant's target model, from
    ``attack``'s scores on its members and non-members, and (with ``canary``: ``pool``,
    ``model``, ``canaries`` paths) from the canary target's losses on its canaries, next to
    the epsilon the accountant reports."""
    privacy = load_models(target).privacy
    data = read_npz(scores)
    delta = privacy["delta"] if privacy else delta
    name = variant_label(variant, row_epsilon(row))
    audit_seed = derive_seed(seed, STUDY, dataset, name)
    result = audit_scores(
        scores=data["score"], member=data["member"].astype(bool), delta=delta, seed=audit_seed
    )
    extra = {} if canary is None else _canary_bound(**canary, delta=delta, seed=audit_seed)
    write_json(
        out,
        {
            "study": STUDY,
            "dataset": dataset,
            "variant": name,
            "attack": attack,
            "grid": {**row, "variant": name},
            "seeds": {"config": seed, "audit": audit_seed},
            "metrics": {
                **result.as_dict(),
                "accountant": privacy["accountant"] if privacy else None,
                "accountant_epsilon": privacy["epsilon"] if privacy else None,
                "noise_multiplier": privacy["noise_multiplier"] if privacy else None,
                **extra,
            },
            "leakbench_version": __version__,
            "git_commit": git_commit(Path(__file__).resolve().parents[3]),
        },
    )


def aggregate(
    *,
    membership: Sequence[str | Path],
    audits: Sequence[str | Path],
    property_poisoning: Sequence[str | Path],
    tradeoff_csv: str | Path,
    tradeoff_md: str | Path,
    audit_csv: str | Path,
    audit_md: str | Path,
    summary_out: str | Path,
    tradeoff_stem: str | Path,
    audit_stem: str | Path,
) -> None:
    """The trade-off and audit tables and figures, and the DVC summary
    ``{"audit": {dataset/cell: {epsilon: [accountant, lower bound]}}, "tradeoff": ...}``."""
    audit_records = load_records(paths=audits)
    audited = audit_table(records=audit_records)
    tradeoff = tradeoff_table(
        membership=load_records(paths=membership),
        audits=audit_records,
        property_poisoning=load_records(paths=property_poisoning),
    )
    write_table_csv(table=tradeoff, path=tradeoff_csv)
    write_table_md(table=tradeoff, path=tradeoff_md)
    write_table_csv(table=audited, path=audit_csv)
    write_table_md(table=audited, path=audit_md)
    summary: dict[str, Any] = {"audit": {}, "tradeoff": {}}
    for row in audited.itertuples(index=False):
        summary["audit"].setdefault(f"{row.dataset}/{row.cell}", {})[f"{row.epsilon:g}"] = {
            "accountant_epsilon": (
                None if math.isnan(row.accountant_epsilon) else round(row.accountant_epsilon, 4)
            ),
            "epsilon_lower": round(row.epsilon_lower, 4),
        }
    for row in tradeoff.itertuples(index=False):
        key = f"{row.study}/{row.dataset}/{row.cell}/{row.attack}"
        if row.study == "property_poisoning":
            key += f"/p{row.poison_rate:g}"
        value = row.auc if row.study == "membership" else row.attack_accuracy
        summary["tradeoff"].setdefault(key, {})[f"{row.epsilon:g}"] = round(value, 4)
    write_json(summary_out, summary)
    save_figure(figure=tradeoff_figure(table=tradeoff), stem=tradeoff_stem)
    save_figure(figure=audit_figure(table=audited), stem=audit_stem)
