"""Approximate attribute inference (Zhao et al. 2019, Definition 4 and section 3,
"Attribute Inference"): the unknown features are the top features by mRMR; every
completion of them is queried and the one with the highest confidence is the guess.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from leakbench.errors import ConfigError, DataError

Confidence = Callable[[np.ndarray], np.ndarray]
"""``confidence(x) -> [len(x)]``: the model's largest class probability on each record."""


def _plogp(joint: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """Sum over cells of ``p log2(p / q)``, zero where ``p`` is zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log2(joint / np.where(outer > 0, outer, 1)), 0.0)
    return terms.sum(axis=tuple(range(1, terms.ndim)))


def relevance(*, x: np.ndarray, y: np.ndarray, num_classes: int) -> np.ndarray:
    """Mutual information I(x_j; c) in bits of every binary feature j with the class,
    from counts (the plug-in estimate, Peng et al. 2005 eq. 1):
    ``I = sum_{a, c} p(a, c) log2(p(a, c) / (p(a) p(c)))``.

    Returns:
        float64 ``[m]``.
    """
    xb = np.asarray(x).astype(bool)
    onehot = np.eye(num_classes, dtype=np.float64)[np.asarray(y)]
    n = len(xb)
    ones = xb.T.astype(np.float64) @ onehot  # [m, C]: count(x_j = 1, c)
    joint = np.stack([onehot.sum(axis=0)[None, :] - ones, ones], axis=1) / n  # [m, 2, C]
    p_a = joint.sum(axis=2, keepdims=True)
    p_c = joint.sum(axis=1, keepdims=True)
    return _plogp(joint, p_a * p_c)


def redundancy(*, x: np.ndarray, feature: int) -> np.ndarray:
    """Mutual information I(x_j; x_s) in bits of every binary feature j with feature s,
    from the 2 x 2 counts (plug-in, as :func:`relevance`).

    Returns:
        float64 ``[m]``.
    """
    xb = np.asarray(x).astype(bool)
    n = len(xb)
    s = xb[:, feature]
    n11 = (xb & s[:, None]).sum(axis=0)
    n10 = (xb & ~s[:, None]).sum(axis=0)
    n01 = s.sum() - n11
    n00 = n - n11 - n10 - n01
    joint = np.stack([np.stack([n00, n01], 1), np.stack([n10, n11], 1)], 1) / n  # [m, a, b]
    p_a = joint.sum(axis=2, keepdims=True)
    p_b = joint.sum(axis=1, keepdims=True)
    return _plogp(joint.astype(np.float64), p_a * p_b)


def mrmr(*, x: np.ndarray, y: np.ndarray, num_classes: int, count: int) -> np.ndarray:
    """The first ``count`` features by mRMR with the mutual-information difference (MID)
    criterion (Peng, Long and Ding 2005, section 2.3, eq. 6-7; Zhao et al. section 3):
    the first is ``argmax_j I(x_j; c)``; each next one maximises
    ``I(x_j; c) - (1 / |S|) sum_{s in S} I(x_j; x_s)`` over the features j not yet in S.
    Ties go to the lowest feature index.

    Returns:
        int64 ``[count]``, in selection order.

    Raises:
        ConfigError: if ``count`` is not in 1 .. m.
    """
    m = np.asarray(x).shape[1]
    if not 1 <= count <= m:
        raise ConfigError(f"zhao.unknown: {count} is not allowed; allowed: 1 .. {m} (features)")
    rel = relevance(x=x, y=y, num_classes=num_classes)
    total = np.zeros(m)
    chosen: list[int] = []
    free = np.ones(m, dtype=bool)
    for _ in range(count):
        score = rel - (total / len(chosen) if chosen else 0.0)
        best = int(np.flatnonzero(free)[np.argmax(score[free])])
        chosen.append(best)
        free[best] = False
        total += redundancy(x=x, feature=best)
    return np.asarray(chosen, dtype=np.int64)


def completions(width: int) -> np.ndarray:
    """Every 0/1 vector of length ``width``: float32 ``[2**width, width]``; row k holds
    the bits of k, most significant first."""
    codes = np.arange(2**width, dtype=np.int64)[:, None]
    return ((codes >> np.arange(width - 1, -1, -1)) & 1).astype(np.float32)


def infer(
    *, records: np.ndarray, unknown: np.ndarray, confidence: Confidence, batch_rows: int = 1 << 16
) -> np.ndarray:
    """Approximate attribute inference of each record's ``unknown`` features (Zhao et al.
    Definition 4, section 3): the adversary knows every other feature, queries every one
    of the ``2**m'`` completions and guesses the one of highest confidence. The result is
    the Hamming distance of the guess to the true record; with tied maxima, the mean
    distance of the tied completions (as the paper reports ties). The queries of several
    records go to ``confidence`` together, about ``batch_rows`` rows at a time.

    Random guessing is ``m' / 2`` in expectation.

    Returns:
        float64 ``[len(records)]``, each in ``[0, m']``.

    Raises:
        DataError: if a record is not binary or ``unknown`` repeats a feature.
    """
    recs = np.asarray(records, dtype=np.float32)
    idx = np.asarray(unknown, dtype=np.int64)
    if len(set(idx.tolist())) != idx.size:
        raise DataError(f"unknown: {idx.tolist()} repeats a feature; allowed: distinct features")
    if not np.isin(recs, (0, 1)).all():
        raise DataError("records: a value outside 0/1; allowed: binary records")
    options = completions(idx.size)
    per_batch = max(1, batch_rows // len(options))
    out = np.empty(len(recs), dtype=np.float64)
    for start in range(0, len(recs), per_batch):
        batch = recs[start : start + per_batch]
        queries = np.repeat(batch, len(options), axis=0)
        queries[:, idx] = np.tile(options, (len(batch), 1))
        conf = np.asarray(confidence(queries), dtype=np.float64).reshape(len(batch), -1)
        best = conf == conf.max(axis=1, keepdims=True)
        distances = np.abs(options[None, :, :] - batch[:, None, idx]).sum(axis=2)
        out[start : start + len(batch)] = (distances * best).sum(axis=1) / best.sum(axis=1)
    return out
