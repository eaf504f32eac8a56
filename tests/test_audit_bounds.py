"""The audit statistics: one-run bound, Clopper-Pearson ceiling, optimal-test bound."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from leakbench.errors import ConfigError
from leakbench.privacy import (
    audit_scores,
    clopper_pearson_ceiling,
    dirac_canary_llr,
    one_run_audit,
    one_run_ceiling,
    one_run_guesses,
    one_run_lower_bound,
    one_run_p_value,
    optimal_test_bound,
    simulate_dirac_scores,
)
from leakbench.seeding import derive_seed


def _rdp_epsilon(*, noise_multiplier, sample_rate, steps, delta):
    """The accountant's epsilon, called as ``leakbench.privacy.accounting.calibrate`` does."""
    from opacus.accountants import create_accountant

    accountant = create_accountant(mechanism="rdp")
    accountant.history = [(noise_multiplier, sample_rate, steps)]
    return accountant.get_epsilon(delta=delta)


# -- one run ---------------------------------------------------------------------------------


def test_one_run_bound_all_correct_by_hand():
    """r = v = 10, delta = 0: the p-value is P[Bin(10, p) >= 10] = p^10, equal to a = 0.05 at
    p = 0.05^(1/10) = exp(-0.299573) = 0.741134, so epsilon = log(p / (1 - p))
    = log(0.741134 / 0.258866) = log(2.863010) = 1.051873."""
    bound = one_run_lower_bound(canaries=10, guesses=10, correct=10, delta=0.0)
    assert bound == pytest.approx(1.051873, abs=1e-5)
    assert one_run_ceiling(canaries=10, guesses=10, delta=0.0) == bound


def test_one_run_p_value_by_hand():
    """epsilon = log 3, so p = e^eps / (1 + e^eps) = 3/4.

    r = 3, v = 2, delta = 0: P[Bin(3, 3/4) >= 2] = 3 (3/4)^2 (1/4) + (3/4)^3 = 27/64 + 27/64
    = 0.84375.
    m = r = v = 2, delta = 0.1: beta = (3/4)^2 = 0.5625; i = 1: P[Bin = 1] / 1 = 2 (3/4)(1/4)
    = 0.375; i = 2: (P[Bin = 1] + P[Bin = 0]) / 2 = (0.375 + 0.0625) / 2 = 0.21875; alpha =
    0.375; p-value = 0.5625 + 2 * 2 * 0.1 * 0.375 = 0.7125.
    """
    eps = math.log(3)
    assert one_run_p_value(
        canaries=5, guesses=3, correct=2, epsilon=eps, delta=0.0
    ) == pytest.approx(0.84375)
    assert one_run_p_value(
        canaries=2, guesses=2, correct=2, epsilon=eps, delta=0.1
    ) == pytest.approx(0.7125)


def test_one_run_bound_is_where_the_p_value_reaches_the_level():
    bound = one_run_lower_bound(canaries=1000, guesses=200, correct=180, delta=1e-5)
    assert bound > 1
    p_value = one_run_p_value(canaries=1000, guesses=200, correct=180, epsilon=bound, delta=1e-5)
    assert p_value == pytest.approx(0.05, abs=1e-6)


def test_one_run_bound_is_zero_when_chance_explains_the_guesses():
    """Half of 100 guesses right is what epsilon = 0 gives: nothing is rejected."""
    assert one_run_lower_bound(canaries=100, guesses=100, correct=50, delta=0.0) == 0.0
    assert one_run_lower_bound(canaries=100, guesses=0, correct=0, delta=0.0) == 0.0


def test_the_delta_term_lowers_the_bound():
    args = {"canaries": 1000, "guesses": 100, "correct": 95}
    free = one_run_lower_bound(**args, delta=0.0)
    assert one_run_lower_bound(**args, delta=1e-5) < free
    assert one_run_lower_bound(**args, delta=1e-5, confidence=0.5) > one_run_lower_bound(
        **args, delta=1e-5
    )


