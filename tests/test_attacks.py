"""Membership attacks: registry, separation on synthetic outputs, hand cases, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leakbench.attacks import ATTACKS, AttackInput, get_attack
from leakbench.attacks.base import cross_entropy, log_softmax, softmax
from leakbench.attacks.threshold import noise_threshold
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.metrics import auc

# The attack MLP may stop at its iteration cap on these small synthetic sets; how well it
# converges is not what these tests check.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CLASSES = 4
EVERY_RUN = [
    ("loss", {}),
    ("confidence", {}),
    ("shokri", {"attack_model": "logreg"}),
    ("shokri", {"attack_model": "mlp"}),
    ("shokri", {"attack_model": "gbdt"}),
]


def outputs(
    rng: np.random.Generator, n: int, *, margin_in: float, margin_out: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic target outputs: logits N(0, 1), plus a margin on the true class.

    Every other record is a member. Members get ``margin_in`` + N(0, 1) on their true
    class, non-members ``margin_out`` + N(0, 1): with margin_in > margin_out members have
    clearly lower loss, with equal margins the two groups come from one distribution.
    """
    member = np.arange(n) % 2 == 0
    labels = rng.integers(0, CLASSES, n)
    logits = rng.normal(0.0, 1.0, (n, CLASSES))
    logits[np.arange(n), labels] += np.where(member, margin_in, margin_out) + rng.normal(
        0.0, 1.0, n
    )
    return logits, labels, member


def attack_input(
    seed: int, *, margin_in: float, margin_out: float, n: int = 600
) -> tuple[AttackInput, np.ndarray]:
    """An AttackInput with every field from one synthetic distribution, and the truth.

    ``n`` target records and 2n shadow rows, half of each members.
    """
    rng = np.random.default_rng(seed)
    logits, labels, member = outputs(rng, n, margin_in=margin_in, margin_out=margin_out)
    shadow_logits, shadow_labels, shadow_member = outputs(
        rng, 2 * n, margin_in=margin_in, margin_out=margin_out
    )
    inp = AttackInput(
        logits=logits,
        labels=labels,
        shadow_logits=shadow_logits,
        shadow_labels=shadow_labels,
        shadow_member=shadow_member,
        train_loss=float(cross_entropy(logits[member], labels[member]).mean()),
        noise_logits=rng.normal(0.0, 1.0, (500, CLASSES)),
    )
    return inp, member


# --- registry ----------------------------------------------------------------------------------


def test_registry_names_and_specs():
    assert sorted(ATTACKS) == ["confidence", "loss", "shokri"]
    for name, spec in ATTACKS.items():
        assert spec.name == name and get_attack(name) is spec
        assert spec.description and spec.reference
    assert [n for n, s in ATTACKS.items() if s.needs_shadows] == ["shokri"]


def test_unknown_attack_lists_the_names():
    with pytest.raises(
        UnknownNameError,
        match=r"^attacks: unknown value 'lira'; allowed: confidence, loss, shokri$",
    ):
        get_attack("lira")


# --- separation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "params"), EVERY_RUN)
def test_attack_separates_members_with_lower_loss(name, params):
    inp, member = attack_input(1, margin_in=6.0, margin_out=2.0)
    result = get_attack(name).run(inp, seed=7, **params)
    assert result.scores.dtype == np.float64 and result.predictions.dtype == bool
    assert auc(scores=result.scores, member=member) > 0.9
    # The decisions are better than chance too, not only the ranking.
    assert result.predictions[member].mean() > result.predictions[~member].mean() + 0.3


