"""Two-party collaborative learning under the defences of Melis et al. 2019 (Section
VIII) and with an active adversary (Section IV-E): the attack's AUC beside the joint
model's utility.

Synchronised SGD with two participants, the adversary (0) and the target (1), as in the
paper's Fig. 7 and Tables V and VII. In half of the rounds (m = 2, Section VI-B) a
share of the target's batch (all of it in Section VI-B, half in Fig. 7) has the property,
otherwise none of it. Each round:

- the target uploads -lr ∇L(b; θ_t) on its batch (with dropout when the model has it:
  Table VII adds dropout to the joint model, so every participant trains with it);
- the adversary uploads the update of its multi-task loss (:mod:`active`; alpha = 0 is
  passive) on a batch that is half property, half not; a passive adversary whose model has
  no output layer a head attaches to (the text CNN) uploads its plain update -lr ∇L on that
  batch, which is the multi-task update at alpha = 0;
- each upload keeps only its ``share_fraction`` of largest-magnitude entries
  (:mod:`sharing`; 1 shares everything);
- under participant-level DP (:mod:`participant_dp`, Section VIII-D) each upload is then
  clipped to L2 norm C and the server adds N(0, sigma^2 C^2 I) to their sum;
- the adversary observes Δθ_t - Δθ_t^adv (the target's shared update, plus the server's
  noise under DP) and, at θ_t, computes shared updates on a batch with the property and
  one without (Algorithm 3's g_prop and g_nonprop), all following the same protocol. Under
  DP it clips them too and adds noise of the published scale sigma C from its own draws,
  so that the classifier trains on updates distributed as the observed ones.

A random forest on the update features (:mod:`features`) trained on the g_prop / g_nonprop
pairs scores the observed updates; the AUC is over the rounds. The utility is the final
joint model's main-task accuracy on held-out records (dropout off).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call

from leakbench.collaborative.active import adversary_update, carries_head, new_head
from leakbench.collaborative.features import normalise_rows, standardise, update_features
from leakbench.collaborative.participant_dp import (
    ParticipantDP,
    clip_update,
    noise,
    server_aggregate,
)
from leakbench.collaborative.partition import Partition
from leakbench.collaborative.sharing import share_largest
from leakbench.collaborative.simulate import apply, observed_update, participant_updates
from leakbench.metrics import auc
from leakbench.seeding import derive_seed


@dataclass(frozen=True)
class Setting:
    """One two-party run.

    Attributes:
        rounds: T, the rounds of synchronised SGD (one observed update each).
        batch_size: records per batch.
        lr: every participant's SGD learning rate (the adversary's head too).
        trees: trees of the random forest.
        max_features: features kept per weight tensor (:func:`features.pooled`).
        alpha: the active adversary's alpha (0: passive).
        share_fraction: the fraction of each update's entries shared (1: all).
        property_share: the fraction of a batch with the property that has it, the rest
            drawn without (Fig. 7: 0.5; 1: the whole batch); the adversary's g_prop batches
            follow it too.
        dp: participant-level DP's clipping norm and noise multiplier (None: no DP).
    """

    rounds: int
    batch_size: int
    lr: float
    trees: int
    max_features: int
    alpha: float = 0.0
    share_fraction: float = 1.0
    property_share: float = 1.0
    dp: ParticipantDP | None = None


@dataclass(frozen=True)
class Outcome:
    """The attack's AUC, the joint model's main-task test accuracy, and per round the
    attack's score and whether the target's batch had the property."""

    auc: float
    accuracy: float
    scores: np.ndarray
    has_property: np.ndarray


def accuracy(*, model: nn.Module, params: Mapping[str, Tensor], x: Tensor, y: Tensor) -> float:
    """The share of ``x`` whose arg-max logit under ``params`` is ``y`` (eval mode)."""
    model.eval()
    try:
        with torch.no_grad():
            predicted = functional_call(model, dict(params), (x,)).argmax(dim=1)
    finally:
        model.train()
    return float((predicted == y).to(torch.float64).mean())


def _row(update: Mapping[str, Tensor], index: int) -> dict[str, Tensor]:
    return {k: v[index] for k, v in update.items()}


def _plus(a: Mapping[str, Tensor], b: Mapping[str, Tensor]) -> dict[str, Tensor]:
    return {k: a[k] + b[k] for k in a}


def run(
    *,
    model: nn.Module,
    data: tuple[Tensor, Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    partition: Partition,
    setting: Setting,
    seed: int,
    key: str,
) -> Outcome:
    """Train the joint model from ``model``'s parameters for ``setting.rounds`` rounds and
    attack it (module docstring).

    Args:
        data: ``(x, y, p)``: inputs, main-task labels and 0/1 property labels of the records
            ``partition`` indexes.
        test: held-out ``(x, y)`` for the utility.
        key: the config key named if the model cannot carry a property head.
    """
    from sklearn.ensemble import RandomForestClassifier

    x, y, p = data
    s = setting
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    passive_headless = s.alpha == 0 and not carries_head(model)
    head = None if passive_headless else new_head(model, key=f"{key}.arch", generator=generator)
    # DP's noise comes from streams of its own, so a run without DP draws as it always did;
    # the streams do not depend on epsilon, so every privacy variant of a row draws the same
    # standard normals scaled by its own sigma C (paired variants, common random numbers).
    server = torch.Generator().manual_seed(derive_seed(seed, "dp", "server"))
    simulated = torch.Generator().manual_seed(derive_seed(seed, "dp", "adversary"))
    has_property = rng.permutation(np.arange(s.rounds) % 2 == 0)
    params = {name: v.detach() for name, v in model.named_parameters()}
    adv_prop, adv_nonprop = partition.prop[0], partition.nonprop[0]
    with_prop = round(s.property_share * s.batch_size)

    def batch(prop: np.ndarray, nonprop: np.ndarray, count: int) -> np.ndarray:
        return np.concatenate(
            [
                rng.choice(prop, size=count, replace=False),
                rng.choice(nonprop, size=s.batch_size - count, replace=False),
            ]
        )

    train_rows, observed_rows = [], []
    for t in range(s.rounds):
        index = np.stack(
            [
                batch(partition.prop[1], partition.nonprop[1], with_prop if has_property[t] else 0),
                batch(adv_prop, adv_nonprop, with_prop),
                batch(adv_prop, adv_nonprop, 0),
            ]
        )
        index = torch.from_numpy(index.reshape(3, 1, s.batch_size))
        honest = participant_updates(model=model, params=params, x=x[index], y=y[index], lr=s.lr)
        mixed = torch.from_numpy(batch(adv_prop, adv_nonprop, s.batch_size // 2))
        if head is None:
            plain = participant_updates(
                model=model, params=params, x=x[mixed][None, None], y=y[mixed][None, None], lr=s.lr
            )
            own = _row(plain, 0)
        else:
            own, head = adversary_update(
                model=model,
                params=params,
                head=head,
                x=x[mixed],
                y=y[mixed],
                p=p[mixed],
                alpha=s.alpha,
                lr=s.lr,
                key=f"{key}.arch",
            )
        own = share_largest(own, fraction=s.share_fraction)
        target_up, g_prop, g_nonprop = (
            share_largest(_row(honest, i), fraction=s.share_fraction) for i in range(3)
        )
        total = {k: own[k] + target_up[k] for k in params}
        if s.dp is not None:
            (own, target_up), total = server_aggregate([own, target_up], dp=s.dp, generator=server)
            g_prop, g_nonprop = (
                _plus(clip_update(g, clip=s.dp.clip), noise(g, std=s.dp.std, generator=simulated))
                for g in (g_prop, g_nonprop)
            )
        after = apply(params=params, update=total)
        observed = observed_update(before=params, after=after, own=own, own_weight=1.0)
        observed_rows.append(update_features(observed, max_features=s.max_features))
        train_rows += [update_features(g, max_features=s.max_features) for g in (g_prop, g_nonprop)]
        params = after
    train, scored = standardise(
        normalise_rows(np.stack(train_rows)), normalise_rows(np.stack(observed_rows))
    )
    forest = RandomForestClassifier(
        n_estimators=s.trees, random_state=int(rng.integers(2**31)), n_jobs=1
    )
    forest.fit(train, np.tile([1, 0], s.rounds))
    scores = forest.predict_proba(scored)[:, 1]
    return Outcome(
        auc=auc(scores=scores, member=has_property),
        accuracy=accuracy(model=model, params=params, x=test[0], y=test[1]),
        scores=scores,
        has_property=has_property,
    )
