"""Attacks that threshold one statistic of the target's output; no shadow models."""

from __future__ import annotations

import numpy as np

from leakbench.attacks.base import (
    AttackInput,
    AttackResult,
    check_params,
    cross_entropy,
    require,
    softmax,
)
from leakbench.errors import ConfigError

DEFAULT_PERCENTILE = 90.0


def confidence(inp: AttackInput, *, seed: int, **params: float) -> AttackResult:
    """Salem et al. 2019 (ML-Leaks, NDSS), section 7, adversary 3: the max posterior.

    Score = max_c softmax(z)_c. The attacker has no shadow model; it picks the threshold
    from the target's answers to random noise, which is certainly not training data: the
    ``percentile``-th percentile of the max posteriors of the noise queries (default 90,
    i.e. a record must look more confident than 90% of noise). Member iff score > t.
    ``seed`` is unused: the attack is deterministic.
    """
    del seed
    check_params("confidence", params, {"percentile": "0..100"})
    percentile = params.get("percentile", DEFAULT_PERCENTILE)
    if not isinstance(percentile, (int, float)) or not 0 <= percentile <= 100:
        raise ConfigError(
            f"attack_params.confidence.percentile: {percentile!r} is not allowed; "
            "allowed: 0 <= percentile <= 100"
        )
    require("confidence", noise_logits=inp.noise_logits)
    scores = softmax(inp.logits).max(axis=1)
    threshold = float(np.percentile(softmax(inp.noise_logits).max(axis=1), percentile))
    return AttackResult(scores=scores, predictions=scores > threshold, threshold=threshold)


def loss(inp: AttackInput, *, seed: int, **params: object) -> AttackResult:
    """Yeom et al. 2018 (CSF), section 3.2, the threshold adversary on the loss.

    Score = -l(z, y) with l the cross-entropy; the adversary knows the target's average
    training loss L and predicts a member iff l(z, y) <= L, i.e. score >= -L. ``seed``
    is unused: the attack is deterministic.
    """
    del seed
    check_params("loss", params, {})
    require("loss", train_loss=inp.train_loss)
    scores = -cross_entropy(inp.logits, inp.labels)
    threshold = -float(inp.train_loss)
    return AttackResult(scores=scores, predictions=scores >= threshold, threshold=threshold)
