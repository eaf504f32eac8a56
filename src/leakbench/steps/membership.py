"""File-level steps of the membership study (see :mod:`leakbench.studies.membership`)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from leakbench import __version__, metrics
from leakbench.data.pool import Pool
from leakbench.io import read_npz, write_json, write_npz, write_text
from leakbench.names import variant_label
from leakbench.privacy import row_epsilon
from leakbench.provenance import git_commit
from leakbench.seeding import configure_torch, derive_seed
from leakbench.studies import membership
from leakbench.studies.splits import MembershipSplits, make_splits
from leakbench.training import TrainConfig, load_models, save_models, train_stacked

STUDY = "membership"


def split(
    *, pool: Path, out: Path, dataset: str, variant: str, members: int, shadows: int, seed: int
) -> None:
    """Draw the target/shadow masks for one grid row and save them."""
    n_pool = len(Pool.load(pool).y)
    splits = make_splits(
        n_pool=n_pool,
        members=members,
        shadows=shadows,
        seed=derive_seed(seed, STUDY, dataset, variant, "splits"),
    )
    write_npz(out, **splits.arrays())


def train(
    *,
    pool: Path,
    splits: Path,
    out: Path,
    dataset: str,
    variant: str,
    role: str,
    row: Mapping[str, Any],
    seed: int,
) -> None:
    """Train the target (one model) or every shadow (one stacked job) of a grid row."""
    configure_torch()
    data = Pool.load(pool)
    masks = MembershipSplits.from_arrays(read_npz(splits))
    keep = masks.target_in[None, :] if role == "target" else masks.shadow_in
    models = train_stacked(
        arch=row["arch"],
        arch_params=row["arch_params"],
        x=data.x,
        y=data.y,
        num_classes=data.num_classes,
        keep=keep,
        seeds=membership.role_seeds(
            seed=seed, dataset=dataset, variant=variant, role=role, count=keep.shape[0]
        ),
        config=TrainConfig.from_row(row),
    )
    save_models(out, models)


def query(
    *,
    pool: Path,
    splits: Path,
    target: Path,
    shadows: Path,
    out: Path,
    dataset: str,
    variant: str,
    noise_queries: int,
    seed: int,
) -> None:
    """Save every model output the study's attacks need."""
    configure_torch()
    outputs = membership.query_models(
        pool=Pool.load(pool),
        splits=MembershipSplits.from_arrays(read_npz(splits)),
        target=load_models(target),
        shadows=load_models(shadows),
        noise_queries=noise_queries,
        seed=derive_seed(seed, STUDY, dataset, variant, "noise"),
    )
    write_npz(out, **outputs)


def _roc_csv(fpr: np.ndarray, tpr: np.ndarray) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["fpr", "tpr"])
    writer.writerows((f"{f:.6g}", f"{t:.6g}") for f, t in zip(fpr, tpr, strict=True))
    return buf.getvalue()


def attack(
    *,
    outputs: Path,
    metrics_out: Path,
    scores_out: Path,
    roc_out: Path,
    dataset: str,
    variant: str,
    attack: str,
    row: Mapping[str, Any],
    attack_params: Mapping[str, Any],
    shadows: int,
    seed: int,
) -> None:
    """Run one attack on a grid row; write its metrics record, scores and ROC curve."""
    data = read_npz(outputs)
    attack_seed = derive_seed(seed, STUDY, dataset, variant, attack)
    result, scores = membership.evaluate_attack(
        outputs=data, attack=attack, params=attack_params, seed=attack_seed
    )
    if not math.isfinite(scores["threshold"]):
        scores["threshold"] = None
    fpr, tpr, _ = metrics.roc_curve(scores=result.scores, member=data["eval_member"])
    write_npz(
        scores_out,
        index=data["eval_index"],
        member=data["eval_member"],
        score=result.scores,
        prediction=result.predictions,
    )
    write_text(roc_out, _roc_csv(fpr, tpr))
    write_json(
        metrics_out,
        {
            "study": STUDY,
            "dataset": dataset,
            "variant": variant_label(variant, row_epsilon(row)),
            "attack": attack,
            "grid": {
                **row,
                "variant": variant_label(variant, row_epsilon(row)),
                "shadows": shadows,
                "attack_params": dict(attack_params),
            },
            "seeds": {"config": seed, "attack": attack_seed},
            "metrics": scores,
            "leakbench_version": __version__,
            "git_commit": git_commit(Path(__file__).resolve().parents[3]),
        },
    )
