"""Membership-inference metrics. Members are the positive class; higher score = member.

Every function checks its inputs and returns Python floats.
"""

from __future__ import annotations

import numpy as np

from leakbench.errors import ConfigError


def _check(scores: np.ndarray, member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    m = np.asarray(member, dtype=bool)
    if s.shape != m.shape or s.ndim != 1:
        raise ConfigError(f"scores, member: shapes {s.shape} and {m.shape} must be equal and 1-d")
    if np.isnan(s).any():
        raise ConfigError("scores: contains NaN; allowed: real numbers (+-inf included)")
    if m.all() or not m.any():
        raise ConfigError(
            f"member: {int(m.sum())} members of {m.size}; need at least one member and one "
            "non-member"
        )
    return s, m


def roc_curve(*, scores: np.ndarray, member: np.ndarray) -> tuple[np.ndarray, ...]:
    """ROC points (fpr, tpr, thresholds) of the rule "member iff score >= threshold".

    One point per distinct score, in decreasing threshold order, plus (0, 0) at +inf:
    TPR(t) = #{members with score >= t} / #members and FPR(t) likewise over non-members
    (Fawcett 2006, "An introduction to ROC analysis", section 4, Algorithm 1). The last
    point is (1, 1).
    """
    s, m = _check(scores, member)
    order = np.argsort(-s, kind="stable")
    s, m = s[order], m[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp = np.cumsum(m)[last_of_tie]
    fp = np.cumsum(~m)[last_of_tie]
    fpr = np.r_[0.0, fp / (~m).sum()]
    tpr = np.r_[0.0, tp / m.sum()]
    return fpr, tpr, np.r_[np.inf, s[last_of_tie]]


def auc(*, scores: np.ndarray, member: np.ndarray) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic.

    AUC = P(S_member > S_nonmember) + 0.5 * P(S_member = S_nonmember) over all member /
    non-member pairs (Hanley & McNeil 1982, Radiology 143, section "The meaning of the
    area"), computed from mid-ranks: (R_members - n1 (n1 + 1) / 2) / (n1 n0), where
    R_members is the sum of the members' mid-ranks. Equals the trapezoid area under
    :func:`roc_curve`.
    """
    s, m = _check(scores, member)
    order = np.argsort(s, kind="stable")
    ranks = np.empty(s.size)
    sorted_s = s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_s)) + 1]
    ends = np.r_[starts[1:], s.size]
    mid = (starts + ends + 1) / 2.0  # 1-based mid-rank of each tie group
    ranks[order] = np.repeat(mid, ends - starts)
    n1, n0 = int(m.sum()), int((~m).sum())
    return float((ranks[m].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def tpr_at_fpr(*, scores: np.ndarray, member: np.ndarray, fpr: float) -> float:
    """The largest TPR among ROC points whose FPR is at most ``fpr``.

    The low-FPR metric of Carlini et al. 2022, "Membership Inference Attacks From First
    Principles" (S&P), section III-A: an attack matters if it identifies some members
    with near certainty, which average-case metrics hide.
    """
    if not 0 <= fpr <= 1:
        raise ConfigError(f"fpr: {fpr!r} is not allowed; allowed: 0 <= fpr <= 1")
    rates, tprs, _ = roc_curve(scores=scores, member=member)
    return float(tprs[rates <= fpr].max())


def _confusion(predictions: np.ndarray, member: np.ndarray) -> tuple[int, int, int, int]:
    p = np.asarray(predictions, dtype=bool)
    m = np.asarray(member, dtype=bool)
    if p.shape != m.shape:
        raise ConfigError(f"predictions, member: shapes {p.shape} and {m.shape} must be equal")
    return int((p & m).sum()), int((p & ~m).sum()), int((~p & m).sum()), int((~p & ~m).sum())


def precision(*, predictions: np.ndarray, member: np.ndarray) -> float:
    """TP / (TP + FP), the fraction of predicted members that are members (Shokri et al.
    2017, section IV-D); 0.0 when nothing is predicted a member."""
    tp, fp, _, _ = _confusion(predictions, member)
    return tp / (tp + fp) if tp + fp else 0.0


def recall(*, predictions: np.ndarray, member: np.ndarray) -> float:
    """TP / (TP + FN), the fraction of members predicted members (Shokri et al. 2017,
    section IV-D); 0.0 when there are no members."""
    tp, _, fn, _ = _confusion(predictions, member)
    return tp / (tp + fn) if tp + fn else 0.0


def balanced_accuracy(*, predictions: np.ndarray, member: np.ndarray) -> float:
    """(TPR + TNR) / 2 = (TP / (TP + FN) + TN / (TN + FP)) / 2 (Brodersen et al. 2010);
    equals accuracy on a balanced evaluation set such as Shokri et al.'s."""
    tp, fp, fn, tn = _confusion(predictions, member)
    tpr = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    return (tpr + tnr) / 2


def accuracy(*, logits: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy: mean over records of [argmax_c logits[i, c] == labels[i]]."""
    z, y = np.asarray(logits), np.asarray(labels)
    if z.ndim != 2 or z.shape[0] != y.shape[0]:
        raise ConfigError(f"logits, labels: shapes {z.shape} and {y.shape} do not match")
    return float((z.argmax(axis=1) == y).mean()) if y.size else 0.0


def membership_metrics(
    *, scores: np.ndarray, predictions: np.ndarray, member: np.ndarray
) -> dict[str, float]:
    """AUC, TPR at 0.1% and 1% FPR (from scores); precision, recall, balanced accuracy
    (from the attack's own decisions)."""
    return {
        "auc": auc(scores=scores, member=member),
        "tpr_at_fpr_0.001": tpr_at_fpr(scores=scores, member=member, fpr=0.001),
        "tpr_at_fpr_0.01": tpr_at_fpr(scores=scores, member=member, fpr=0.01),
        "precision": precision(predictions=predictions, member=member),
        "recall": recall(predictions=predictions, member=member),
        "balanced_accuracy": balanced_accuracy(predictions=predictions, member=member),
    }
