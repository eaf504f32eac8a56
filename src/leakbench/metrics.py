"""Membership-inference metrics. Members are the positive class; a higher score means "more
likely a member"; an attack's decision is a boolean prediction per record.

Every function is keyword-only, pure numpy, checks its inputs and returns Python floats
(or float64 arrays for the ROC curve). Shared conventions:

* ``member`` is a boolean mask (0/1 integers are accepted) holding at least one member and
  at least one non-member; otherwise TPR or FPR would be 0/0.
* ``scores`` are finite real numbers (NaN and +-inf are refused: with an infinite score the
  ROC curve's "flag nobody" end point would have no threshold above every score).
* The only remaining 0/0 case is :func:`precision` when nothing is predicted a member; it is
  defined as 0.0.
"""

from __future__ import annotations

import numbers

import numpy as np

from leakbench.errors import ConfigError

FPR_LEVELS = (0.001, 0.01)
"""False-positive rates at which :func:`membership_metrics` reports the TPR."""


def _mask(name: str, values: object) -> np.ndarray:
    """A 1-d boolean array from booleans or 0/1 numbers, else a ConfigError naming ``name``."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ConfigError(f"{name}: shape {array.shape} is not allowed; allowed: a 1-d array")
    if array.dtype == bool:
        return array
    numeric = array.dtype.kind in "iuf"
    bad = array[~np.isin(array, (0, 1))] if numeric else array
    if bad.size:
        raise ConfigError(
            f"{name}: values {bad[:3].tolist()!r} are not allowed; allowed: booleans or 0/1"
        )
    return array.astype(bool)


def _member(member: object) -> np.ndarray:
    m = _mask("member", member)
    if m.all() or not m.any():
        raise ConfigError(
            f"member: {int(m.sum())} members among {m.size} records is not allowed; allowed: "
            "at least one member and at least one non-member"
        )
    return m


def _scores(scores: object, size: int) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size != size:
        raise ConfigError(
            f"scores: shape {s.shape} is not allowed; allowed: 1-d with one score per record "
            f"of member ({size})"
        )
    if not np.isfinite(s).all():
        bad = s[~np.isfinite(s)][:3].tolist()
        raise ConfigError(f"scores: values {bad!r} are not allowed; allowed: finite numbers")
    return s


def _predictions(predictions: object, size: int) -> np.ndarray:
    p = _mask("predictions", predictions)
    if p.size != size:
        raise ConfigError(
            f"predictions: length {p.size} is not allowed; allowed: one per record of member "
            f"({size})"
        )
    return p


def _confusion(predictions: object, member: object) -> tuple[int, int, int, int]:
    """(TP, FP, FN, TN) of boolean ``predictions`` against the ``member`` mask."""
    m = _member(member)
    p = _predictions(predictions, m.size)
    return (
        int(np.sum(p & m)),
        int(np.sum(p & ~m)),
        int(np.sum(~p & m)),
        int(np.sum(~p & ~m)),
    )


def roc_curve(
    *, scores: np.ndarray, member: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points of the rule "member iff score >= threshold", one per distinct score.

    For each threshold t, TPR(t) = #{members with score >= t} / #members and
    FPR(t) = #{non-members with score >= t} / #non-members (Fawcett 2006, "An introduction
    to ROC analysis", Pattern Recognition Letters 27, section 4, Algorithm 1, with equally
    scored instances handled as one step). Records with equal scores share one threshold,
    so a tie moves the curve diagonally in one step. The thresholds are every distinct
    score in decreasing order, preceded by +inf (flag nobody), so the curve starts at
    (0, 0) and ends at (1, 1) (threshold = the lowest score).

    Args:
        scores: one finite score per record.
        member: true membership per record (booleans or 0/1).

    Returns:
        ``(fpr, tpr, thresholds)``, float64 arrays of equal length; fpr and tpr are
        non-decreasing, thresholds strictly decreasing.
    """
    m = _member(member)
    s = _scores(scores, m.size)
    thresholds = np.unique(s)[::-1]
    members, others = np.sort(s[m]), np.sort(s[~m])
    # #{x >= t} = n - #{x < t}, and #{x < t} is searchsorted(..., side="left").
    tp = members.size - np.searchsorted(members, thresholds, side="left")
    fp = others.size - np.searchsorted(others, thresholds, side="left")
    fpr = np.concatenate(([0.0], fp / others.size))
    tpr = np.concatenate(([0.0], tp / members.size))
    return fpr, tpr, np.concatenate(([np.inf], thresholds))


