"""Threshold attacks without shadow models: the maximum posterior against a threshold set from
random-noise queries (Salem et al. 2019) and the loss against the mean training loss (Yeom
et al. 2018)."""

from __future__ import annotations

import numbers

import numpy as np

from leakbench.attacks.base import (
    AttackInput,
    AttackResult,
    check_params,
    require,
)
from leakbench.errors import ConfigError

CONFIDENCE_PARAMS = ("percentile",)
DEFAULT_PERCENTILE = 90.0
"""p of the p-th percentile of the noise queries' max posteriors; see :func:`confidence`."""

LOSS_PARAMS: tuple[str, ...] = ()


def noise_threshold(noise_scores: np.ndarray, *, percentile: float) -> float:
    """The ``percentile``-th percentile of the noise queries' scores.

    numpy's default (linear) percentile, Hyndman & Fan 1996 type 7: with the R scores sorted
    increasingly x_(0) <= ... <= x_(R-1) and h = (R - 1) * p / 100, the threshold is
    x_(floor h) + (h - floor h) * (x_(floor h + 1) - x_(floor h)). At most
    R - (R - 1) * p / 100 noise scores lie strictly above it, so the rule "member iff
    score > threshold" flags about (100 - p)% of the noise queries, which are non-members
    by construction.
    """
    return float(np.percentile(np.asarray(noise_scores, dtype=np.float64), percentile))


def confidence(inp: AttackInput, *, seed: int, **params: object) -> AttackResult:
    """Salem et al. 2019, "ML-Leaks: Model and Data Independent Membership Inference Attacks
    and Defenses on Machine Learning Models" (NDSS), section 7, adversary 3: no shadow
    model and no data from the target's distribution.

    Score = max_c softmax(z)_c, the target's highest posterior on the record. The attacker
    sets the threshold by querying the target on random inputs (uniform noise), which are
    not training data: threshold = the p-th percentile of their max posteriors
    (:func:`noise_threshold`, ``inp.noise_logits`` holds the target's outputs on them). A
    record is predicted a member iff score > threshold.

    Default p = 90, i.e. the noise records' top 10 percent, following Salem et al. section
    7; set ``attack_params.confidence.percentile`` to change it.

    Args:
        inp: needs ``noise_logits``.
        seed: unused (the attack is deterministic); accepted for the common signature.
        **params: ``percentile`` (p), a number in [0, 100], default 90.

    Returns:
        Scores (max posteriors), predictions and the threshold.

    Raises:
        ConfigError: on an unknown parameter, a percentile that is not a number in
            [0, 100], or when ``inp.noise_logits`` is None.
    """
    del seed
    check_params("confidence", params, CONFIDENCE_PARAMS)
    percentile = params.get("percentile", DEFAULT_PERCENTILE)
    if (
        isinstance(percentile, bool)
        or not isinstance(percentile, numbers.Real)
        or not 0 <= percentile <= 100  # also refuses NaN
    ):
        raise ConfigError(
            f"attack_params.confidence.percentile: {percentile!r} is not allowed; allowed: "
            "a number p with 0 <= p <= 100 (the p-th percentile of noise max posteriors)"
        )
    require("confidence", noise_logits=inp.noise_logits)
    scores = inp.posteriors(inp.logits).max(axis=1)
    threshold = noise_threshold(inp.posteriors(inp.noise_logits).max(axis=1), percentile=percentile)
    return AttackResult(scores=scores, predictions=scores > threshold, threshold=threshold)


def loss(inp: AttackInput, *, seed: int, **params: object) -> AttackResult:
    """Yeom et al. 2018, "Privacy Risk in Machine Learning: Analyzing the Connection to
    Overfitting" (IEEE CSF), section 3.2: the threshold adversary that knows the target's
    average training loss.

    Score = -l(z, y), with l(z, y) = -log softmax(z)_y the cross-entropy of the target's
    logits z on the record's true label y. The adversary predicts "member" iff
    l(z, y) <= L, the target's mean training loss (``inp.train_loss``), i.e. iff
    score >= -L: the threshold is -L in score units. The scores rank records by loss for
    the threshold-free metrics (AUC, TPR at low FPR).

    Args:
        inp: needs ``train_loss``.
        seed: unused (the attack is deterministic); accepted for the common signature.
        **params: none.

    Returns:
        Scores (negated losses), predictions and the threshold -L.

    Raises:
        ConfigError: on any parameter, or when ``inp.train_loss`` is None.
    """
    del seed
    check_params("loss", params, LOSS_PARAMS)
    require("loss", train_loss=inp.train_loss)
    scores = -inp.losses(inp.logits, inp.labels)
    threshold = -float(inp.train_loss)
    return AttackResult(scores=scores, predictions=scores >= threshold, threshold=threshold)