@settings(max_examples=40, deadline=None)
@given(
    guesses=st.integers(1, 300),
    data=st.data(),
    delta=st.sampled_from([0.0, 1e-6, 1e-4]),
)
def test_one_run_bound_grows_with_correct_guesses_and_stays_under_the_ceiling(guesses, data, delta):
    correct = data.draw(st.integers(0, guesses - 1))
    args = {"canaries": 2 * guesses, "guesses": guesses, "delta": delta}
    low = one_run_lower_bound(**args, correct=correct)
    high = one_run_lower_bound(**args, correct=correct + 1)
    assert 0 <= low <= high <= one_run_ceiling(**args) + 1e-9


@settings(max_examples=40, deadline=None)
@given(
    guesses=st.integers(1, 200),
    data=st.data(),
    eps=st.floats(0, 10),
    step=st.floats(0.01, 5),
)
def test_one_run_p_value_increases_with_epsilon(guesses, data, eps, step):
    correct = data.draw(st.integers(0, guesses))
    args = {"canaries": guesses, "guesses": guesses, "correct": correct, "delta": 1e-5}
    low = one_run_p_value(**args, epsilon=eps)
    assert 0 <= low <= one_run_p_value(**args, epsilon=eps + step) + 1e-12 <= 1 + 1e-12


def test_guessing_rule_by_hand():
    """Scores (0.3, 0.9, 0.1, 0.5, 0.9) ranked best first with ties by position: canaries 1, 4,
    3, 0, 2. Top 2 guessed in (1 and 4), bottom 1 guessed out (2), the rest abstained."""
    guesses = one_run_guesses(scores=np.array([0.3, 0.9, 0.1, 0.5, 0.9]), k_plus=2, k_minus=1)
    assert guesses.tolist() == [0, 1, -1, 0, 1]


@settings(max_examples=50, deadline=None)
@given(
    scores=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
    data=st.data(),
)
def test_guessing_rule_orders_guesses_by_score(scores, data):
    k_plus = data.draw(st.integers(0, len(scores)))
    k_minus = data.draw(st.integers(0, len(scores) - k_plus))
    scores = np.array(scores)
    guesses = one_run_guesses(scores=scores, k_plus=k_plus, k_minus=k_minus)
    assert (guesses == 1).sum() == k_plus and (guesses == -1).sum() == k_minus
    for better, worse in ((1, 0), (0, -1), (1, -1)):
        if (guesses == better).any() and (guesses == worse).any():
            assert scores[guesses == better].min() >= scores[guesses == worse].max()


def test_one_run_audit_counts_by_hand():
    """Scores 9..0 for canaries 0..9, included = (T, T, F, T, F, F, T, F, F, F). Top 3 guessed
    in: canaries 0, 1, 2 (2 right); bottom 3 guessed out: 7, 8, 9 (3 right). r = 6, v = 5."""
    included = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
    audit = one_run_audit(
        scores=np.arange(10.0)[::-1], included=included, k_plus=3, k_minus=3, delta=0.0
    )
    assert (audit.canaries, audit.guesses, audit.correct) == (10, 6, 5)
    assert audit.epsilon_lower == one_run_lower_bound(canaries=10, guesses=6, correct=5, delta=0.0)
    assert audit.ceiling == one_run_ceiling(canaries=10, guesses=6, delta=0.0)
    assert audit.as_dict()["correct"] == 5


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (
            lambda: one_run_lower_bound(canaries=5, guesses=6, correct=1, delta=0.0),
            "correct, guesses, canaries",
        ),
        (lambda: one_run_lower_bound(canaries=5, guesses=3, correct=-1, delta=0.0), "correct"),
        (lambda: one_run_lower_bound(canaries=5, guesses=3, correct=1, delta=1.0), "delta"),
        (
            lambda: one_run_lower_bound(
                canaries=5, guesses=3, correct=1, delta=0.0, confidence=1.0
            ),
            "confidence",
        ),
        (lambda: one_run_guesses(scores=np.zeros(3), k_plus=2, k_minus=2), "k_plus + k_minus"),
        (lambda: one_run_guesses(scores=np.array([np.nan]), k_plus=0, k_minus=0), "scores"),
        (
            lambda: one_run_audit(
                scores=np.zeros(3), included=np.ones(3), k_plus=1, k_minus=1, delta=0.0
            ),
            "included",
        ),
    ],
)
def test_one_run_refuses_bad_input(call, key):
    with pytest.raises(ConfigError, match=rf"^{re.escape(key)}: .* is not allowed; allowed: "):
        call()


