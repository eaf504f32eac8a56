"""The audit statistics: one-run bound, Clopper-Pearson ceiling, optimal-test bound."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, norm

from leakbench.errors import ConfigError
from leakbench.privacy import (
    DiracMechanism,
    audit_at_threshold,
    audit_scores,
    choose_test,
    clopper_pearson_ceiling,
    dirac_canary_llr,
    final_model_llr,
    held_out_threshold,
    known_mechanism_audit,
    one_run_audit,
    one_run_ceiling,
    one_run_guesses,
    one_run_lower_bound,
    one_run_p_value,
    optimal_test_bound,
    union_level,
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


def _mechanism(sigma: float, q: float, steps: int) -> DiracMechanism:
    return DiracMechanism(noise_multiplier=sigma, sample_rate=q, steps=steps)


def test_ceiling_without_split_evaluates_every_trial():
    """20 members and 20 non-members all evaluated: the split ceiling of 40 and 40."""
    assert clopper_pearson_ceiling(
        members=20, non_members=20, delta=0.0, split=False
    ) == pytest.approx(1.596770, abs=1e-5)


def test_llr_by_hand():
    """q = 1, sigma = 1: each step adds (2x - 1) / 2, so x = (1, 0) gives 1/2 - 1/2 = 0 and
    x = (1, 1) gives 1. q = 1/2, sigma = 1, x = 1: log(1/2 + e^(1/2) / 2) = log(1.324361)
    = 0.280930."""
    llr = dirac_canary_llr(
        observations=np.array([[1.0, 0.0], [1.0, 1.0]]), mechanism=_mechanism(1.0, 1.0, 2)
    )
    np.testing.assert_allclose(llr, [0.0, 1.0], atol=1e-12)
    one = dirac_canary_llr(observations=np.array([1.0]), mechanism=_mechanism(1.0, 0.5, 1))
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
    got = dirac_canary_llr(observations=x, mechanism=_mechanism(sigma, q, x.size))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    x=st.lists(st.floats(-5, 5), min_size=1, max_size=8),
    sigma=st.floats(0.3, 10),
    q=st.floats(0.001, 1),
)
def test_final_model_llr_is_the_log_density_ratio_of_the_sum(x, sigma, q):
    """The sum of T steps is N(k, T sigma^2) given k ~ Binomial(T, q) canary steps."""
    x, steps = np.array(x), len(x)
    s, sd = x.sum(), sigma * math.sqrt(steps)
    inside = sum(binom.pmf(k, steps, q) * norm.pdf(s, k, sd) for k in range(steps + 1))
    expected = math.log(inside) - math.log(norm.pdf(s, 0, sd))
    got = final_model_llr(observations=x, mechanism=_mechanism(sigma, q, steps))
    assert got == pytest.approx(expected, rel=1e-7, abs=1e-7)


def test_one_step_views_agree():
    """T = 1: the final model is the only iterate, so both views give the same score."""
    x = np.linspace(-3, 3, 7)[:, None]
    mechanism = _mechanism(1.5, 0.3, 1)
    np.testing.assert_allclose(
        final_model_llr(observations=x, mechanism=mechanism),
        dirac_canary_llr(observations=x, mechanism=mechanism),
        atol=1e-12,
    )


def test_simulation_is_seeded_and_separates():
    mechanism = _mechanism(1.0, 0.5, 50)
    first = mechanism.simulate(runs=200, canary=True, seed=3)
    np.testing.assert_array_equal(first, mechanism.simulate(runs=200, canary=True, seed=3))
    assert not np.array_equal(first, mechanism.simulate(runs=200, canary=True, seed=4))
    without = mechanism.simulate(runs=200, canary=False, seed=3)
    assert first.shape == without.shape == (200, 50)
    # the canary adds 1 at about q T = 25 steps of each run
    assert abs((first.sum(axis=1) - without.sum(axis=1)).mean() - 25) < 2


def test_audit_at_threshold_by_hand():
    """Scores (3, 2, 1 | 2, 0, 0) at threshold 2: tp = 2, fn = 1, fp = 1, tn = 2."""
    result = audit_at_threshold(
        scores=np.array([3.0, 2.0, 1.0, 2.0, 0.0, 0.0]),
        member=np.array([True] * 3 + [False] * 3),
        threshold=2.0,
        delta=1e-5,
    )
    assert (result.tp, result.fn, result.fp, result.tn) == (2, 1, 1, 2)
    assert result.epsilon_lower == pytest.approx(float(_bound(tp=2, fn=1, fp=1, tn=2)), abs=1e-12)


def test_known_mechanism_audit_is_the_larger_of_two_audits_at_half_the_error():
    """Scores whose held-out threshold (10) misses every run: the split audit wins, at
    confidence 0.975; a threshold at the separation point wins over it."""
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.normal(3, 1, 200), rng.normal(0, 1, 200)])
    member = np.arange(400) < 200
    missed = known_mechanism_audit(scores=scores, member=member, threshold=10.0, delta=1e-5, seed=1)
    split = audit_scores(scores=scores, member=member, delta=1e-5, seed=1, confidence=0.975)
    assert union_level(0.95) == 0.975
    assert missed == split and missed.epsilon_lower > 0
    good = known_mechanism_audit(scores=scores, member=member, threshold=1.5, delta=1e-5, seed=1)
    fixed = audit_at_threshold(
        scores=scores, member=member, threshold=1.5, delta=1e-5, confidence=0.975
    )
    assert (good.epsilon_lower, good.tp, good.fp) == (fixed.epsilon_lower, fixed.tp, fixed.fp)
    assert good.epsilon_lower > split.epsilon_lower


def _bound(**counts):
    from leakbench.privacy import epsilon_lower_bound

    return epsilon_lower_bound(**counts, delta=1e-5)[0]


def test_held_out_threshold_separates_perfectly_separated_scores():
    """Held-out positives all above every negative: the best threshold keeps every positive
    and no negative, and its bound is the unsplit ceiling of the audit's counts."""
    threshold, bound = held_out_threshold(
        positives=np.arange(10.0, 20.0),
        negatives=np.arange(0.0, 10.0),
        members=50,
        non_members=50,
        delta=1e-5,
    )
    assert 9.0 < threshold <= 10.0
    assert bound == pytest.approx(
        clopper_pearson_ceiling(members=50, non_members=50, delta=1e-5, split=False)
    )


