"""The ceiling of the Clopper-Pearson audit: its bound at perfect separation.

An audit with a finite number of trials cannot certify a large epsilon even when its test
never errs: with n members and n' non-members on the evaluation side and no error, the
Clopper-Pearson interval still gives ``TPR_lo = (a / 2)^(1 / n)`` and
``FPR_hi = 1 - (a / 2)^(1 / n')`` (a = 1 - confidence; the k = n and k = 0 ends of the
interval), so the bound of :mod:`leakbench.privacy.audit` (Jagielski et al. 2020, section 4;
Nasr et al. 2021, section 4) is at most ``log((TPR_lo - delta) / FPR_hi)``. Comparing an
audit's bound with this ceiling tells whether its trial count, not its test, is the limit.
"""

from __future__ import annotations

from leakbench.errors import ConfigError
from leakbench.privacy.audit import epsilon_lower_bound


def clopper_pearson_ceiling(
    *,
    members: int,
    non_members: int,
    delta: float,
    confidence: float = 0.95,
    split: bool = True,
) -> float:
    """The largest bound an audit of ``members`` member and ``non_members`` non-member
    trials can return: every evaluated trial classified right.

    With ``split`` (:func:`leakbench.privacy.audit.audit_scores`) the evaluation side keeps
    ``k - k // 2`` of each group's k trials; without it
    (:func:`leakbench.privacy.audit.audit_at_threshold`, a threshold from held-out runs)
    every trial is evaluated. The ceiling is
    :func:`leakbench.privacy.audit.epsilon_lower_bound` of the confusion matrix
    (tp, fn, fp, tn) = (n, 0, 0, n') of the evaluated trials.

    Raises:
        ConfigError: if either count is below 2 (``audit_scores`` needs 1 per side).
    """
    for key, value in (("members", members), ("non_members", non_members)):
        if not isinstance(value, int) or value < 2:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: an integer >= 2")
    kept = (lambda k: k - k // 2) if split else (lambda k: k)
    bound = epsilon_lower_bound(
        tp=kept(members),
        fn=0,
        fp=0,
        tn=kept(non_members),
        delta=delta,
        confidence=confidence,
    )
    return float(bound[0])