@pytest.mark.parametrize(("name", "params"), EVERY_RUN)
def test_attack_is_at_chance_when_members_look_like_non_members(name, params):
    inp, member = attack_input(2, margin_in=3.0, margin_out=3.0, n=2000)
    result = get_attack(name).run(inp, seed=7, **params)
    # Members and non-members are drawn from one distribution and every attack's scores
    # depend on a record's own outputs only (shokri's attack models are fitted on shadow
    # rows), so the scores are independent of membership. AUC is then the Mann-Whitney
    # U / (n1 n0), mean 1/2 and standard deviation sqrt((n1 + n0 + 1) / (12 n1 n0)) (ties
    # only shrink it): sqrt(2001 / 12e6) = 0.0129 for 1000 vs 1000. The band 0.5 +- 0.1 is
    # 7.7 standard deviations wide on each side, a false-alarm chance below 1e-13 for any
    # seed (with N = 600 it would be only 4.2); the seeds here are fixed anyway.
    n1, n0 = member.sum(), (~member).sum()
    assert (n1, n0) == (1000, 1000)
    assert 7 * math.sqrt((n1 + n0 + 1) / (12 * n1 * n0)) < 0.1
    assert abs(auc(scores=result.scores, member=member) - 0.5) < 0.1


@pytest.mark.parametrize(("name", "params"), EVERY_RUN)
def test_same_seed_gives_identical_results(name, params):
    inp, _ = attack_input(3, margin_in=5.0, margin_out=2.0)
    first = get_attack(name).run(inp, seed=11, **params)
    second = get_attack(name).run(inp, seed=11, **params)
    np.testing.assert_array_equal(first.scores, second.scores)
    np.testing.assert_array_equal(first.predictions, second.predictions)
    assert first.threshold == second.threshold


def test_the_seed_reaches_the_attack_model():
    inp, _ = attack_input(3, margin_in=5.0, margin_out=2.0)
    one = get_attack("shokri").run(inp, seed=1, attack_model="mlp")
    other = get_attack("shokri").run(inp, seed=2, attack_model="mlp")
    assert not np.array_equal(one.scores, other.scores)


# --- shokri: one attack model per class ---------------------------------------------------------