# -- Clopper-Pearson ceiling ---------------------------------------------------------------


def test_clopper_pearson_ceiling_by_hand():
    """40 members and 40 non-members leave 20 of each on the evaluation side. At 95% each
    one-sided tail is 0.025: TPR_lo = 0.025^(1/20) = exp(-3.688879 / 20) = 0.831563 and
    FPR_hi = 1 - 0.831563 = 0.168437; delta = 0 gives log(0.831563 / 0.168437) = 1.596770."""
    assert clopper_pearson_ceiling(members=40, non_members=40, delta=0.0) == pytest.approx(
        1.596770, abs=1e-5
    )
    with pytest.raises(ConfigError, match=r"^members: 1 is not allowed; allowed: "):
        clopper_pearson_ceiling(members=1, non_members=40, delta=0.0)


@settings(max_examples=30, deadline=None)
@given(
    members=st.integers(2, 200),
    non_members=st.integers(2, 200),
    seed=st.integers(0, 2**31 - 1),
    separation=st.floats(0, 5),
)
def test_no_audit_exceeds_its_ceiling(members, non_members, seed, separation):
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(separation, 1, members), rng.normal(0, 1, non_members)])
    member = np.arange(members + non_members) < members
    bound = audit_scores(scores=scores, member=member, delta=1e-5, seed=seed).epsilon_lower
    ceiling = clopper_pearson_ceiling(members=members, non_members=non_members, delta=1e-5)
    assert bound <= ceiling


def test_ceiling_grows_with_trials():
    ceilings = [
        clopper_pearson_ceiling(members=n, non_members=n, delta=1e-5) for n in (10, 100, 1000)
    ]
    assert ceilings == sorted(ceilings) and ceilings[0] < ceilings[-1]


# -- optimal test on the exact mechanism -----------------------------------------------------


