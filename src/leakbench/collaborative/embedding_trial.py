"""One collaborative training run of a model with an embedding layer and the attacks on
its embedding updates (Melis et al. 2019, Sections IV-C, VI-A, VI-B and VIII-B).

Two participants train with synchronised SGD (Algorithm 1): the adversary and the target.
Each round the target's batch holds only records with the property in half of the rounds
(m = 2, Section VI-B) and none otherwise; the adversary trains on records without it. At
each round's parameters the adversary also computes updates on an auxiliary batch with the
property and one without (Algorithm 3); the four updates of a round are one vmapped call.

From the observed rounds the adversary:

- reads each round's batch BoW V_t from the embedding rows the target changed
  (:func:`embedding.revealed_words`) and infers membership (Section IV-C) of the target's
  records and as many held-out records; precision and recall (Table II);
- scores each V_t with a logistic regression (the paper's classifier for embedding
  gradients, Section IV-D) trained on the BoWs of its own property / non-property updates;
  AUC over the rounds.

The model's utility is the main task's AUC on the held-out records (Table VI's "Model AUC").

Recall can fall below the paper's 1: in a text CNN a word's embedding row gets a gradient
only if one of its windows wins some filter's max over time (with a positive ReLU), so a
model with few filters leaves some words of a batch out of the revealed BoW.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from leakbench.collaborative.embedding import (
    bag_of_words,
    infer_members,
    precision_recall,
    revealed_words,
    update_words,
)
from leakbench.collaborative.simulate import participant_updates
from leakbench.errors import ConfigError
from leakbench.metrics import auc


@dataclass(frozen=True)
class Roles:
    """Record indices of each role (rows of the token matrix).

    Attributes:
        target_prop, target_nonprop: the target's records with and without the property.
        adv_prop, adv_nonprop: the adversary's.
        held_out: records no participant holds: the membership attack's non-members and
            the utility test set.
    """

    target_prop: np.ndarray
    target_nonprop: np.ndarray
    adv_prop: np.ndarray
    adv_nonprop: np.ndarray
    held_out: np.ndarray


def split_roles(
    *, has_property: np.ndarray, batch_size: int, key: str, rng: np.random.Generator
) -> Roles:
    """Shuffle the records and split them in three equal parts: the target's, the
    adversary's and the held-out ones (Section VI-A splits the data evenly between target
    and adversary; the held-out third supplies the non-members).

    Raises:
        ConfigError: naming ``key``, before any training, if the target's or the
            adversary's records with or without the property are fewer than one batch.
    """
    order = rng.permutation(len(has_property))
    parts = np.array_split(order, 3)
    roles = Roles(
        target_prop=parts[0][has_property[parts[0]]],
        target_nonprop=parts[0][~has_property[parts[0]]],
        adv_prop=parts[1][has_property[parts[1]]],
        adv_nonprop=parts[1][~has_property[parts[1]]],
        held_out=parts[2],
    )
    for name in ("target_prop", "target_nonprop", "adv_prop", "adv_nonprop"):
        found = len(getattr(roles, name))
        if found < batch_size:
            raise ConfigError(
                f"{key}.batch_size: {batch_size} is not allowed with {found} {name} records "
                f"(a third of the row's records each for the target and the adversary); "
                f"allowed: 1 .. {found}"
            )
    return roles


@dataclass(frozen=True)
class TrialResult:
    """The attacks' results on one run.

    Attributes:
        precision, recall: of the membership rule over the target's trained records and
            as many held-out records (Table II).
        property_auc: the logistic regression's AUC over the rounds.
        model_auc: the final global model's main-task AUC on the held-out records.
        members: the target's records that went through a batch.
        mean_batch_words: the mean |V_t| over the rounds.
    """

    precision: float
    recall: float
    property_auc: float
    model_auc: float
    members: int
    mean_batch_words: float


class _Cycle:
    """Batches drawn without replacement from ``pool``, reshuffled each time it runs out."""

    def __init__(self, pool: np.ndarray, rng: np.random.Generator) -> None:
        self.pool, self.rng, self.left = pool, rng, np.empty(0, dtype=np.int64)

    def take(self, size: int) -> np.ndarray:
        if len(self.left) < size:
            self.left = np.concatenate([self.left, self.rng.permutation(self.pool)])
        batch, self.left = self.left[:size], self.left[size:]
        return batch


def embedding_name(model: nn.Module) -> str:
    """The parameter name of the model's (first) embedding matrix.

    Raises:
        ConfigError: if the model has no ``nn.Embedding``.
    """
    for module_name, module in model.named_modules():
        if isinstance(module, nn.Embedding):
            return f"{module_name}.weight" if module_name else "weight"
    raise ConfigError(
        f"arch: {type(model).__name__} is not allowed; allowed: a model with an embedding layer"
    )


def run_trial(
    *,
    model: nn.Module,
    tokens: Tensor,
    labels: Tensor,
    roles: Roles,
    rounds: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> TrialResult:
    """Train ``model`` collaboratively for ``rounds`` rounds and run both attacks.

    ``tokens`` are int64 ids ``[N, L]`` within the model's vocabulary, ``labels`` int64
    ``[N]`` (binary main task).
    """
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    name = embedding_name(model)
    vocab = model.get_parameter(name).shape[0]
    has_property = rng.permutation(np.arange(rounds) % 2 == 0)
    cycles = {
        role: _Cycle(getattr(roles, role), rng)
        for role in ("target_prop", "target_nonprop", "adv_prop", "adv_nonprop")
    }
    params = {k: p.detach() for k, p in model.named_parameters()}
    observed, train_rows, trained = [], [], []
    for t in range(rounds):
        target = cycles["target_prop" if has_property[t] else "target_nonprop"].take(batch_size)
        trained.append(target)
        own = cycles["adv_nonprop"].take(batch_size)
        aux = [cycles["adv_prop"].take(batch_size), cycles["adv_nonprop"].take(batch_size)]
        index = torch.from_numpy(np.stack([own, target, *aux]))[:, None]  # [4, 1, B]
        updates = participant_updates(
            model=model, params=params, x=tokens[index], y=labels[index], lr=lr
        )
        after = {k: params[k] + (updates[k][0] + updates[k][1]) for k in params}
        observed.append(
            revealed_words(
                before=params[name], after=after[name], own=updates[name][0], own_weight=1.0
            )
        )
        train_rows += [update_words({name: updates[name][i]}, name=name) for i in (2, 3)]
        params = after
    batches = np.stack(observed)
    members = np.unique(np.concatenate(trained))
    non_members = roles.held_out[: len(members)]
    candidates = np.concatenate([members, non_members])
    is_member = np.arange(len(candidates)) < len(members)
    predicted = infer_members(
        records=bag_of_words(tokens[candidates].numpy(), vocab=vocab), batches=batches
    )
    precision, recall = precision_recall(predicted=predicted, member=is_member)
    classifier = LogisticRegression(max_iter=1000)
    classifier.fit(np.stack(train_rows).astype(np.float64), np.tile([1, 0], rounds))
    scores = classifier.predict_proba(batches.astype(np.float64))[:, 1]
    with torch.no_grad():
        logits = torch.func.functional_call(model, params, (tokens[roles.held_out],))
        main = torch.softmax(logits.to(torch.float64), dim=1)[:, 1].numpy()
    return TrialResult(
        precision=precision,
        recall=recall,
        property_auc=auc(scores=scores, member=has_property),
        model_auc=auc(scores=main, member=labels[roles.held_out].numpy() == 1),
        members=len(members),
        mean_batch_words=float(batches.sum(axis=1).mean()),
    )
