"""The Zhao et al. 2019 study: membership AUC against the Hamming distance to the nearest
member, strong membership inference on synthetic r-neighbours, and approximate attribute
inference over the top mRMR features.

Setting (Zhao et al. section 3, "Setup"): ``records`` records are sampled from the pool
and split ``train_fraction`` / rest into training (members) and testing (non-members) sets;
``eval_records`` of each are the evaluated members and non-members; the target is trained
on the whole training set; the attack score is the target's largest class probability
(Salem et al.'s max-confidence attack, which the paper adopts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np
import torch

from leakbench import metrics
from leakbench.attacks.attribute_inference import infer, mrmr
from leakbench.attacks.strong_membership import auc_by_distance, flip_neighbours, nearest_distances
from leakbench.data.pool import Pool
from leakbench.data.spec import DatasetSpec
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.seeding import derive_seed
from leakbench.training import StackedModels, predict_logits

STUDY = "zhao"


@dataclass(frozen=True)
class ZhaoSplit:
    """Pool indices of one grid row: ``train`` (the target's members), ``test`` (the
    non-members), ``members`` and ``others`` (the evaluated members and non-members)."""

    train: np.ndarray
    test: np.ndarray
    members: np.ndarray
    others: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The split as named arrays, for ``write_npz``."""
        return {
            "train": self.train,
            "test": self.test,
            "members": self.members,
            "others": self.others,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> ZhaoSplit:
        """The inverse of :meth:`arrays`."""
        return cls(**{key: arrays[key] for key in ("train", "test", "members", "others")})

    def keep(self, n_pool: int) -> np.ndarray:
        """bool ``[1, n_pool]``: the target's training records."""
        mask = np.zeros((1, n_pool), dtype=bool)
        mask[0, self.train] = True
        return mask


def split_sizes(row: Mapping[str, Any]) -> tuple[int, int]:
    """(training records, testing records) of a grid row: ``floor(records *
    train_fraction)`` and the rest."""
    train = int(row["records"] * row["train_fraction"])
    return train, row["records"] - train


def make_split(*, n_pool: int, row: Mapping[str, Any], seed: int) -> ZhaoSplit:
    """Sample ``records`` pool records, split them into training and testing sets and draw
    ``eval_records`` evaluated records from each (sorted indices).

    Raises:
        ConfigError: if the pool holds fewer than ``records`` records.
    """
    if row["records"] > n_pool:
        raise ConfigError(
            f"zhao.grid.records: {row['records']} is not allowed; allowed: at most {n_pool} "
            f"(the records of {row['dataset']})"
        )
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(n_pool)[: row["records"]]
    n_train, _ = split_sizes(row)
    train, test = chosen[:n_train], chosen[n_train:]
    count = row["eval_records"]
    return ZhaoSplit(
        train=np.sort(train),
        test=np.sort(test),
        members=np.sort(rng.permutation(train)[:count]),
        others=np.sort(rng.permutation(test)[:count]),
    )


def target_seed(*, seed: int, dataset: str, variant: str) -> int:
    """The target model's training seed."""
    return derive_seed(seed, STUDY, dataset, variant, "target")


def max_confidence(model: StackedModels, x: np.ndarray) -> np.ndarray:
    """The model's largest softmax probability on each record (float64 ``[n]``)."""
    logits = torch.from_numpy(predict_logits(model, x)[0]).double()
    return torch.softmax(logits, dim=1).max(dim=1).values.numpy()


def evaluate(
    *,
    pool: Pool,
    split: ZhaoSplit,
    model: StackedModels,
    study: Mapping[str, Any],
    seed: int,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every measurement of one grid row.

    Returns:
        The metrics (membership AUC, target accuracies, AUC per distance bin, AUC per
        flip count r, attribute-inference mean distance and its random baseline m'/2) and
        the arrays behind the figures (distances, per-target attribute distances).
    """

    def confidence(x: np.ndarray) -> np.ndarray:
        return max_confidence(model, x)

    members, others = pool.x[split.members], pool.x[split.others]
    member_scores, other_scores = confidence(members), confidence(others)
    labels = np.concatenate([np.ones(len(members), bool), np.zeros(len(others), bool)])
    auc = metrics.auc(scores=np.concatenate([member_scores, other_scores]), member=labels)
    train_logits = predict_logits(model, pool.x[split.train])[0]
    test_logits = predict_logits(model, pool.x[split.test])[0]

    distances = nearest_distances(queries=others, members=pool.x[split.train])
    bins = auc_by_distance(
        member_scores=member_scores,
        other_scores=other_scores,
        other_distances=distances,
        width=study["bin_width"],
    )

    rng = np.random.default_rng(derive_seed(seed, "neighbours"))
    strong = {}
    for r in study["flips"]:
        near = flip_neighbours(
            members=members, r=r, per_member=study["neighbours"], rng=rng
        ).reshape(-1, members.shape[1])
        scores = np.concatenate([member_scores, confidence(near.astype(np.float32))])
        member = np.concatenate([np.ones(len(members), bool), np.zeros(len(near), bool)])
        strong[str(r)] = metrics.auc(scores=scores, member=member)

    unknown = mrmr(
        x=pool.x[split.train],
        y=pool.y[split.train],
        num_classes=pool.num_classes,
        count=study["unknown"],
    )
    targets = members[: study["attribute_targets"]]
    attribute = infer(records=targets, unknown=unknown, confidence=confidence)
    result = {
        "auc": auc,
        "target_train_accuracy": metrics.accuracy(logits=train_logits, labels=pool.y[split.train]),
        "target_test_accuracy": metrics.accuracy(logits=test_logits, labels=pool.y[split.test]),
        "median_distance": float(np.median(distances)),
        "distance_bins": [
            {"low": b.low, "high": b.high, "count": b.count, "auc": b.auc} for b in bins
        ],
        "strong_auc": strong,
        "unknown_features": unknown.tolist(),
        "attribute_mean_distance": float(attribute.mean()),
        "attribute_random_distance": study["unknown"] / 2,
    }
    return result, {"distances": distances, "attribute_distances": attribute}


def check_study(*, study: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]) -> None:
    """Refuse, before any job, what the schema cannot express: an unknown data set, a
    non-binary one, m' or a flip count r outside 1 .. the feature count, fewer than
    ``neighbours`` possible r-neighbours, and a split too small for ``eval_records``.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    for i, row in enumerate(study["grid"]):
        key = f"zhao.grid.{i}"
        if row["dataset"] not in datasets:
            raise UnknownNameError(f"{key}.dataset", row["dataset"], datasets)
        spec = datasets[row["dataset"]]
        if not spec.binary:
            binary = sorted(name for name, other in datasets.items() if other.binary)
            raise ConfigError(
                f"{key}.dataset: {row['dataset']!r} is not allowed; allowed: a data set of "
                f"binary records ({', '.join(binary)})"
            )
        m = spec.input_shape[0]
        if not 1 <= study["unknown"] <= min(m, 24):
            raise ConfigError(
                f"zhao.unknown: {study['unknown']} is not allowed; allowed: 1 .. "
                f"{min(m, 24)} ({m} features of {row['dataset']}; 2**m' queries per target)"
            )
        for r in study["flips"]:
            if not 1 <= r <= m:
                raise ConfigError(
                    f"zhao.flips: {r} is not allowed; allowed: 1 .. {m} (the features of "
                    f"{row['dataset']})"
                )
            if comb(m, r) < study["neighbours"]:
                raise ConfigError(
                    f"zhao.flips: {r} is not allowed with {study['neighbours']} neighbours: "
                    f"only {comb(m, r)} vectors lie at distance {r} of a {m}-feature record"
                )
        n_train, n_test = split_sizes(row)
        if row["eval_records"] > min(n_train, n_test):
            raise ConfigError(
                f"{key}.eval_records: {row['eval_records']} is not allowed; allowed: at most "
                f"{min(n_train, n_test)} (the smaller of the {n_train} training and {n_test} "
                "testing records)"
            )
        if row["eval_records"] < study["attribute_targets"]:
            raise ConfigError(
                f"zhao.attribute_targets: {study['attribute_targets']} is not allowed; "
                f"allowed: at most {row['eval_records']} ({key}.eval_records)"
            )