def test_held_out_threshold_bound_is_reached_in_most_audits():
    """The returned bound sits z = 1.645 standard errors below the expected counts (95%):
    audits of fresh runs at the threshold reach it in about 95% of runs, and the median audit
    is above it."""
    rng = np.random.default_rng(0)
    threshold, bound = held_out_threshold(
        positives=rng.normal(1.0, 1, 40000),
        negatives=rng.normal(0.0, 1, 40000),
        members=2000,
        non_members=2000,
        delta=1e-5,
    )
    member = np.arange(4000) < 2000
    audits = [
        audit_at_threshold(
            scores=np.concatenate([rng.normal(1.0, 1, 2000), rng.normal(0.0, 1, 2000)]),
            member=member,
            threshold=threshold,
            delta=1e-5,
        ).epsilon_lower
        for _ in range(200)
    ]
    assert np.mean(np.array(audits) < bound) < 0.15
    assert np.median(audits) > bound > 0


def _optimal(mechanism: DiracMechanism, *, runs: int, seed: int, repeats: int = 1) -> float:
    test = choose_test(
        mechanism=mechanism,
        view="every_iterate",
        members=runs,
        non_members=runs,
        held_out=4 * runs,
        delta=1e-5,
        seed=seed,
    )
    return optimal_test_bound(
        mechanism=mechanism,
        test=test,
        members=runs,
        non_members=runs,
        delta=1e-5,
        seed=seed,
        repeats=repeats,
    )


