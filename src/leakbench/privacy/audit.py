"""Empirical DP audit: a lower bound on epsilon from a membership attack's scores.

If training is (epsilon, delta)-DP, every test that guesses whether a record was in the
training set has true- and false-positive rates with
``TPR <= exp(epsilon) * FPR + delta`` and ``1 - FPR <= exp(epsilon) * (1 - TPR) + delta``
(the hypothesis-testing view of DP, Kairouz et al. 2015, Theorem 2.1). So any observed
test gives

    epsilon >= max( log((TPR - delta) / FPR),  log((1 - FPR - delta) / (1 - TPR)) ),

and with a Clopper-Pearson lower bound on TPR and upper bound on FPR in place of the
observed rates the bound holds at the stated confidence (Jagielski et al. 2020, "Auditing
differentially private machine learning", section 4; Nasr et al. 2021, "Adversary
instantiation", section 4). Each two-sided interval at level c leaves (1 - c) / 2 in the
tail used, so both hold together with probability at least c.

The threshold is chosen on one half of the evaluated records and the bound is computed on
the other half: choosing it where the bound is largest on the same records would overstate
it. Scoring the natural members and non-members of one model treats each record as an
independent trial, as the audits above do for their canaries; it is the usual heuristic
for natural data, and the bound is a statement about those records under that model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from leakbench.errors import ConfigError
from leakbench.metrics import clopper_pearson_arrays


def epsilon_lower_bound(
    *,
    tp: np.ndarray | int,
    fn: np.ndarray | int,
    fp: np.ndarray | int,
    tn: np.ndarray | int,
    delta: float,
    confidence: float = 0.95,
) -> np.ndarray:
    """The audit bound of the module docstring for each confusion matrix (tp, fn, fp, tn).

    ``TPR_lo`` is the Clopper-Pearson lower end of tp / (tp + fn), ``FPR_hi`` the upper end of
    fp / (fp + tn), both at ``confidence``; a term whose numerator is <= 0 bounds nothing, and
    the result is never below 0.

    Returns:
        float64 array of lower bounds on epsilon, one per matrix.
    """
    tp, fn, fp, tn = (np.atleast_1d(np.asarray(a, dtype=np.int64)) for a in (tp, fn, fp, tn))
    tpr_low, _ = clopper_pearson_arrays(successes=tp, trials=tp + fn, confidence=confidence)
    _, fpr_high = clopper_pearson_arrays(successes=fp, trials=fp + tn, confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.log((tpr_low - delta) / fpr_high)
        mirrored = np.log((1 - fpr_high - delta) / (1 - tpr_low))
    bound = np.fmax(np.nan_to_num(direct, nan=0.0, neginf=0.0), 0.0)
    return np.fmax(bound, np.nan_to_num(mirrored, nan=0.0, neginf=0.0))


@dataclass(frozen=True)
class AuditResult:
    """An audit of one model: the threshold chosen on the selection half, the confusion
    matrix and epsilon lower bound on the evaluation half.

    Attributes:
        epsilon_lower: the lower bound on the evaluation half (the reported figure).
        selection_epsilon_lower: the same bound on the selection half at the chosen
            threshold (optimistic: the threshold was chosen there).
        threshold: predict "member" when score >= threshold.
        tp, fn, fp, tn: the evaluation half's counts at the threshold.
        delta: the delta of the bound.
        confidence: the confidence of the bound.
    """

    epsilon_lower: float
    selection_epsilon_lower: float
    threshold: float
    tp: int
    fn: int
    fp: int
    tn: int
    delta: float
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _counts(
    scores: np.ndarray, member: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, ...]:
    """(tp, fn, fp, tn) of the rule ``score >= t`` for each threshold t."""
    pos, neg = np.sort(scores[member]), np.sort(scores[~member])
    tp = pos.size - np.searchsorted(pos, thresholds, side="left")
    fp = neg.size - np.searchsorted(neg, thresholds, side="left")
    return tp, pos.size - tp, fp, neg.size - fp


def audit_scores(
    *, scores: np.ndarray, member: np.ndarray, delta: float, seed: int, confidence: float = 0.95
) -> AuditResult:
    """Audit one model from its membership scores (higher means "more likely a member").

    The records are split at random (``seed``), half the members and half the non-members
    to each side; the threshold with the largest bound on the selection side is applied to
    the evaluation side.

    Raises:
        ConfigError: if a side would hold no member or no non-member, if scores are not
            finite, or if delta or confidence is outside (0, 1).
    """
    scores, member = np.asarray(scores, dtype=np.float64), np.asarray(member, dtype=bool)
    if scores.shape != member.shape or scores.ndim != 1 or not np.isfinite(scores).all():
        raise ConfigError("scores: not allowed; allowed: finite scores, one per record of member")
    if min(member.sum(), (~member).sum()) < 2:
        raise ConfigError(
            f"member: {int(member.sum())} members and {int((~member).sum())} non-members are "
            "not allowed; allowed: at least 2 of each (1 per half)"
        )
    for key, value in (("delta", delta), ("confidence", confidence)):
        if not 0 < value < 1:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: a number in (0, 1)")
    rng = np.random.default_rng(seed)
    select = np.zeros(member.size, dtype=bool)
    for group in (np.flatnonzero(member), np.flatnonzero(~member)):
        select[rng.permutation(group)[: group.size // 2]] = True
    candidates = np.unique(scores[select])
    chosen_bounds = epsilon_lower_bound(
        **_keyword(_counts(scores[select], member[select], candidates)),
        delta=delta,
        confidence=confidence,
    )
    best = int(np.argmax(chosen_bounds))  # the first (lowest) threshold among ties
    threshold = float(candidates[best])
    tp, fn, fp, tn = (
        int(c[0]) for c in _counts(scores[~select], member[~select], candidates[[best]])
    )
    bound = epsilon_lower_bound(tp=tp, fn=fn, fp=fp, tn=tn, delta=delta, confidence=confidence)
    return AuditResult(
        epsilon_lower=float(bound[0]),
        selection_epsilon_lower=float(chosen_bounds[best]),
        threshold=threshold,
        tp=tp,
        fn=fn,
        fp=fp,
        tn=tn,
        delta=delta,
        confidence=confidence,
    )


def _keyword(counts: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
    return dict(zip(("tp", "fn", "fp", "tn"), counts, strict=True))
