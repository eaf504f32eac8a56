"""Membership metrics: hand-computed cases, properties, and refusals of bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leakbench.errors import ConfigError
from leakbench.metrics import (
    accuracy,
    auc,
    balanced_accuracy,
    best_balanced_accuracy,
    membership_metrics,
    precision,
    recall,
    roc_curve,
    tpr_at_fpr,
)

# --- hand-computed cases -------------------------------------------------------------------

# Members score 0.9 and 0.7, non-members 0.8 and 0.3. The four (member, non-member) pairs:
# 0.9 > 0.8, 0.9 > 0.3, 0.7 < 0.8, 0.7 > 0.3: three wins of four, AUC = 3/4. ROC, lowering
# the threshold through each score: +inf (0, 0); 0.9 flags one member (0, 1/2); 0.8 adds a
# non-member (1/2, 1/2); 0.7 adds a member (1/2, 1); 0.3 adds a non-member (1, 1).
# Trapezoids: 0 + 1/2 * 1/2 + 0 + 1/2 * 1 = 3/4, the same area.
SCORES = [0.9, 0.8, 0.7, 0.3]
MEMBER = [True, False, True, False]


def test_auc_of_the_hand_case():
    assert auc(scores=SCORES, member=MEMBER) == 0.75


def test_roc_curve_of_the_hand_case():
    fpr, tpr, thresholds = roc_curve(scores=SCORES, member=MEMBER)
    np.testing.assert_array_equal(fpr, [0.0, 0.0, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 0.5, 0.5, 1.0, 1.0])
    np.testing.assert_array_equal(thresholds, [np.inf, 0.9, 0.8, 0.7, 0.3])


def test_best_balanced_accuracy_of_the_hand_case():
    # ROC points (fpr, tpr): (0, 0) 0.5, (0, .5) 0.75, (.5, .5) 0.5, (.5, 1) 0.75, (1, 1) 0.5.
    assert best_balanced_accuracy(scores=SCORES, member=MEMBER) == 0.75
    # Perfect separation reaches 1; reversed scores are no better than a constant guess.
    assert (
        best_balanced_accuracy(scores=[3.0, 2.0, 1.0, 0.0], member=MEMBER[:1] * 2 + [False] * 2)
        == 1.0
    )
    assert best_balanced_accuracy(scores=[0.0, 1.0], member=[True, False]) == 0.5


def test_tied_scores_share_one_threshold_and_count_half():
    # Member 0.5; non-members 0.5 and 0.2. Pairs: 0.5 = 0.5 counts 1/2, 0.5 > 0.2 counts 1:
    # AUC = 1.5 / 2 = 0.75. The tie at 0.5 is one threshold, flagging both records at once:
    # (0, 0) -> (1/2, 1) -> (1, 1), area 1/2 * 1/2 * 1 (triangle) + 1/2 * 1 = 0.75.
    scores, member = [0.5, 0.5, 0.2], [True, False, False]
    fpr, tpr, thresholds = roc_curve(scores=scores, member=member)
    np.testing.assert_array_equal(fpr, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(thresholds, [np.inf, 0.5, 0.2])
    assert auc(scores=scores, member=member) == 0.75


def test_tpr_at_fpr_of_the_hand_case():
    # ROC points (fpr, tpr): (0, 0), (0, .5), (.5, .5), (.5, 1), (1, 1).
    assert tpr_at_fpr(scores=SCORES, member=MEMBER, fpr=0.0) == 0.5
    assert tpr_at_fpr(scores=SCORES, member=MEMBER, fpr=0.49) == 0.5
    assert tpr_at_fpr(scores=SCORES, member=MEMBER, fpr=0.5) == 1.0  # the bound is inclusive
    assert tpr_at_fpr(scores=SCORES, member=MEMBER, fpr=1.0) == 1.0


def _low_fpr_case() -> tuple[np.ndarray, np.ndarray]:
    # 200 non-members score 0, 1, ..., 199. 20 members: 5 score 1000 (above every
    # non-member), 5 score 198.5 (between the top two non-members), 10 score -1 (below all).
    nonmembers = np.arange(200.0)
    members = np.r_[np.full(5, 1000.0), np.full(5, 198.5), np.full(10, -1.0)]
    scores = np.r_[members, nonmembers]
    member = np.r_[np.ones(20, bool), np.zeros(200, bool)]
    return scores, member


def test_tpr_at_low_fpr_by_hand():
    scores, member = _low_fpr_case()
    # FPR <= 0.1%: 0.001 * 200 = 0.2, so no non-member may be flagged: threshold above 199,
    # only the five members at 1000 are caught: TPR = 5/20.
    assert tpr_at_fpr(scores=scores, member=member, fpr=0.001) == 0.25
    # FPR <= 1%: two non-members (198, 199) may be flagged, threshold 198, which also
    # catches the five members at 198.5: TPR = 10/20.
    assert tpr_at_fpr(scores=scores, member=member, fpr=0.01) == 0.5


def test_membership_metrics_by_hand():
    scores, member = _low_fpr_case()
    # The attack's decisions: flag the 5 members at 1000, the 5 at 198.5, and the 10
    # non-members that score 190 .. 199. TP = 10, FP = 10, FN = 10, TN = 190.
    predictions = scores >= 190
    result = membership_metrics(scores=scores, predictions=predictions, member=member)
    assert list(result) == [
        "auc",
        "balanced_accuracy",
        "precision",
        "recall",
        "tpr_at_fpr_0.001",
        "tpr_at_fpr_0.01",
    ]
    assert all(type(value) is float for value in result.values())
    # AUC: members at 1000 beat 200 non-members each, at 198.5 beat 199 each (0 .. 198),
    # at -1 beat none: (5 * 200 + 5 * 199) / (20 * 200) = 1995 / 4000.
    assert result["auc"] == 1995 / 4000
    assert result["precision"] == 10 / 20
    assert result["recall"] == 10 / 20
    assert result["balanced_accuracy"] == pytest.approx((10 / 20 + 190 / 200) / 2, abs=1e-15)
    assert result["tpr_at_fpr_0.001"] == 0.25
    assert result["tpr_at_fpr_0.01"] == 0.5


def test_precision_recall_balanced_accuracy_by_hand():
    predictions = [True, True, False, False, True]
    member = [True, False, True, False, True]
    # TP = 2 (records 0, 4), FP = 1 (record 1), FN = 1 (record 2), TN = 1 (record 3).
    assert precision(predictions=predictions, member=member) == 2 / 3
    assert recall(predictions=predictions, member=member) == 2 / 3
    # TPR = 2/3, TNR = 1/2, mean 7/12.
    assert balanced_accuracy(predictions=predictions, member=member) == pytest.approx(7 / 12)


def test_zero_over_zero_cases_are_defined():
    member = [True, False, True]
    nobody = [False, False, False]
    assert precision(predictions=nobody, member=member) == 0.0  # no positive predictions
    assert recall(predictions=nobody, member=member) == 0.0
    assert balanced_accuracy(predictions=nobody, member=member) == 0.5
    assert balanced_accuracy(predictions=[True] * 3, member=member) == 0.5


def test_zero_one_integers_work_as_booleans():
    assert auc(scores=SCORES, member=[1, 0, 1, 0]) == 0.75
    assert precision(predictions=[1, 1, 0, 0], member=[1, 0, 1, 0]) == 0.5


def test_accuracy_by_hand():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [5.0, 5.0]])
    # argmax per row: 0, 1, 0, 0 (a tie goes to the lower index); against labels 0, 0, 0, 1
    # two are right: 2/4.
    assert accuracy(logits=logits, labels=np.array([0, 0, 0, 1])) == 0.5


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "member", "match"),
    [
        ([0.1, 0.2, 0.3], [True, False], r"scores: shape \(3,\)"),
        ([0.1, 0.2], [True, True], r"member: 2 members among 2 records"),
        ([0.1, 0.2], [False, False], r"member: 0 members among 2 records"),
        ([0.1, np.nan], [True, False], r"scores: values \[nan\] are not allowed"),
        ([0.1, np.inf], [True, False], r"scores: values \[inf\] are not allowed"),
        ([0.1, 0.2], [1, 2], r"member: values \[2\] are not allowed; allowed: booleans or 0/1"),
        ([[0.1, 0.2]], [[True, False]], r"member: shape \(1, 2\)"),
    ],
)
def test_bad_scores_or_member_are_refused(scores, member, match):
    with pytest.raises(ConfigError, match=match):
        auc(scores=scores, member=member)
    with pytest.raises(ConfigError, match=match):
        roc_curve(scores=scores, member=member)


def test_bad_predictions_are_refused():
    with pytest.raises(ConfigError, match=r"predictions: length 2 is not allowed"):
        precision(predictions=[True, False], member=[True, False, True])
    with pytest.raises(ConfigError, match=r"member: 0 members"):
        recall(predictions=[True, False], member=[False, False])
    with pytest.raises(ConfigError, match=r"predictions: length 3"):
        membership_metrics(scores=SCORES, predictions=[True] * 3, member=MEMBER)


@pytest.mark.parametrize("fpr", [-0.1, 1.5, float("nan"), "0.01", True])
def test_bad_fpr_is_refused(fpr):
    with pytest.raises(ConfigError, match=r"fpr: .* is not allowed; allowed: a number in"):
        tpr_at_fpr(scores=SCORES, member=MEMBER, fpr=fpr)


def test_bad_accuracy_input_is_refused():
    logits = np.zeros((3, 2))
    with pytest.raises(ConfigError, match=r"labels: shape \(2,\)"):
        accuracy(logits=logits, labels=np.array([0, 1]))
    with pytest.raises(
        ConfigError, match=r"labels: range \[0, 2\] is not allowed; allowed: 0 .. 1"
    ):
        accuracy(logits=logits, labels=np.array([0, 1, 2]))
    with pytest.raises(ConfigError, match=r"logits: shape \(0, 2\)"):
        accuracy(logits=np.zeros((0, 2)), labels=np.array([], dtype=np.int64))
    with pytest.raises(ConfigError, match=r"logits: contains NaN"):
        accuracy(logits=np.full((3, 2), np.nan), labels=np.array([0, 1, 0]))


# --- properties ------------------------------------------------------------------------------


@st.composite
def scored(draw, max_size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Integer-valued scores (so ties are common) and a mask with both classes."""
    size = draw(st.integers(min_value=2, max_value=max_size))
    member = draw(
        st.lists(st.booleans(), min_size=size, max_size=size).filter(
            lambda m: any(m) and not all(m)
        )
    )
    scores = draw(st.lists(st.integers(-10, 10), min_size=size, max_size=size))
    return np.array(scores, dtype=np.float64), np.array(member)


