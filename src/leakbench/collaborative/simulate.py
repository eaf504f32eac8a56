"""Collaborative training, simulated: K participants, one global model (Melis et al. 2019,
Section II-B).

Every participant's update in a round is computed at the same global parameters, so the
participants of a round are stacked: one ``torch.func.vmap`` over ``functional_call`` +
``grad`` computes all of them (and the adversary's emulated updates) in one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from leakbench.errors import ConfigError

Params = dict[str, Tensor]


class Algorithm(StrEnum):
    """How the server combines the participants' updates."""

    SYNC_SGD = "sync_sgd"
    """Algorithm 1 (Shokri & Shmatikov 2015): one gradient step per participant on one
    batch at the current parameters; the server applies the sum."""
    FEDAVG = "fedavg"
    """Algorithm 2 (McMahan et al. 2017): local SGD steps per participant; the server
    averages the local models weighted by data size n^k / n."""


def parse_algorithm(value: str, *, key: str) -> Algorithm:
    """The :class:`Algorithm` named ``value``.

    Raises:
        ConfigError: naming ``key``, the value and the allowed names.
    """
    try:
        return Algorithm(value)
    except ValueError:
        allowed = ", ".join(a.value for a in Algorithm)
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: {allowed}") from None


def participant_updates(
    *, model: nn.Module, params: Mapping[str, Tensor], x: Tensor, y: Tensor, lr: float
) -> Params:
    """Each participant's update Δθ^k = θ^k - θ from the global parameters ``params``.

    ``x`` is ``[P, S, B, *input]`` and ``y`` ``[P, S, B]``: participant p takes S plain SGD
    steps of learning rate ``lr`` on its batches ``x[p, s]`` (cross-entropy), starting from
    ``params``. With S = 1 the update is -lr * ∇L(b^k; θ), synchronised SGD's gradient
    (Algorithm 1); with S > 1 it is ClientUpdate's local model minus θ (Algorithm 2).
    The P participants are vmapped.

    Returns:
        ``{name: [P, *shape]}``.
    """

    def loss(p: Mapping[str, Tensor], xb: Tensor, yb: Tensor) -> Tensor:
        return nn.functional.cross_entropy(functional_call(model, dict(p), (xb,)), yb)

    step = grad(loss)

    def local(xs: Tensor, ys: Tensor) -> Params:
        current = dict(params)
        for s in range(xs.shape[0]):
            g = step(current, xs[s], ys[s])
            current = {k: current[k] - lr * g[k] for k in current}
        return {k: current[k] - params[k] for k in current}

    # "different": each participant draws its own dropout masks (a model without
    # random layers draws nothing).
    return vmap(local, randomness="different")(x, y)


def aggregation_weights(*, algorithm: Algorithm, sizes: Tensor) -> Tensor:
    """The server's weight of each participant: 1 for synchronised SGD (the sum of the
    updates, Algorithm 1), n^k / n for federated averaging (Algorithm 2, n = Σ n^k)."""
    sizes = sizes.to(torch.float64)
    if algorithm is Algorithm.SYNC_SGD:
        return torch.ones_like(sizes)
    return sizes / sizes.sum()


def without(*, algorithm: Algorithm, sizes: Tensor, absent: int) -> Tensor:
    """The server's weights in a round participant ``absent`` sends nothing (before a late
    joiner joins, Section VII-B): 0 for it; the others' as :func:`aggregation_weights`
    gives them over the present participants only (for federated averaging n^k / n with
    n the present participants' records)."""
    present = torch.ones(len(sizes), dtype=torch.bool)
    present[absent] = False
    weights = aggregation_weights(algorithm=algorithm, sizes=sizes * present)
    return torch.where(present, weights, torch.zeros_like(weights))


def aggregate(*, updates: Mapping[str, Tensor], weights: Tensor) -> Params:
    """The global update Δθ = Σ_k w_k Δθ^k (``updates``: ``{name: [K, *shape]}``)."""
    return {k: torch.tensordot(weights.to(u.dtype), u, dims=([0], [0])) for k, u in updates.items()}


def observed_update(
    *,
    before: Mapping[str, Tensor],
    after: Mapping[str, Tensor],
    own: Mapping[str, Tensor],
    own_weight: float,
) -> Params:
    """What the adversary sees of the others: Δθ_t - w_adv Δθ_t^adv, with Δθ_t = θ_t -
    θ_{t-1} the difference of consecutive global models (Section IV-B)."""
    return {k: (after[k] - before[k]) - own_weight * own[k] for k in before}


def apply(*, params: Mapping[str, Tensor], update: Mapping[str, Tensor]) -> Params:
    """The next global model θ + Δθ."""
    return {k: params[k] + update[k] for k in params}


def task_accuracy(*, model: nn.Module, params: Mapping[str, Tensor], x: Tensor, y: Tensor) -> float:
    """The global model's main-task accuracy, the fraction of records whose arg-max class
    is their label (the utility beside the attack, as Melis et al.'s Fig. 6 and Tables
    V-VII report it)."""
    with torch.no_grad():
        predicted = functional_call(model, dict(params), (x,)).argmax(dim=1)
    return float((predicted == y).to(torch.float64).mean())
