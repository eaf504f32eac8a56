"""The optimal-test bound of the white-box Dirac-canary audit of DP-SGD.

Along the canary's coordinate, in units of the clipping norm C, DP-SGD with Poisson sampling
rate q, noise multiplier sigma and T steps releases T observations x_1..x_T (Nasr et al.
2021, "Adversary instantiation", section 3, the adversary that sees every iterate with a
gradient canary): without the canary each is N(0, sigma^2); with it each is N(1, sigma^2)
when the canary is sampled (probability q) and N(0, sigma^2) otherwise, independently over
steps. The likelihood ratio of one step is

    [(1 - q) phi((x - 0) / sigma) + q phi((x - 1) / sigma)] / phi(x / sigma)
        = (1 - q) + q exp((x^2 - (x - 1)^2) / (2 sigma^2))
        = (1 - q) + q exp((2 x - 1) / (2 sigma^2)),

so the log-likelihood ratio of a run is the sum over steps of its logarithm. By the
Neyman-Pearson lemma a threshold on that sum is the most powerful test between the two
hypotheses at every false-positive rate, so the audit bound it reaches with a given number of
trials is the best any audit with those trials can reach on the exact mechanism.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError
from leakbench.privacy.audit import audit_scores
from leakbench.seeding import derive_seed


def dirac_canary_llr(
    *, observations: np.ndarray, noise_multiplier: float, sample_rate: float
) -> np.ndarray:
    """The log-likelihood ratio (canary in vs out) of runs of the subsampled Gaussian
    (module docstring): ``sum_t log((1 - q) + q exp((2 x_t - 1) / (2 sigma^2)))`` over the
    last axis of ``observations`` (steps), computed as a log-sum-exp for stability.

    Returns:
        float64 array of scores, the shape of ``observations`` without its last axis.

    Raises:
        ConfigError: if sigma is not positive or q is outside (0, 1].
    """
    _check_mechanism(noise_multiplier=noise_multiplier, sample_rate=sample_rate)
    x = np.asarray(observations, dtype=np.float64)
    with np.errstate(divide="ignore"):  # log(1 - q) = -inf at q = 1: the log-sum-exp drops it
        keep = math.log1p(-sample_rate) if sample_rate < 1 else -math.inf
    shift = (2 * x - 1) / (2 * noise_multiplier**2)
    return np.logaddexp(keep, math.log(sample_rate) + shift).sum(axis=-1)


@dataclass(frozen=True)
class MechanismScores:
    """Log-likelihood-ratio scores of simulated runs of the subsampled Gaussian.

    Attributes:
        with_canary: one score per run trained with the canary.
        without_canary: one score per run trained without it.
    """

    with_canary: np.ndarray
    without_canary: np.ndarray


def simulate_dirac_scores(
    *, noise_multiplier: float, sample_rate: float, steps: int, runs: int, seed: int
) -> MechanismScores:
    """Simulate ``runs`` runs with and ``runs`` without the canary (module docstring's
    mechanism, ``steps`` observations each) and score each with :func:`dirac_canary_llr`.

    All draws come from one ``numpy`` Generator seeded with ``seed``, vectorised over runs.

    Raises:
        ConfigError: as :func:`dirac_canary_llr`, or if steps or runs is below 1.
    """
    _check_mechanism(noise_multiplier=noise_multiplier, sample_rate=sample_rate)
    for key, value in (("steps", steps), ("runs", runs)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: an integer >= 1")
    rng = np.random.default_rng(seed)
    sampled = rng.random((runs, steps)) < sample_rate
    inside = rng.normal(0.0, noise_multiplier, (runs, steps)) + sampled
    outside = rng.normal(0.0, noise_multiplier, (runs, steps))
    score = {"noise_multiplier": noise_multiplier, "sample_rate": sample_rate}
    return MechanismScores(
        with_canary=dirac_canary_llr(observations=inside, **score),
        without_canary=dirac_canary_llr(observations=outside, **score),
    )


def optimal_test_bound(
    *,
    noise_multiplier: float,
    sample_rate: float,
    steps: int,
    trials: int,
    delta: float,
    confidence: float = 0.95,
    seed: int,
    repeats: int = 1,
) -> float:
    """The Clopper-Pearson audit bound of the likelihood-ratio test on ``trials`` simulated
    runs of the exact mechanism: half with the canary, half without.

    The scores of :func:`simulate_dirac_scores` go through
    :func:`leakbench.privacy.audit.audit_scores`, the same threshold choice (on a random half)
    and bound (on the other half) as every other audit, so the result is what the best
    possible test reaches with the same number of trials. One such audit varies much from
    seed to seed at a few thousand trials (its threshold sits in the tails); with
    ``repeats`` > 1 the result is the median over that many independent simulations, each
    seeded from ``seed`` and its index.

    Raises:
        ConfigError: as :func:`simulate_dirac_scores` and ``audit_scores``, or if trials is
            not an even integer >= 4 or repeats is below 1.
    """
    if not isinstance(trials, int) or trials < 4 or trials % 2:
        raise ConfigError(f"trials: {trials!r} is not allowed; allowed: an even integer >= 4")
    if not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"repeats: {repeats!r} is not allowed; allowed: an integer >= 1")
    runs = trials // 2
    bounds = []
    for repeat in range(repeats):
        scores = simulate_dirac_scores(
            noise_multiplier=noise_multiplier,
            sample_rate=sample_rate,
            steps=steps,
            runs=runs,
            seed=derive_seed(seed, "simulate", repeat),
        )
        result = audit_scores(
            scores=np.concatenate([scores.with_canary, scores.without_canary]),
            member=np.arange(trials) < runs,
            delta=delta,
            seed=derive_seed(seed, "split", repeat),
            confidence=confidence,
        )
        bounds.append(result.epsilon_lower)
    return float(np.median(bounds))


def _check_mechanism(*, noise_multiplier: float, sample_rate: float) -> None:
    if not (math.isfinite(noise_multiplier) and noise_multiplier > 0):
        raise ConfigError(
            f"noise_multiplier: {noise_multiplier!r} is not allowed; allowed: a finite number > 0"
        )
    if not 0 < sample_rate <= 1:
        raise ConfigError(
            f"sample_rate: {sample_rate!r} is not allowed; allowed: a number in (0, 1]"
        )