def _pairwise_auc(scores: np.ndarray, member: np.ndarray) -> float:
    """The definition, pair by pair: P(S_m > S_n) + 0.5 P(S_m = S_n)."""
    total = 0.0
    for s_m in scores[member]:
        for s_n in scores[~member]:
            total += 1.0 if s_m > s_n else 0.5 if s_m == s_n else 0.0
    return total / (member.sum() * (~member).sum())


@given(scored())
def test_auc_matches_the_pairwise_definition(case):
    scores, member = case
    assert auc(scores=scores, member=member) == pytest.approx(_pairwise_auc(scores, member))


@given(scored())
def test_auc_is_the_trapezoid_area_under_the_roc_curve(case):
    scores, member = case
    fpr, tpr, _ = roc_curve(scores=scores, member=member)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert auc(scores=scores, member=member) == pytest.approx(area, abs=1e-12)


@given(scored())
def test_auc_is_invariant_under_increasing_transforms(case):
    scores, member = case
    expected = auc(scores=scores, member=member)
    for transformed in (3 * scores - 7, scores**3, np.exp(scores / 4)):
        assert auc(scores=transformed, member=member) == expected


@given(scored())
def test_auc_of_negated_scores_is_one_minus_auc(case):
    scores, member = case
    assert auc(scores=-scores, member=member) == pytest.approx(
        1 - auc(scores=scores, member=member), abs=1e-12
    )