def flipped(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two classes whose membership signal points opposite ways.

    Every record's prediction vector is (p, 1 - p) with p near 0.9 or near 0.7. In class 0
    members have p ~ 0.9 and non-members p ~ 0.7; in class 1 it is the reverse. Over both
    classes p has the same distribution for members and non-members, so no model of the
    prediction vector alone can beat chance; a model per class separates them.
    """
    labels = np.arange(n) % 2
    member = (np.arange(n) // 2) % 2 == 0
    high = (labels == 0) == member
    p = np.where(high, 0.9, 0.7) + rng.normal(0.0, 0.03, n)
    return np.log(np.stack([p, 1 - p], axis=1)), labels, member


@pytest.mark.parametrize("attack_model", ["logreg", "mlp", "gbdt"])
def test_shokri_models_are_per_class(attack_model):
    rng = np.random.default_rng(4)
    logits, labels, member = flipped(rng, 400)
    shadow_logits, shadow_labels, shadow_member = flipped(rng, 800)
    run = get_attack("shokri").run

    per_class = run(
        AttackInput(
            logits=logits,
            labels=labels,
            shadow_logits=shadow_logits,
            shadow_labels=shadow_labels,
            shadow_member=shadow_member,
        ),
        seed=0,
        attack_model=attack_model,
    )
    assert auc(scores=per_class.scores, member=member) > 0.95
    # The same rows under one label: one model for everything, which cannot separate them
    # (its AUC is at chance; 0.6 is over 3 standard deviations of the null for 200 vs 200).
    one_model = run(
        AttackInput(
            logits=logits,
            labels=np.zeros_like(labels),
            shadow_logits=shadow_logits,
            shadow_labels=np.zeros_like(shadow_labels),
            shadow_member=shadow_member,
        ),
        seed=0,
        attack_model=attack_model,
    )
    assert auc(scores=one_model.scores, member=member) < 0.6


def test_shokri_falls_back_to_one_pooled_model_for_unlearnable_classes():
    rng = np.random.default_rng(5)
    logits, labels, _ = outputs(rng, 300, margin_in=5.0, margin_out=2.0)
    shadow_logits, shadow_labels, shadow_member = outputs(rng, 600, margin_in=5.0, margin_out=2.0)
    # Class 3 has no shadow rows at all; class 2 keeps only its "in" rows.
    keep = (shadow_labels != 3) & ((shadow_labels != 2) | shadow_member)
    shadow = {
        "shadow_logits": shadow_logits[keep],
        "shadow_member": shadow_member[keep],
    }
    run = get_attack("shokri").run
    result = run(
        AttackInput(logits=logits, labels=labels, shadow_labels=shadow_labels[keep], **shadow),
        seed=0,
        attack_model="logreg",
    )
    # With every label set to 0 the attack trains exactly one model on all shadow rows:
    # the pooled model.
    pooled = run(
        AttackInput(
            logits=logits,
            labels=np.zeros_like(labels),
            shadow_labels=np.zeros_like(shadow_labels[keep]),
            **shadow,
        ),
        seed=0,
        attack_model="logreg",
    )
    fallback = (labels == 2) | (labels == 3)
    np.testing.assert_allclose(result.scores[fallback], pooled.scores[fallback], rtol=1e-12)
    # Classes 0 and 1 have in and out rows: their own models, not the pooled one.
    for c in (0, 1):
        assert not np.allclose(result.scores[labels == c], pooled.scores[labels == c])


@pytest.mark.parametrize("value", [True, False])
def test_shokri_refuses_shadow_rows_of_one_kind(value):
    inp, _ = attack_input(6, margin_in=5.0, margin_out=2.0)
    one_kind = AttackInput(
        logits=inp.logits,
        labels=inp.labels,
        shadow_logits=inp.shadow_logits,
        shadow_labels=inp.shadow_labels,
        shadow_member=np.full(inp.shadow_labels.shape, value),
    )
    with pytest.raises(ConfigError, match=r"shadow_member: .* at least one 'in' and one 'out'"):
        get_attack("shokri").run(one_kind, seed=0)


# --- loss: Yeom et al.'s threshold ---------------------------------------------------------------


def test_loss_threshold_by_hand():
    # Softmax of (ln 3, 0) is (3/4, 1/4); of (0, 0) it is (1/2, 1/2). Losses -ln p_y:
    # record 0: ln 2 = 0.693; record 1: ln(4/3) = 0.288; record 2: ln 4 = 1.386.
    logits = np.array([[0.0, 0.0], [math.log(3), 0.0], [math.log(3), 0.0]])
    labels = np.array([0, 0, 1])
    losses = np.array([math.log(2), math.log(4 / 3), math.log(4)])
    # Mean training loss ln 2: member iff loss <= ln 2. Record 0 sits exactly on the
    # threshold and counts as a member; record 2 is above it.
    inp = AttackInput(logits=logits, labels=labels, train_loss=math.log(2))
    result = get_attack("loss").run(inp, seed=0)
    np.testing.assert_allclose(result.scores, -losses, rtol=1e-15)
    assert result.threshold == -math.log(2)
    np.testing.assert_array_equal(result.predictions, [True, True, False])


# --- confidence: Salem et al.'s noise threshold -------------------------------------------------


def _two_class_logits(confidences: list[float]) -> np.ndarray:
    """Logits whose softmax is (p, 1 - p): max posterior p for p >= 1/2."""
    p = np.array(confidences)
    return np.log(np.stack([p, 1 - p], axis=1))


# Ten noise queries with max posteriors 0.50, 0.55, ..., 0.95, in shuffled order.
NOISE = _two_class_logits([0.65, 0.95, 0.5, 0.8, 0.6, 0.9, 0.55, 0.85, 0.75, 0.7])
RECORDS = _two_class_logits([0.97, 0.88, 0.84, 0.6])


@pytest.mark.parametrize(
    ("percentile", "threshold", "predictions"),
    [
        # The p-th percentile of the sorted noise maxima x_0 = 0.50, ..., x_9 = 0.95
        # (x_k = 0.5 + 0.05 k), linear: h = (10 - 1) p / 100, x_floor(h) + frac(h) * 0.05.
        # p = 90: h = 8.1, 0.90 + 0.1 * 0.05 = 0.905: only 0.97 is above.
        (90, 0.905, [True, False, False, False]),
        # p = 80: h = 7.2, 0.85 + 0.2 * 0.05 = 0.86: 0.97 and 0.88 are above.
        (80, 0.86, [True, True, False, False]),
        # p = 50: h = 4.5, 0.70 + 0.5 * 0.05 = 0.725: all but 0.6.
        (50, 0.725, [True, True, True, False]),
        # p = 100: the highest, 0.95; p = 0: the lowest, 0.50 (0.6 > 0.5, everyone is in).
        (100, 0.95, [True, False, False, False]),
        (0, 0.5, [True, True, True, True]),
    ],
)
def test_confidence_threshold_by_hand(percentile, threshold, predictions):
    inp = AttackInput(logits=RECORDS, labels=np.zeros(4, np.int64), noise_logits=NOISE)
    result = get_attack("confidence").run(inp, seed=0, percentile=percentile)
    assert result.threshold == pytest.approx(threshold, abs=1e-12)
    np.testing.assert_allclose(result.scores, [0.97, 0.88, 0.84, 0.6], rtol=1e-12)
    np.testing.assert_array_equal(result.predictions, predictions)


def test_confidence_is_strict_at_the_threshold():
    # A record whose max posterior equals the threshold (p = 100: the top noise value,
    # 0.95) is not flagged: members need score > threshold.
    inp = AttackInput(
        logits=_two_class_logits([0.95, 0.96]), labels=np.zeros(2, np.int64), noise_logits=NOISE
    )
    result = get_attack("confidence").run(inp, seed=0, percentile=100)
    assert result.threshold == result.scores[0]
    np.testing.assert_array_equal(result.predictions, [False, True])


def test_confidence_default_percentile_is_ninety():
    inp = AttackInput(logits=RECORDS, labels=np.zeros(4, np.int64), noise_logits=NOISE)
    default = get_attack("confidence").run(inp, seed=0)
    assert default.threshold == pytest.approx(0.905, abs=1e-12)  # the p = 90 case above
    assert default.threshold == get_attack("confidence").run(inp, seed=0, percentile=90).threshold


@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=50),
    st.floats(0, 100),
    st.floats(0, 100),
)
def test_noise_threshold_bounds_the_flagged_noise(noise, p, q):
    noise = np.array(noise)
    threshold = noise_threshold(noise, percentile=p)
    # Sorted increasingly, the threshold is >= x_floor(h), h = (R - 1) p / 100, so only the
    # R - 1 - floor(h) <= R - h values above index h can exceed it.
    assert np.sum(noise > threshold) <= noise.size - (noise.size - 1) * p / 100
    assert noise.min() <= threshold <= noise.max()
    # A higher percentile never lowers the threshold.
    low, high = sorted((p, q))
    assert noise_threshold(noise, percentile=low) <= noise_threshold(noise, percentile=high)


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        (
            "shokri",
            {"attack_model": "svm"},
            r"attack_params.shokri.attack_model: 'svm' is not allowed; allowed: gbdt, logreg, mlp",
        ),
        ("shokri", {"attack_model": 3}, r"attack_params.shokri.attack_model: 3 is not allowed"),
        (
            "shokri",
            {"model": "mlp"},
            r"attack_params.shokri.model: unknown parameter 'model' .* allowed: attack_model",
        ),
        ("confidence", {"percentile": 150}, r"attack_params.confidence.percentile: 150 is not"),
        ("confidence", {"percentile": -1}, r"attack_params.confidence.percentile: -1 is not"),
        (
            "confidence",
            {"percentile": 100.5},
            r"percentile: 100.5 is not allowed; allowed: a number p with 0 <= p <= 100",
        ),
        (
            "confidence",
            {"top": 10},
            r"attack_params.confidence.top: unknown parameter 'top' .* allowed: percentile",
        ),
        ("confidence", {"percentile": "10"}, r"attack_params.confidence.percentile: '10' is not"),
        ("confidence", {"percentile": True}, r"attack_params.confidence.percentile: True is not"),
        ("confidence", {"percentile": math.nan}, r"attack_params.confidence.percentile: nan is"),
        ("loss", {"threshold": 0.5}, r"attack_params.loss.threshold: unknown parameter .* none"),
    ],
)
def test_bad_params_are_refused_by_name(name, params, match):
    inp, _ = attack_input(8, margin_in=5.0, margin_out=2.0)
    with pytest.raises(ConfigError, match=match):
        get_attack(name).run(inp, seed=0, **params)


@pytest.mark.parametrize(
    ("name", "missing"),
    [("shokri", "shadow_logits"), ("confidence", "noise_logits"), ("loss", "train_loss")],
)
def test_missing_inputs_are_refused_by_name(name, missing):
    inp = AttackInput(logits=np.zeros((2, 3)), labels=np.array([0, 2]))
    with pytest.raises(ConfigError, match=rf"^{missing}: None is not allowed; the '{name}'"):
        get_attack(name).run(inp, seed=0)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"labels": np.array([0, 1])}, r"labels: shape \(2,\)"),
        (
            {"labels": np.array([0, 1, 3])},
            r"labels: range \[0, 3\] is not allowed; allowed: 0 .. 2",
        ),
        ({"labels": np.array([0.0, 1.0, 2.0])}, r"labels: .* dtype float64"),
        ({"logits": np.full((3, 3), np.nan)}, r"logits: contains non-finite"),
        ({"logits": np.zeros(3)}, r"logits: shape \(3,\)"),
        ({"shadow_logits": np.zeros((2, 3))}, r"only some are given; allowed: all three or none"),
        (
            {
                "shadow_logits": np.zeros((2, 4)),
                "shadow_labels": np.array([0, 1]),
                "shadow_member": np.array([True, False]),
            },
            r"shadow_logits: shape \(2, 4\) is not allowed; allowed: \[rows, 3\]",
        ),
        (
            {
                "shadow_logits": np.zeros((2, 3)),
                "shadow_labels": np.array([0, 1]),
                "shadow_member": np.array([1, 0]),
            },
            r"shadow_member: .* dtype int64 are not allowed; allowed: booleans",
        ),
        ({"train_loss": -0.1}, r"train_loss: -0.1 is not allowed"),
        ({"train_loss": math.inf}, r"train_loss: inf is not allowed"),
        ({"noise_logits": np.zeros((5, 2))}, r"noise_logits: shape \(5, 2\)"),
    ],
)
def test_attack_input_is_checked_on_construction(fields, match):
    base = {"logits": np.zeros((3, 3)), "labels": np.array([0, 1, 2])}
    with pytest.raises(ConfigError, match=match):
        AttackInput(**{**base, **fields})


# --- posteriors ------------------------------------------------------------------------------


def test_log_softmax_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1e300, 0.0, 1e300]])
    log_p = log_softmax(logits)
    assert np.isfinite(log_p[0]).all()
    np.testing.assert_allclose(log_p[0], [0.0, -1000.0, -2000.0])
    np.testing.assert_allclose(softmax(logits).sum(axis=1), [1.0, 1.0])
    assert softmax(logits)[1, 2] == 1.0
    # Loss of the true class: -log softmax; float32 logits are computed in float64.
    np.testing.assert_allclose(
        cross_entropy(np.array([[0.0, 0.0]], dtype=np.float32), np.array([1])), [math.log(2)]
    )
