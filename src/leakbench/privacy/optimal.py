"""The exact mechanism of the white-box Dirac-canary audit of DP-SGD, its likelihood-ratio
tests and their optimal-test bound.

Along the canary's coordinate, in units of the clipping norm C, DP-SGD with Poisson sampling
rate q, noise multiplier sigma and T steps releases T observations x_1..x_T (Nasr et al.
2021, "Adversary instantiation", section 3, the adversary that sees every iterate with a
gradient canary): without the canary each is N(0, sigma^2); with it each is N(1, sigma^2)
when the canary is sampled (probability q) and N(0, sigma^2) otherwise, independently over
steps. The likelihood ratio of one step is

    [(1 - q) phi((x - 0) / sigma) + q phi((x - 1) / sigma)] / phi(x / sigma)
        = (1 - q) + q exp((2 x - 1) / (2 sigma^2)),

so the every-iterate log-likelihood ratio of a run is the sum over steps of its logarithm.
An auditor who sees only the final model sees the sum s = x_1 + ... + x_T (plain SGD moves
the coordinate by nothing else), which is N(k, T sigma^2) given that the canary was sampled
k ~ Binomial(T, q) times, so its likelihood ratio is

    sum_k Binom(k; T, q) exp((2 k s - k^2) / (2 T sigma^2)).

By the Neyman-Pearson lemma a threshold on each log-likelihood ratio is the most powerful
test of its view at every false-positive rate. The optimal-test bound of a view is the audit
bound (:mod:`leakbench.privacy.audit`) of that test on runs simulated here from the exact
mechanism, through the same audit as the one it is compared with
(:func:`~leakbench.privacy.audit.known_mechanism_audit`: the same threshold, chosen by
:func:`~leakbench.privacy.audit.held_out_threshold` on held-out simulated runs, the same
split seed for its data-chosen alternative) and with the same numbers of runs with and
without the canary:
an audit whose statistic is the same likelihood ratio on a correct DP-SGD differs from it by
Monte-Carlo noise alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, xlog1py, xlogy

from leakbench.errors import ConfigError
from leakbench.privacy.audit import held_out_threshold, known_mechanism_audit, union_level
from leakbench.seeding import derive_seed


@dataclass(frozen=True)
class DiracMechanism:
    """The subsampled Gaussian along the canary's coordinate (module docstring).

    Attributes:
        noise_multiplier: sigma (> 0, finite).
        sample_rate: q, in (0, 1].
        steps: T (>= 1).

    Raises:
        ConfigError: naming the key, its value and what is allowed.
    """

    noise_multiplier: float
    sample_rate: float
    steps: int

    def __post_init__(self) -> None:
        sigma, q, steps = self.noise_multiplier, self.sample_rate, self.steps
        if not (math.isfinite(sigma) and sigma > 0):
            raise ConfigError(
                f"noise_multiplier: {sigma!r} is not allowed; allowed: a finite number > 0"
            )
        if not 0 < q <= 1:
            raise ConfigError(f"sample_rate: {q!r} is not allowed; allowed: a number in (0, 1]")
        _check_count("steps", steps)

    def simulate(self, *, runs: int, canary: bool, seed: int) -> np.ndarray:
        """``runs`` runs' observations, float64 ``[runs, T]``, with or without the canary;
        all draws from one ``numpy`` Generator seeded with ``seed``."""
        _check_count("runs", runs)
        rng = np.random.default_rng(seed)
        noise = rng.normal(0.0, self.noise_multiplier, (runs, self.steps))
        if not canary:
            return noise
        return noise + (rng.random((runs, self.steps)) < self.sample_rate)


def dirac_canary_llr(*, observations: np.ndarray, mechanism: DiracMechanism) -> np.ndarray:
    """The every-iterate log-likelihood ratio (canary in vs out, module docstring):
    ``sum_t log((1 - q) + q exp((2 x_t - 1) / (2 sigma^2)))`` over the last axis of
    ``observations`` (steps), as a log-sum-exp for stability.

    Returns:
        float64 array of scores, the shape of ``observations`` without its last axis.
    """
    q, sigma = mechanism.sample_rate, mechanism.noise_multiplier
    x = np.asarray(observations, dtype=np.float64)
    keep = math.log1p(-q) if q < 1 else -math.inf  # at q = 1 the log-sum-exp drops it
    return np.logaddexp(keep, math.log(q) + (2 * x - 1) / (2 * sigma**2)).sum(axis=-1)


def final_model_llr(*, observations: np.ndarray, mechanism: DiracMechanism) -> np.ndarray:
    """The final-model log-likelihood ratio (module docstring) of the sum of the last axis
    of ``observations``: ``log sum_k Binom(k; T, q) exp((2 k s - k^2) / (2 T sigma^2))``,
    as a log-sum-exp over k = 0..T.

    Returns:
        float64 array of scores, the shape of ``observations`` without its last axis.
    """
    q, sigma, steps = mechanism.sample_rate, mechanism.noise_multiplier, mechanism.steps
    s = np.asarray(observations, dtype=np.float64).sum(axis=-1)[..., None]
    k = np.arange(steps + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):  # q = 1: every k < T has probability 0 (log -inf)
        log_binom = (
            gammaln(steps + 1)
            - gammaln(k + 1)
            - gammaln(steps - k + 1)
            + xlogy(k, q)
            + xlog1py(steps - k, -q)
        )
    return np.logaddexp.reduce(log_binom + (2 * k * s - k**2) / (2 * steps * sigma**2), axis=-1)


Statistic = Callable[..., np.ndarray]
STATISTICS: dict[str, Statistic] = {
    "every_iterate": dirac_canary_llr,
    "final_model": final_model_llr,
}


def statistic(name: str) -> Statistic:
    """The likelihood-ratio statistic of an auditor's view (:data:`STATISTICS`).

    Raises:
        ConfigError: for an unknown name.
    """
    if name not in STATISTICS:
        raise ConfigError(f"statistic: {name!r} is not allowed; allowed: {', '.join(STATISTICS)}")
    return STATISTICS[name]


@dataclass(frozen=True)
class HeldOutTest:
    """A likelihood-ratio test of one view with its threshold chosen on held-out runs.

    Attributes:
        view: the statistic's name (:data:`STATISTICS`).
        threshold: guess "canary" when the statistic is >= threshold.
        expected_bound: the audit bound at the held-out runs' rates scaled to the audit's
            counts (what the threshold was chosen to maximise).
    """

    view: str
    threshold: float
    expected_bound: float


def choose_test(
    *,
    mechanism: DiracMechanism,
    view: str,
    members: int,
    non_members: int,
    held_out: int,
    delta: float,
    seed: int,
    confidence: float = 0.95,
) -> HeldOutTest:
    """The threshold of ``view``'s likelihood-ratio test for an audit of ``members`` runs
    with and ``non_members`` without the canary: :func:`held_out_threshold` on ``held_out``
    simulated runs of each kind, independent of every evaluated run (seeded from ``seed``),
    at the level :func:`~leakbench.privacy.audit.known_mechanism_audit` evaluates it at
    (:func:`~leakbench.privacy.audit.union_level` of ``confidence``).

    Raises:
        ConfigError: for an unknown view or a count below 1.
    """
    score = statistic(view)
    _check_count("held_out", held_out)
    positives, negatives = (
        score(
            observations=mechanism.simulate(
                runs=held_out, canary=canary, seed=derive_seed(seed, "held_out", int(canary))
            ),
            mechanism=mechanism,
        )
        for canary in (True, False)
    )
    threshold, expected = held_out_threshold(
        positives=positives,
        negatives=negatives,
        members=members,
        non_members=non_members,
        delta=delta,
        confidence=union_level(confidence),
    )
    return HeldOutTest(view=view, threshold=threshold, expected_bound=expected)


def optimal_test_bound(
    *,
    mechanism: DiracMechanism,
    test: HeldOutTest,
    members: int,
    non_members: int,
    delta: float,
    seed: int,
    repeats: int = 1,
    confidence: float = 0.95,
) -> float:
    """The audit bound of ``test`` on ``members`` simulated runs with and ``non_members``
    without the canary (module docstring): the same statistic, threshold, audit
    (:func:`~leakbench.privacy.audit.known_mechanism_audit`) and counts as the audit it is
    compared with, so the comparison is exact up to Monte-Carlo noise. With
    ``repeats`` > 1 the result is the median over that many independent simulations, each
    seeded from ``seed`` and its index.

    Raises:
        ConfigError: if a count or repeats is below 1.
    """
    _check_count("repeats", repeats)
    score = statistic(test.view)
    bounds = []
    for repeat in range(repeats):
        runs = {
            canary: score(
                observations=mechanism.simulate(
                    runs=count,
                    canary=canary,
                    seed=derive_seed(seed, "simulate", repeat, int(canary)),
                ),
                mechanism=mechanism,
            )
            for canary, count in ((True, members), (False, non_members))
        }
        result = known_mechanism_audit(
            scores=np.concatenate([runs[True], runs[False]]),
            member=np.arange(members + non_members) < members,
            threshold=test.threshold,
            delta=delta,
            seed=derive_seed(seed, "split", repeat),
            confidence=confidence,
        )
        bounds.append(result.epsilon_lower)
    return float(np.median(bounds))


def mechanism_optimal_bound(
    *,
    mechanism: DiracMechanism,
    view: str,
    members: int,
    non_members: int,
    held_out: int,
    delta: float,
    seed: int,
    repeats: int = 1,
    confidence: float = 0.95,
) -> float:
    """The optimal-test bound of ``view`` for an audit of ``members`` runs with and
    ``non_members`` without the canary, on the mechanism alone: the threshold of
    :func:`choose_test` (on ``held_out`` simulated runs of each kind) evaluated by
    :func:`optimal_test_bound` (median of ``repeats`` simulations), each seeded from
    ``seed``.

    Raises:
        ConfigError: for an unknown view or a count below 1.
    """
    counts = {"members": members, "non_members": non_members}
    test = choose_test(
        mechanism=mechanism,
        view=view,
        held_out=held_out,
        delta=delta,
        seed=derive_seed(seed, "threshold", view),
        confidence=confidence,
        **counts,
    )
    return optimal_test_bound(
        mechanism=mechanism,
        test=test,
        delta=delta,
        seed=derive_seed(seed, "optimal", view),
        repeats=repeats,
        confidence=confidence,
        **counts,
    )


def _check_count(key: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: an integer >= 1")