def test_optimal_bound_reaches_the_ceiling_at_little_noise():
    """sigma = 0.1, q = 1: the canary's step is 10 standard deviations away and every run is
    classified right, up to the threshold chosen on held-out runs (the lowest held-out
    canary score, which may leave a canary run below it), so the bound is the ceiling of all
    the runs at the per-audit level of the union bound."""
    bound = _optimal(_mechanism(0.1, 1.0, 1), runs=500, seed=0)
    ceiling = clopper_pearson_ceiling(
        members=500, non_members=500, delta=1e-5, confidence=union_level(0.95), split=False
    )
    assert 0.99 * ceiling <= bound <= ceiling


def test_optimal_bound_is_near_zero_at_much_noise():
    assert _optimal(_mechanism(50.0, 1.0, 10), runs=500, seed=0) < 0.2


@pytest.mark.parametrize(
    ("sample_rate", "steps", "noise_multiplier"),
    [(1 / 16, 100, 0.8), (1 / 16, 1000, 1.5), (1.0, 10, 4.0), (1.0, 1, 1.0), (0.01, 500, 0.6)],
)
def test_optimal_bound_never_exceeds_the_accountant(sample_rate, steps, noise_multiplier):
    bound = _optimal(_mechanism(noise_multiplier, sample_rate, steps), runs=500, seed=1)
    accountant = _rdp_epsilon(
        noise_multiplier=noise_multiplier, sample_rate=sample_rate, steps=steps, delta=1e-5
    )
    assert 0 < bound <= accountant


def test_optimal_bound_is_deterministic_from_its_seed():
    mechanism = _mechanism(1.0, 0.25, 40)
    first = _optimal(mechanism, runs=200, seed=7)
    assert first == _optimal(mechanism, runs=200, seed=7)
    assert first != _optimal(mechanism, runs=200, seed=8)


def test_repeated_optimal_bound_is_the_median_of_single_ones():
    """Repeat i is seeded from (seed, i), so the repeats' median can be rebuilt by hand from
    audits of the same simulations at the same threshold."""
    mechanism = _mechanism(1.0, 0.25, 40)
    test = choose_test(
        mechanism=mechanism,
        view="every_iterate",
        members=200,
        non_members=200,
        held_out=800,
        delta=1e-5,
        seed=7,
    )
    singles = []
    for repeat in range(3):
        scores = [
            dirac_canary_llr(
                observations=mechanism.simulate(
                    runs=200, canary=canary, seed=derive_seed(7, "simulate", repeat, int(canary))
                ),
                mechanism=mechanism,
            )
            for canary in (True, False)
        ]
        singles.append(
            known_mechanism_audit(
                scores=np.concatenate(scores),
                member=np.arange(400) < 200,
                threshold=test.threshold,
                delta=1e-5,
                seed=derive_seed(7, "split", repeat),
            ).epsilon_lower
        )
    assert len(set(singles)) > 1
    bound = optimal_test_bound(
        mechanism=mechanism,
        test=test,
        members=200,
        non_members=200,
        delta=1e-5,
        seed=7,
        repeats=3,
    )
    assert bound == sorted(singles)[1]


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda: _mechanism(0.0, 0.5, 5), "noise_multiplier"),
        (lambda: _mechanism(1.0, 0.0, 5), "sample_rate"),
        (lambda: _mechanism(1.0, 0.5, 0), "steps"),
        (lambda: _mechanism(1.0, 0.5, 5).simulate(runs=0, canary=True, seed=0), "runs"),
        (lambda: _optimal(_mechanism(1.0, 0.5, 5), runs=10, seed=0, repeats=0), "repeats"),
        (
            lambda: choose_test(
                mechanism=_mechanism(1.0, 0.5, 5),
                view="gradient",
                members=4,
                non_members=4,
                held_out=10,
                delta=1e-5,
                seed=0,
            ),
            "statistic",
        ),
    ],
)
def test_optimal_bound_refuses_bad_input(make, key):
    with pytest.raises(ConfigError, match=rf"^{key}: .* is not allowed; allowed: "):
        make()