def auc(*, scores: np.ndarray, member: np.ndarray) -> float:
    """Area under the ROC curve, in the Mann-Whitney form.

    AUC = P(S_m > S_n) + 0.5 * P(S_m = S_n), with S_m the score of a member and S_n the
    score of a non-member drawn uniformly from all n1 * n0 pairs (Hanley & McNeil 1982,
    "The meaning and use of the area under a receiver operating characteristic (ROC)
    curve", Radiology 143: the area equals the Wilcoxon / Mann-Whitney statistic). It
    equals the trapezoid area under :func:`roc_curve`, ties included; the pairs are counted
    exactly, in integers, with sorted searches.
    """
    m = _member(member)
    s = _scores(scores, m.size)
    others = np.sort(s[~m])
    below = np.searchsorted(others, s[m], side="left")  # non-members strictly lower
    not_above = np.searchsorted(others, s[m], side="right")  # ... lower or equal
    wins = int(below.sum())
    ties = int((not_above - below).sum())
    return (wins + 0.5 * ties) / (int(m.sum()) * others.size)


def tpr_at_fpr(*, scores: np.ndarray, member: np.ndarray, fpr: float) -> float:
    """The largest TPR among the ROC points whose FPR is at most ``fpr``.

    TPR@FPR(a) = max{TPR(t) : FPR(t) <= a} over the thresholds of :func:`roc_curve`, the
    low-false-positive metric of Carlini et al. 2022, "Membership Inference Attacks From
    First Principles" (IEEE S&P), sections III-A and IV: an attack matters if it identifies some
    members with near certainty, which average-case metrics such as AUC hide. No
    interpolation between ROC points: the TPR is one an attacker can reach with a single
    threshold. Always defined, since the point (0, 0) qualifies.

    Args:
        scores: one finite score per record.
        member: true membership per record.
        fpr: the false-positive budget, 0 <= fpr <= 1.
    """
    if isinstance(fpr, bool) or not isinstance(fpr, numbers.Real) or not 0 <= fpr <= 1:
        raise ConfigError(f"fpr: {fpr!r} is not allowed; allowed: a number in [0, 1]")
    rates, tprs, _ = roc_curve(scores=scores, member=member)
    return float(tprs[rates <= fpr].max())


def best_balanced_accuracy(*, scores: np.ndarray, member: np.ndarray) -> float:
    """The highest balanced accuracy of any threshold: max_t (TPR(t) + 1 - FPR(t)) / 2.

    The "accuracy" Carlini et al. 2022, "Membership Inference Attacks From First
    Principles" (IEEE S&P), section III report beside AUC: the best an attacker could do
    with one threshold chosen knowing the answers, over the ROC points of
    :func:`roc_curve` (their reference code's ``max(1 - (fpr + (1 - tpr)) / 2)``). At
    least 0.5, since the end points (0, 0) and (1, 1) qualify.

    Args:
        scores: one finite score per record.
        member: true membership per record.
    """
    fpr, tpr, _ = roc_curve(scores=scores, member=member)
    return float(np.max((tpr + 1 - fpr) / 2))


def precision(*, predictions: np.ndarray, member: np.ndarray) -> float:
    """TP / (TP + FP): the fraction of records predicted members that are members.

    One of the two metrics of Shokri et al. 2017, "Membership Inference Attacks against
    Machine Learning Models" (IEEE S&P), section VI (evaluation). Defined as 0.0 when
    nothing is predicted a member (TP + FP = 0): an attack that names nobody has found
    nobody.
    """
    tp, fp, _, _ = _confusion(predictions, member)
    return tp / (tp + fp) if tp + fp else 0.0


def per_class_precision(
    *, predictions: np.ndarray, member: np.ndarray, labels: np.ndarray
) -> dict[int, float]:
    """:func:`precision` within each class: TP_c / (TP_c + FP_c) over the records of true
    label c, for every class with at least one record predicted a member (elsewhere it is
    0/0 and left out).

    The per-class precision whose cumulative distribution over classes Shokri et al. 2017
    (IEEE S&P) plot in section VI, Figs. 4, 8 and 9.
    """
    m = _member(member)
    p = _predictions(predictions, m.size)
    labels = np.asarray(labels)
    if labels.shape != m.shape:
        raise ConfigError(f"labels: shape {labels.shape} is not allowed; allowed: {m.shape}")
    out: dict[int, float] = {}
    for c in np.unique(labels):
        named = p & (labels == c)
        if named.any():
            out[int(c)] = float((named & m).sum() / named.sum())
    return out


def recall(*, predictions: np.ndarray, member: np.ndarray) -> float:
    """TP / (TP + FN): the fraction of members predicted members, i.e. the TPR.

    The other metric of Shokri et al. 2017, section VI. Never 0/0: ``member`` must hold
    a member.
    """
    tp, _, fn, _ = _confusion(predictions, member)
    return tp / (tp + fn)