def test_llr_by_hand():
    """q = 1, sigma = 1: each step adds (2x - 1) / 2, so x = (1, 0) gives 1/2 - 1/2 = 0 and
    x = (1, 1) gives 1. q = 1/2, sigma = 1, x = 1: log(1/2 + e^(1/2) / 2) = log(1.324361)
    = 0.280930."""
    llr = dirac_canary_llr(
        observations=np.array([[1.0, 0.0], [1.0, 1.0]]), noise_multiplier=1.0, sample_rate=1.0
    )
    np.testing.assert_allclose(llr, [0.0, 1.0], atol=1e-12)
    one = dirac_canary_llr(observations=np.array([1.0]), noise_multiplier=1.0, sample_rate=0.5)
    assert one == pytest.approx(0.280930, abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(
    x=st.lists(st.floats(-5, 5), min_size=1, max_size=8),
    sigma=st.floats(0.3, 10),
    q=st.floats(0.001, 1),
)
def test_llr_is_the_log_density_ratio(x, sigma, q):
    x = np.array(x)
    inside = (1 - q) * norm.pdf(x, 0, sigma) + q * norm.pdf(x, 1, sigma)
    expected = np.sum(np.log(inside) - np.log(norm.pdf(x, 0, sigma)))
    got = dirac_canary_llr(observations=x, noise_multiplier=sigma, sample_rate=q)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_simulation_is_seeded_and_separates():
    args = {"noise_multiplier": 1.0, "sample_rate": 0.5, "steps": 50, "runs": 200}
    first, again = simulate_dirac_scores(**args, seed=3), simulate_dirac_scores(**args, seed=3)
    other = simulate_dirac_scores(**args, seed=4)
    np.testing.assert_array_equal(first.with_canary, again.with_canary)
    np.testing.assert_array_equal(first.without_canary, again.without_canary)
    assert not np.array_equal(first.with_canary, other.with_canary)
    assert first.with_canary.shape == first.without_canary.shape == (200,)
    assert first.with_canary.mean() > first.without_canary.mean()


def test_optimal_bound_reaches_the_ceiling_at_little_noise():
    """sigma = 0.1, q = 1: the canary's step is 10 standard deviations away, every run is
    classified right, and the bound is the ceiling up to the threshold chosen on the other
    half (the lowest selection-side canary score, which may leave one evaluation run out)."""
    bound = optimal_test_bound(
        noise_multiplier=0.1, sample_rate=1.0, steps=1, trials=1000, delta=1e-5, seed=0
    )
    ceiling = clopper_pearson_ceiling(members=500, non_members=500, delta=1e-5)
    assert 0.98 * ceiling <= bound <= ceiling


def test_optimal_bound_is_near_zero_at_much_noise():
    bound = optimal_test_bound(
        noise_multiplier=50.0, sample_rate=1.0, steps=10, trials=1000, delta=1e-5, seed=0
    )
    assert bound < 0.2


@pytest.mark.parametrize(
    ("sample_rate", "steps", "noise_multiplier"),
    [(1 / 16, 100, 0.8), (1 / 16, 1000, 1.5), (1.0, 10, 4.0), (1.0, 1, 1.0), (0.01, 500, 0.6)],
)
def test_optimal_bound_never_exceeds_the_accountant(sample_rate, steps, noise_multiplier):
    mechanism = {
        "noise_multiplier": noise_multiplier,
        "sample_rate": sample_rate,
        "steps": steps,
        "delta": 1e-5,
    }
    bound = optimal_test_bound(**mechanism, trials=1000, seed=1)
    assert 0 < bound <= _rdp_epsilon(**mechanism)


def test_optimal_bound_is_deterministic_from_its_seed():
    args = {
        "noise_multiplier": 1.0,
        "sample_rate": 0.25,
        "steps": 40,
        "trials": 400,
        "delta": 1e-5,
    }
    assert optimal_test_bound(**args, seed=7) == optimal_test_bound(**args, seed=7)
    assert optimal_test_bound(**args, seed=7) != optimal_test_bound(**args, seed=8)


def test_repeated_optimal_bound_is_the_median_of_single_ones():
    """Repeat i is seeded from (seed, i), so the repeats' median can be rebuilt by hand from
    audits of the same simulations."""
    args = {"noise_multiplier": 1.0, "sample_rate": 0.25, "steps": 40, "delta": 1e-5}
    singles = []
    for repeat in range(3):
        scores = simulate_dirac_scores(
            **{k: args[k] for k in ("noise_multiplier", "sample_rate", "steps")},
            runs=200,
            seed=derive_seed(7, "simulate", repeat),
        )
        singles.append(
            audit_scores(
                scores=np.concatenate([scores.with_canary, scores.without_canary]),
                member=np.arange(400) < 200,
                delta=1e-5,
                seed=derive_seed(7, "split", repeat),
            ).epsilon_lower
        )
    assert len(set(singles)) > 1
    assert optimal_test_bound(**args, trials=400, seed=7, repeats=3) == sorted(singles)[1]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"trials": 999}, "trials"),
        ({"noise_multiplier": 0.0}, "noise_multiplier"),
        ({"sample_rate": 0.0}, "sample_rate"),
        ({"steps": 0}, "steps"),
        ({"repeats": 0}, "repeats"),
    ],
)
def test_optimal_bound_refuses_bad_input(change, key):
    args = {
        "noise_multiplier": 1.0,
        "sample_rate": 0.5,
        "steps": 5,
        "trials": 100,
        "delta": 1e-5,
        "seed": 0,
    } | change
    with pytest.raises(ConfigError, match=rf"^{key}: .* is not allowed; allowed: "):
        optimal_test_bound(**args)
