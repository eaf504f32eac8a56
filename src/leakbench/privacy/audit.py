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

The threshold must not depend on the trials the bound is computed on: choosing it where
the bound is largest on the same trials would overstate it. :func:`audit_scores` chooses it
on one half of the trials and computes the bound on the other half; an auditor who knows the
mechanism (the white-box audit) chooses it on held-out simulated runs instead
(:func:`held_out_threshold`) and computes the bound on every trial
(:func:`audit_at_threshold`). That threshold is the most powerful choice when the
implementation matches its claim, but an implementation that departs from it (less noise
than claimed) moves the scores away from where the claimed mechanism puts them;
:func:`known_mechanism_audit` therefore reports the larger of both audits, each at half the
error probability (Bonferroni), so the result holds at the stated confidence either way.

Scoring the natural members and non-members of one model treats each record as an
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
    scores, member = _checked(
        scores=scores, member=member, delta=delta, confidence=confidence, each=2
    )
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


def audit_at_threshold(
    *,
    scores: np.ndarray,
    member: np.ndarray,
    threshold: float,
    delta: float,
    selection_bound: float = float("nan"),
    confidence: float = 0.95,
) -> AuditResult:
    """Audit every trial at a threshold chosen independently of them (module docstring).

    Args:
        scores: one finite score per trial (higher means "more likely a member").
        member: whether each trial is a member.
        threshold: predict "member" when score >= threshold.
        delta: the delta of the bound.
        selection_bound: the bound the threshold was chosen by, recorded as
            ``selection_epsilon_lower``.
        confidence: the confidence of the bound.

    Raises:
        ConfigError: as :func:`audit_scores`, with at least 1 member and 1 non-member.
    """
    scores, member = _checked(
        scores=scores, member=member, delta=delta, confidence=confidence, each=1
    )
    tp, fn, fp, tn = (int(c[0]) for c in _counts(scores, member, np.array([threshold])))
    bound = epsilon_lower_bound(tp=tp, fn=fn, fp=fp, tn=tn, delta=delta, confidence=confidence)
    return AuditResult(
        epsilon_lower=float(bound[0]),
        selection_epsilon_lower=float(selection_bound),
        threshold=float(threshold),
        tp=tp,
        fn=fn,
        fp=fp,
        tn=tn,
        delta=delta,
        confidence=confidence,
    )


def union_level(confidence: float) -> float:
    """The confidence of each of :func:`known_mechanism_audit`'s two audits,
    ``1 - (1 - confidence) / 2``, so that both hold together at ``confidence``."""
    return 1 - (1 - confidence) / 2


def known_mechanism_audit(
    *,
    scores: np.ndarray,
    member: np.ndarray,
    threshold: float,
    delta: float,
    seed: int,
    selection_bound: float = float("nan"),
    confidence: float = 0.95,
) -> AuditResult:
    """The audit of an auditor who knows the claimed mechanism (module docstring): the
    larger of :func:`audit_at_threshold` at ``threshold`` (chosen on held-out simulated
    runs) and :func:`audit_scores` (threshold chosen on half the trials, split by
    ``seed``), each at confidence ``1 - (1 - confidence) / 2``, so that both hold together
    with probability at least ``confidence`` (a union bound).

    Returns:
        The larger audit's result (the held-out threshold's on ties), its ``confidence``
        the per-audit level.

    Raises:
        ConfigError: as :func:`audit_scores`.
    """
    level = union_level(confidence)
    fixed = audit_at_threshold(
        scores=scores,
        member=member,
        threshold=threshold,
        delta=delta,
        selection_bound=selection_bound,
        confidence=level,
    )
    split = audit_scores(scores=scores, member=member, delta=delta, seed=seed, confidence=level)
    return split if split.epsilon_lower > fixed.epsilon_lower else fixed


def held_out_threshold(
    *,
    positives: np.ndarray,
    negatives: np.ndarray,
    members: int,
    non_members: int,
    delta: float,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """The threshold that maximises the bound an audit of ``members`` members and
    ``non_members`` non-members reaches with high probability at the rates of held-out
    scores.

    The candidates are one threshold per achievable true-positive count of the audit (the
    held-out ``positives``' quantile at rate j / members, j = 1..members). At each, the
    held-out rates give the audit's expected counts, n p; each is moved against the bound by
    z standard errors, sqrt(n p (1 - p)) (z the one-sided normal quantile at ``confidence``),
    so the :func:`epsilon_lower_bound` of the rounded, moved confusion matrix is about what
    the audit reaches in at least that share of runs. Maximising it, not the bound at the
    expected counts, keeps the threshold out of the far tail, where a few counts make the
    bound vary much from run to run (the first, highest threshold among ties).

    Returns:
        ``(threshold, bound)``: the threshold and its bound at the moved counts.

    Raises:
        ConfigError: if a count is below 1 or a score is not finite.
    """
    pos = np.sort(np.asarray(positives, dtype=np.float64))
    neg = np.sort(np.asarray(negatives, dtype=np.float64))
    if min(pos.size, neg.size) < 1 or not (np.isfinite(pos).all() and np.isfinite(neg).all()):
        raise ConfigError(
            "positives: not allowed; allowed: at least 1 finite held-out score of each kind"
        )
    for key, value in (("members", members), ("non_members", non_members)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: an integer >= 1")
    rate = np.arange(members, 0, -1) / members
    candidates = np.unique(pos[pos.size - np.ceil(rate * pos.size).astype(np.int64)])[::-1]
    tpr = (pos.size - np.searchsorted(pos, candidates, side="left")) / pos.size
    fpr = (neg.size - np.searchsorted(neg, candidates, side="left")) / neg.size
    from scipy.stats import norm

    z = float(norm.ppf(confidence))
    tp = np.clip(np.rint(tpr * members - z * np.sqrt(members * tpr * (1 - tpr))), 0, members)
    fp = np.rint(fpr * non_members + z * np.sqrt(non_members * fpr * (1 - fpr)))
    fp = np.clip(fp, 0, non_members)
    bounds = epsilon_lower_bound(
        tp=tp, fn=members - tp, fp=fp, tn=non_members - fp, delta=delta, confidence=confidence
    )
    best = int(np.argmax(bounds))
    return float(candidates[best]), float(bounds[best])


def _checked(
    *, scores: np.ndarray, member: np.ndarray, delta: float, confidence: float, each: int
) -> tuple[np.ndarray, np.ndarray]:
    """The scores and membership as arrays, checked: ``each`` is the fewest members and
    non-members allowed."""
    scores, member = np.asarray(scores, dtype=np.float64), np.asarray(member, dtype=bool)
    if scores.shape != member.shape or scores.ndim != 1 or not np.isfinite(scores).all():
        raise ConfigError("scores: not allowed; allowed: finite scores, one per record of member")
    if min(member.sum(), (~member).sum()) < each:
        per_half = " (1 per half)" if each == 2 else ""
        raise ConfigError(
            f"member: {int(member.sum())} members and {int((~member).sum())} non-members are "
            f"not allowed; allowed: at least {each} of each{per_half}"
        )
    for key, value in (("delta", delta), ("confidence", confidence)):
        if not 0 < value < 1:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: a number in (0, 1)")
    return scores, member


def _keyword(counts: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
    return dict(zip(("tp", "fn", "fp", "tn"), counts, strict=True))