def balanced_accuracy(*, predictions: np.ndarray, member: np.ndarray) -> float:
    """(TPR + TNR) / 2 = (TP / (TP + FN) + TN / (TN + FP)) / 2.

    Brodersen et al. 2010, "The balanced accuracy and its posterior distribution" (ICPR);
    it equals plain accuracy on a balanced evaluation set such as Shokri et
    al.'s (section VI) and stays 0.5 for a constant guess on an unbalanced one. Never
    0/0: ``member`` must hold a member and a non-member.
    """
    tp, fp, fn, tn = _confusion(predictions, member)
    return (tp / (tp + fn) + tn / (tn + fp)) / 2


def accuracy(*, logits: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy: (1/N) sum_i [argmax_c logits[i, c] == labels[i]].

    A tie between classes goes to the lowest class index (numpy's argmax). Used for the
    target model's train and test accuracy, whose difference is the generalisation gap that
    Shokri et al. 2017 relate to leakage (their Fig. 11).

    Args:
        logits: [N, C] model outputs (logits or probabilities: argmax is the same).
        labels: [N] integer labels in [0, C).
    """
    z = np.asarray(logits)
    y = np.asarray(labels)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ConfigError(f"logits: shape {z.shape} is not allowed; allowed: [N, C], N, C >= 1")
    if not np.isfinite(z).all():
        raise ConfigError("logits: contains NaN or infinite values; allowed: finite numbers")
    if y.shape != (z.shape[0],) or y.dtype.kind not in "iu":
        raise ConfigError(
            f"labels: shape {y.shape} and dtype {y.dtype} are not allowed; allowed: "
            f"integers of shape ({z.shape[0]},), one per row of logits"
        )
    if y.min() < 0 or y.max() >= z.shape[1]:
        raise ConfigError(
            f"labels: range [{y.min()}, {y.max()}] is not allowed; allowed: 0 .. "
            f"{z.shape[1] - 1} (one column of logits per class)"
        )
    return float(np.mean(z.argmax(axis=1) == y))


def membership_metrics(
    *, scores: np.ndarray, predictions: np.ndarray, member: np.ndarray
) -> dict[str, float]:
    """Every membership metric of one attack run, as Python floats.

    Threshold-free, from ``scores``: ``auc`` (:func:`auc`), ``tpr_at_fpr_0.001`` and
    ``tpr_at_fpr_0.01`` (:func:`tpr_at_fpr`). From the attack's own decisions
    ``predictions``: ``balanced_accuracy``, ``precision``, ``recall``.
    """
    m = _member(member)
    _scores(scores, m.size)
    _predictions(predictions, m.size)
    result = {
        "auc": auc(scores=scores, member=m),
        "balanced_accuracy": balanced_accuracy(predictions=predictions, member=m),
        "precision": precision(predictions=predictions, member=m),
        "recall": recall(predictions=predictions, member=m),
    }
    for level in FPR_LEVELS:
        result[f"tpr_at_fpr_{level}"] = tpr_at_fpr(scores=scores, member=m, fpr=level)
    return result


def clopper_pearson(
    *, successes: int, trials: int, confidence: float = 0.95
) -> tuple[float, float]:
    """The exact (Clopper-Pearson) confidence interval of a binomial proportion k / n.

    With a = 1 - confidence, lower = B(a/2; k, n - k + 1) and upper = B(1 - a/2; k + 1,
    n - k), where B(q; alpha, beta) is the q-quantile of the beta distribution; lower = 0
    when k = 0 and upper = 1 when k = n (Clopper & Pearson 1934, "The use of confidence or
    fiducial limits illustrated in the case of the binomial", Biometrika 26). It covers the
    true proportion with probability at least ``confidence`` for every n and p. Used for
    attack accuracy over target models here and for TPR/FPR in DP audits (Nasr et al. 2021,
    section 4).

    Args:
        successes: k, 0 <= k <= n.
        trials: n >= 1.
        confidence: in (0, 1).
    """
    for key, value in (("successes", successes), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: an integer")
    if not 0 <= successes <= trials or trials < 1:
        raise ConfigError(
            f"successes, trials: {successes}, {trials} are not allowed; allowed: "
            "0 <= k <= n, n >= 1"
        )
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence: {confidence!r} is not allowed; allowed: 0 < c < 1")
    lower, upper = clopper_pearson_arrays(
        successes=np.array([successes]), trials=np.array([trials]), confidence=confidence
    )
    return float(lower[0]), float(upper[0])


def clopper_pearson_arrays(
    *, successes: np.ndarray, trials: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`clopper_pearson` for arrays of (k, n) at once, unchecked: integer arrays of one
    shape with 0 <= k <= n and n >= 1. Returns float64 (lower, upper) arrays."""
    from scipy.stats import beta

    alpha = 1 - confidence
    k, n = np.asarray(successes, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):  # the k = 0 and k = n ends
        lower = np.where(k == 0, 0.0, beta.ppf(alpha / 2, k, n - k + 1))
        upper = np.where(k == n, 1.0, beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lower.astype(np.float64), upper.astype(np.float64)
