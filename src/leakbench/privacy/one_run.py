"""The one-run audit: a lower bound on epsilon from guesses about m canaries in one training.

Steinke, Nasr and Jagielski 2023, "Privacy Auditing with One (1) Training Run" (NeurIPS
2023; arXiv 2305.08846): their main theorem, in its (epsilon, delta) form, evaluated as their
appendix's p-value procedure does. Each of m canaries is included in the
training data by an independent fair coin; after the single training run the auditor guesses
"in" or "out" for r of them and abstains on the rest; W is the number of correct guesses.
If training is (epsilon, delta)-DP then for every v

    P[W >= v] <= beta + 2 m delta alpha,
    beta  = P[Binomial(r, p) >= v],                 p = e^epsilon / (1 + e^epsilon),
    alpha = max_{i = 1..v} (1 / i) P[v > Binomial(r, p) >= v - i],

that is, the guesses are no better than r independent answers of epsilon-randomised response,
up to the delta term (for delta = 0 only beta remains). The right-hand side is the p-value of
observing v correct guesses under the null hypothesis "(epsilon, delta)-DP"; it increases with
epsilon, so the 1 - a lower bound on epsilon is the largest epsilon whose p-value is below a
(0 when even epsilon = 0 is not rejected).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from leakbench.errors import ConfigError

_EPSILON_TOLERANCE = 1e-9


def one_run_p_value(
    *, canaries: int, guesses: int, correct: int, epsilon: float, delta: float
) -> float:
    """The p-value of ``correct`` right guesses out of ``guesses`` under (epsilon, delta)-DP.

    It is ``min(1, beta + 2 m delta alpha)`` of the module docstring (Steinke, Nasr and
    Jagielski 2023, main theorem) with m = ``canaries``, r = ``guesses`` and
    v = ``correct``.

    Raises:
        ConfigError: if the counts are not 0 <= correct <= guesses <= canaries, epsilon is
            negative or not finite, or delta is outside [0, 1).
    """
    _check_counts(canaries=canaries, guesses=guesses, correct=correct)
    if not (math.isfinite(epsilon) and epsilon >= 0):
        raise ConfigError(f"epsilon: {epsilon!r} is not allowed; allowed: a finite number >= 0")
    _check_unit(key="delta", value=delta, closed_low=True)
    from scipy.stats import binom

    p = 1.0 / (1.0 + math.exp(-epsilon))
    beta = float(binom.sf(correct - 1, guesses, p))
    if correct == 0 or delta == 0:
        return min(1.0, beta)
    i = np.arange(1, correct + 1)
    below = np.cumsum(binom.pmf(correct - i, guesses, p))  # P[v > Bin >= v - i], i = 1..v
    alpha = float(np.max(below / i))
    return min(1.0, beta + 2 * canaries * delta * alpha)


def one_run_lower_bound(
    *, canaries: int, guesses: int, correct: int, delta: float, confidence: float = 0.95
) -> float:
    """The ``confidence`` lower bound on epsilon of the one-run audit (module docstring).

    The largest epsilon >= 0 whose :func:`one_run_p_value` is below ``1 - confidence``, found
    by root finding to 1e-9 (the p-value increases with epsilon); 0 when epsilon = 0 is not
    rejected.

    Raises:
        ConfigError: as :func:`one_run_p_value`, or if confidence is outside (0, 1).
    """
    from scipy.optimize import brentq

    _check_unit(key="confidence", value=confidence, closed_low=False)
    level = 1.0 - confidence

    def excess(epsilon: float) -> float:
        return (
            one_run_p_value(
                canaries=canaries,
                guesses=guesses,
                correct=correct,
                epsilon=epsilon,
                delta=delta,
            )
            - level
        )

    if excess(0.0) >= 0:
        return 0.0
    high = 1.0
    while excess(high) < 0:  # ends: the p-value tends to >= beta -> 1 as epsilon grows
        high *= 2
    return float(brentq(excess, high / 2 if high > 1 else 0.0, high, xtol=_EPSILON_TOLERANCE))


def one_run_ceiling(
    *, canaries: int, guesses: int, delta: float, confidence: float = 0.95
) -> float:
    """The largest bound a one-run audit making ``guesses`` guesses can reach: every guess
    right (v = r in :func:`one_run_lower_bound`)."""
    return one_run_lower_bound(
        canaries=canaries, guesses=guesses, correct=guesses, delta=delta, confidence=confidence
    )


def one_run_guesses(*, scores: np.ndarray, k_plus: int, k_minus: int) -> np.ndarray:
    """The auditor's guessing rule of Steinke, Nasr and Jagielski 2023 (their experiments): rank the
    canaries by score (higher means "more likely included"), guess "in" (+1) for the top
    ``k_plus``, "out" (-1) for the bottom ``k_minus`` and abstain (0) on the rest.

    Ties are broken by position (the earlier canary ranks higher), so the rule is
    deterministic.

    Returns:
        int8 array of guesses in {-1, 0, +1}, one per score.

    Raises:
        ConfigError: if the scores are not a finite 1-d array, or k_plus, k_minus are not
            integers >= 0 with k_plus + k_minus <= the number of canaries.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ConfigError(
            f"scores: shape {scores.shape} is not allowed; allowed: a 1-d array, one per canary"
        )
    if not np.isfinite(scores).all():
        bad = float(scores[~np.isfinite(scores)][0])
        raise ConfigError(f"scores: a score of {bad!r} is not allowed; allowed: finite numbers")
    for key, value in (("k_plus", k_plus), ("k_minus", k_minus)):
        if not isinstance(value, int | np.integer) or value < 0:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: an integer >= 0")
    if k_plus + k_minus > scores.size:
        raise ConfigError(
            f"k_plus + k_minus: {k_plus + k_minus} is not allowed; "
            f"allowed: at most the number of canaries, {scores.size}"
        )
    order = np.argsort(-scores, kind="stable")  # best first, ties by position
    guesses = np.zeros(scores.size, dtype=np.int8)
    guesses[order[:k_plus]] = 1
    guesses[order[scores.size - k_minus :]] = -1
    return guesses