@given(scored())
def test_constant_scores_give_auc_one_half(case):
    _, member = case
    assert auc(scores=np.full(member.size, 0.3), member=member) == 0.5


@given(scored())
def test_roc_curve_shape(case):
    scores, member = case
    fpr, tpr, thresholds = roc_curve(scores=scores, member=member)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.all(np.diff(thresholds) < 0)
    assert thresholds.size == np.unique(scores).size + 1  # one per distinct score, + inf
    # Each point is the rule "member iff score >= threshold".
    for f, t, threshold in zip(fpr, tpr, thresholds, strict=True):
        flagged = scores >= threshold
        assert f == flagged[~member].mean() and t == flagged[member].mean()


@given(scored(), st.floats(0, 1), st.floats(0, 1))
def test_tpr_at_fpr_is_monotone_and_a_reachable_point(case, a, b):
    scores, member = case
    low, high = sorted((a, b))
    tpr_low = tpr_at_fpr(scores=scores, member=member, fpr=low)
    assert tpr_low <= tpr_at_fpr(scores=scores, member=member, fpr=high)
    assert tpr_at_fpr(scores=scores, member=member, fpr=1.0) == 1.0
    # At FPR 0 the attack may only flag records above every non-member.
    top_nonmember = scores[~member].max()
    assert tpr_at_fpr(scores=scores, member=member, fpr=0.0) == np.mean(
        scores[member] > top_nonmember
    )


@given(scored(), st.data())
def test_balanced_accuracy_of_the_opposite_decisions_is_one_minus(case, data):
    _, member = case
    predictions = np.array(
        data.draw(st.lists(st.booleans(), min_size=member.size, max_size=member.size))
    )
    both = balanced_accuracy(predictions=predictions, member=member) + balanced_accuracy(
        predictions=~predictions, member=member
    )
    assert both == pytest.approx(1.0)
    assert 0.0 <= precision(predictions=predictions, member=member) <= 1.0
    assert recall(predictions=predictions, member=member) == np.mean(predictions[member])


@given(scored())
def test_best_balanced_accuracy_is_the_best_threshold_rule(case):
    scores, member = case
    rules = [scores >= t for t in np.append(np.unique(scores), np.inf)]
    best = max(balanced_accuracy(predictions=rule, member=member) for rule in rules)
    assert best_balanced_accuracy(scores=scores, member=member) == pytest.approx(best)
