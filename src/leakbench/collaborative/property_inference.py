"""Passive property inference against collaborative learning (Melis et al. 2019, Section
IV-D, Algorithm 3; multi-party, Section VII).

Each round the target's batch holds only records with the property in half of the rounds
(m = 2, Section VI-B), otherwise none; the honest participants never hold the property.
A :class:`schedule.Schedule` changes which rounds hold how many property records (a
fraction of the batch, a window of rounds) and when the target takes part (a late joiner).
At each round's global parameters θ_t the adversary emulates the aggregate of the K - 1
others on its auxiliary data: one update on a batch with the property plus K - 2 without
(a positive example), and K - 1 without (a negative one); with K = 2 these are
Algorithm 3's g_prop and g_nonprop. A random forest (50 trees in the paper) trained on
them scores the observed updates Δθ_t - Δθ_t^adv; the AUC is over the rounds, labelled by
whether the target's batch had the property.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from leakbench.collaborative.features import normalise_rows, standardise, update_features
from leakbench.collaborative.partition import Partition
from leakbench.collaborative.schedule import Schedule, alternating
from leakbench.collaborative.simulate import (
    Algorithm,
    aggregate,
    aggregation_weights,
    apply,
    observed_update,
    participant_updates,
    task_accuracy,
    without,
)
from leakbench.metrics import auc


@dataclass(frozen=True)
class TrialSettings:
    """One simulated training run and its attack.

    Attributes:
        algorithm: how the server aggregates.
        rounds: T, the rounds of collaborative training (one observed update each).
        batch_size: records per batch.
        local_steps: SGD steps per participant and round (1 for synchronised SGD).
        lr: the participants' SGD learning rate.
        trees: trees of the random forest.
        max_features: features kept per weight tensor (:func:`features.pooled`).
    """

    algorithm: Algorithm
    rounds: int
    batch_size: int
    local_steps: int
    lr: float
    trees: int
    max_features: int


@dataclass(frozen=True)
class TrialResult:
    """The attack's AUC (None when every round has the same label, as in a control run),
    per round its score and whether the target's batch had the property, and the final
    global model's main-task accuracy on the test records (None without them)."""

    auc: float | None
    scores: np.ndarray
    has_property: np.ndarray
    accuracy: float | None = None


def _draw(
    rng: np.random.Generator, prop: np.ndarray, nonprop: np.ndarray, *, count: int, size: int
) -> np.ndarray:
    """``size`` records: ``count`` with the property and the rest without, shuffled."""
    drawn = np.concatenate(
        [
            rng.choice(prop, size=count, replace=False),
            rng.choice(nonprop, size=size - count, replace=False),
        ]
    )
    return rng.permutation(drawn)


def _take(params: Mapping[str, Tensor], rows: slice | int) -> dict[str, Tensor]:
    return {k: v[rows] for k, v in params.items()}


def run_trial(
    *,
    model: nn.Module,
    x: Tensor,
    labels: Tensor,
    partition: Partition,
    settings: TrialSettings,
    seed: int,
    schedule: Schedule | None = None,
    test: tuple[Tensor, Tensor] | None = None,
    adversary_records: int | None = None,
) -> TrialResult:
    """Train the global model from ``model``'s parameters for ``settings.rounds`` rounds
    with ``len(partition.nonprop)`` participants, run the attack, return its AUC.

    Per round the K participants and the adversary's 2(K - 1) emulated updates are
    computed in one vmapped call (:func:`simulate.participant_updates`). ``schedule``
    (default: Section VI-B's random half of the rounds, drawn from ``seed``, whose batches
    hold ``adversary_records`` property records) sets the target's rounds; in a round it
    is absent its weight is 0 (the data-size weights of federated averaging are taken over
    the present participants), and the adversary, who does not know when it joins, still
    emulates the aggregate of K - 1 others.
    ``adversary_records``: property records in the adversary's emulated positive batch
    (default: all of its round's records; a fraction row passes the target's count, so the
    adversary emulates batches like the target's). ``test``: (x, main-task label) records
    for the final model's accuracy.
    """
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    k = len(partition.nonprop)
    s = settings
    per_round = s.local_steps * s.batch_size
    adv_count = per_round if adversary_records is None else adversary_records
    if schedule is None:
        schedule = alternating(rounds=s.rounds, count=adv_count, rng=rng)
    sizes = torch.from_numpy(partition.sizes())
    weights = aggregation_weights(algorithm=s.algorithm, sizes=sizes)
    absent = without(algorithm=s.algorithm, sizes=sizes, absent=1)
    others = weights[1:]
    params = {name: p.detach() for name, p in model.named_parameters()}
    train_rows, train_labels, observed_rows = [], [], []
    adv_prop, adv_nonprop = partition.prop[0], partition.nonprop[0]
    for t in range(s.rounds):
        target = int(schedule.property_records[t])
        own = partition.prop[1] if target == per_round else partition.nonprop[1]
        sources = [adv_nonprop, own, *partition.nonprop[2:]]
        sources += [adv_prop] + [adv_nonprop] * (k - 2) + [adv_nonprop] * (k - 1)
        index = np.stack([rng.choice(src, size=per_round, replace=False) for src in sources])
        if 0 < target < per_round:
            index[1] = _draw(rng, partition.prop[1], own, count=target, size=per_round)
        if adv_count < per_round:
            index[k] = _draw(rng, adv_prop, adv_nonprop, count=adv_count, size=per_round)
        index = torch.from_numpy(index.reshape(len(sources), s.local_steps, s.batch_size))
        updates = participant_updates(
            model=model, params=params, x=x[index], y=labels[index], lr=s.lr
        )
        w = weights if schedule.present[t] else absent
        after = apply(
            params=params, update=aggregate(updates=_take(updates, slice(0, k)), weights=w)
        )
        observed = observed_update(
            before=params, after=after, own=_take(updates, 0), own_weight=float(w[0])
        )
        positive = aggregate(updates=_take(updates, slice(k, 2 * k - 1)), weights=others)
        negative = aggregate(updates=_take(updates, slice(2 * k - 1, 3 * k - 2)), weights=others)
        observed_rows.append(update_features(observed, max_features=s.max_features))
        train_rows += [
            update_features(u, max_features=s.max_features) for u in (positive, negative)
        ]
        train_labels += [1, 0]
        params = after
    train, test_rows = standardise(
        normalise_rows(np.stack(train_rows)), normalise_rows(np.stack(observed_rows))
    )
    forest = RandomForestClassifier(
        n_estimators=s.trees, random_state=int(rng.integers(2**31)), n_jobs=1
    )
    forest.fit(train, np.array(train_labels))
    scores = forest.predict_proba(test_rows)[:, 1]
    has_property = schedule.has_property
    accuracy = None
    if test is not None:
        accuracy = task_accuracy(model=model, params=params, x=test[0], y=test[1])
    return TrialResult(
        auc=auc(scores=scores, member=has_property) if 0 < has_property.sum() < s.rounds else None,
        scores=scores,
        has_property=has_property,
        accuracy=accuracy,
    )
