"""Property inference from poisoning (Mahloujifar et al. 2022, IEEE S&P): the study's steps.

One group of models shares a dataset, a property, a plan (which models are targets or
shadows, and the property ratio each is trained at), an architecture and a poisoning rate.
Every model of a group trains on ``train_size`` clean records with an exact property
ratio, drawn from its side (targets: the victims'; shadows: the adversary's), plus the
same poison set. Clean data and initial weights depend on the model's slot and seeds,
not on the poisoning rate, so the rates of a group differ only by the poison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leakbench.attacks.base import softmax
from leakbench.attacks.property import label_fraction
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.poisoning import PoisonSet
from leakbench.studies.property_splits import PropertySides, sample_fraction
from leakbench.training import StackedModels, TrainConfig, predict_logits, train_stacked

QUERY_SELECTIONS = ("random", "uncertain")


@dataclass(frozen=True)
class ModelPlan:
    """Which model of a stacked group is a target, and the ratio it trains at.

    Attributes:
        is_target: bool [K]; False for the adversary's shadow models.
        ratio: float64 [K], the fraction of property records in the clean training set.
    """

    is_target: np.ndarray
    ratio: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {"is_target": self.is_target, "ratio": self.ratio}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> ModelPlan:
        return cls(is_target=arrays["is_target"].astype(bool), ratio=arrays["ratio"])


def distinguishing_plan(*, t0: float, t1: float, targets: int, shadows: int) -> ModelPlan:
    """Targets at t0, targets at t1, shadows at t0, shadows at t1, in that order."""
    if not 0 <= t0 < t1 <= 1:
        raise ConfigError(f"ratio_pairs: ({t0}, {t1}) is not allowed; allowed: 0 <= t0 < t1 <= 1")
    return ratio_plan(
        target_ratios=[t0, t1], targets=targets, shadow_ratios=[t0, t1], shadows=shadows
    )


def ratio_plan(
    *, target_ratios: Sequence[float], targets: int, shadow_ratios: Sequence[float], shadows: int
) -> ModelPlan:
    """``targets`` target models per target ratio, then ``shadows`` shadows per shadow ratio."""
    if targets < 1 or shadows < 1:
        raise ConfigError(
            f"targets, shadows: {targets}, {shadows} per ratio are not allowed; allowed: >= 1"
        )
    ratios = [r for r in target_ratios for _ in range(targets)]
    ratios += [r for r in shadow_ratios for _ in range(shadows)]
    is_target = np.arange(len(ratios)) < len(target_ratios) * targets
    return ModelPlan(is_target=is_target, ratio=np.asarray(ratios, dtype=np.float64))


def training_sets(
    *,
    pool: Pool,
    prop: np.ndarray,
    sides: PropertySides,
    plan: ModelPlan,
    train_size: int,
    poison: PoisonSet,
    seeds: Sequence[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stacked trainer's inputs: features, labels and the membership mask.

    The poison records are appended to the pool as rows N .. N + m - 1 (features copied,
    labels replaced) and every model keeps them; model k also keeps its clean sample
    (:func:`~leakbench.studies.property_splits.sample_fraction` from its side with
    ``rng(seeds[k])``).

    Returns:
        ``(x, y, keep)``: [N + m, ...] features, [N + m] labels, bool [K, N + m].
    """
    n = len(pool)
    x = np.concatenate([pool.x, pool.x[poison.rows]])
    y = np.concatenate([pool.y, poison.labels])
    keep = np.zeros((plan.ratio.size, n + poison.rows.size), dtype=bool)
    keep[:, n:] = True
    for k, (is_target, ratio) in enumerate(zip(plan.is_target, plan.ratio, strict=True)):
        rows = sides.victim if is_target else sides.shadow
        rng = np.random.default_rng(seeds[k])
        keep[k, sample_fraction(rows=rows, prop=prop, size=train_size, fraction=ratio, rng=rng)] = (
            True
        )
    return x, y, keep


def train_group(
    *,
    pool: Pool,
    prop: np.ndarray,
    sides: PropertySides,
    plan: ModelPlan,
    train_size: int,
    poison: PoisonSet,
    model: Mapping[str, Any],
    data_seeds: Sequence[int],
    init_seeds: Sequence[int],
) -> StackedModels:
    """Train every model of ``plan`` in one stacked run (architecture and optimiser from
    the config's ``model`` row)."""
    x, y, keep = training_sets(
        pool=pool, prop=prop, sides=sides, plan=plan, train_size=train_size, poison=poison,
        seeds=data_seeds,
    )  # fmt: skip
    return train_stacked(
        arch=model["arch"],
        arch_params=model["arch_params"],
        x=x,
        y=y,
        num_classes=pool.num_classes,
        keep=keep,
        seeds=list(init_seeds),
        config=TrainConfig.from_row(model),
    )


def select_queries(
    *,
    pool: Pool,
    candidates: np.ndarray,
    count: int,
    selection: str,
    target_label: int,
    clean_shadows: StackedModels | None,
) -> np.ndarray:
    """The q property records the adversary queries.

    ``random``: the first q candidates (already in a seeded random order). ``uncertain``:
    the q candidates whose mean probability of the target label under the adversary's
    unpoisoned shadow models is closest to 1/2, |mean_k P_k(target | x) - 1/2| smallest
    (ties by candidate order): records the clean model is unsure about are the ones a
    little poison flips.
    """
    if selection not in QUERY_SELECTIONS:
        raise ConfigError(
            f"query_selection: {selection!r} is not allowed; allowed: {', '.join(QUERY_SELECTIONS)}"
        )
    if not 1 <= count <= candidates.size:
        raise ConfigError(
            f"queries: {count} is not allowed; allowed: 1 .. {candidates.size} (query candidates)"
        )
    if selection == "random":
        return candidates[:count]
    if clean_shadows is None:
        raise ConfigError("query_selection: 'uncertain' needs the unpoisoned shadow models (p = 0)")
    logits = predict_logits(clean_shadows, pool.x[candidates])
    probability = np.stack([softmax(z)[:, target_label] for z in logits]).mean(axis=0)
    order = np.argsort(np.abs(probability - 0.5), kind="stable")
    return candidates[order[:count]]


def query_scores(*, models: StackedModels, x: np.ndarray, target_label: int) -> np.ndarray:
    """Each model's fraction of label-only answers equal to the target label, float64 [K]."""
    predictions = predict_logits(models, x).argmax(axis=2)
    return label_fraction(predictions=predictions, target_label=target_label)


def clean_accuracy(*, models: StackedModels, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each model's top-1 accuracy on the clean test set, float64 [K]."""
    predictions = predict_logits(models, x).argmax(axis=2)
    return (predictions == y[None, :]).mean(axis=1, dtype=np.float64)