@dataclass(frozen=True)
class OneRunAudit:
    """A one-run audit of one training run.

    Attributes:
        canaries: m, the canaries each included by a fair coin.
        guesses: r, the canaries guessed (not abstained on).
        correct: v, the guesses that match the coin.
        epsilon_lower: the bound of :func:`one_run_lower_bound`.
        ceiling: the bound had every guess been right (:func:`one_run_ceiling`).
        delta: the delta of the bound.
        confidence: the confidence of the bound.
    """

    canaries: int
    guesses: int
    correct: int
    epsilon_lower: float
    ceiling: float
    delta: float
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def one_run_audit(
    *,
    scores: np.ndarray,
    included: np.ndarray,
    k_plus: int,
    k_minus: int,
    delta: float,
    confidence: float = 0.95,
) -> OneRunAudit:
    """Guess with :func:`one_run_guesses` and bound epsilon from the correct guesses.

    Raises:
        ConfigError: as :func:`one_run_guesses`, or if ``included`` is not one boolean per
            score.
    """
    guesses = one_run_guesses(scores=scores, k_plus=k_plus, k_minus=k_minus)
    included = np.asarray(included)
    if included.shape != guesses.shape or included.dtype != np.bool_:
        raise ConfigError(
            f"included: shape {included.shape} dtype {included.dtype} is not allowed; "
            "allowed: one boolean per score"
        )
    truth = np.where(included, 1, -1)
    made = int(np.count_nonzero(guesses))
    correct = int(np.count_nonzero(guesses == truth))
    common = {"canaries": int(guesses.size), "guesses": made, "delta": delta}
    return OneRunAudit(
        **common,
        correct=correct,
        epsilon_lower=one_run_lower_bound(**common, correct=correct, confidence=confidence),
        ceiling=one_run_ceiling(**common, confidence=confidence),
        confidence=confidence,
    )


def _check_counts(*, canaries: int, guesses: int, correct: int) -> None:
    for key, value in (("canaries", canaries), ("guesses", guesses), ("correct", correct)):
        if not isinstance(value, int | np.integer) or value < 0:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: an integer >= 0")
    if not correct <= guesses <= canaries:
        raise ConfigError(
            f"correct, guesses, canaries: ({correct}, {guesses}, {canaries}) is not allowed; "
            "allowed: correct <= guesses <= canaries"
        )


def _check_unit(*, key: str, value: float, closed_low: bool) -> None:
    if not ((0 <= value < 1) if closed_low else (0 < value < 1)):
        interval = "[0, 1)" if closed_low else "(0, 1)"
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: a number in {interval}")
