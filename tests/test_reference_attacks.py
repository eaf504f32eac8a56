"""LiRA, RMIA and the baselines on keep-matrix signals: hand-computed cases, reference
selection, parameter checks and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leakbench.attacks import lira, rmia
from leakbench.attacks.reference import (
    A_GRID,
    REFERENCE_ATTACKS,
    ReferenceSignals,
    calibrate_rmia_a,
    check_reference_params,
    required_signals,
    score,
    select_references,
)
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.metrics import auc

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _upper_tail(t: float) -> float:
    """Pr[Z > t] for a standard normal Z, 0.5 * erfc(t / sqrt 2)."""
    return 0.5 * math.erfc(t / math.sqrt(2))


# --- LiRA on gathered arrays ----------------------------------------------------------------
# Record A: IN signals 1, 3 (median 2, std 1); OUT -1, 1 (median 0, std 1); target 1.5.
# Record B: IN 4, 4 (median 4, std 0); OUT 0, 0 (median 0, std 0); target 3.
REFS = np.array([[1.0, 3.0, -1.0, 1.0], [4.0, 4.0, 0.0, 0.0]])[:, :, None]
REF_IN = np.array([[True, True, False, False]] * 2)
TARGET = np.array([[1.5], [3.0]])


def test_lira_online_by_hand():
    # A: log N(1.5; 2, 1) - log N(1.5; 0, 1) = -0.25/2 + 2.25/2 = 1.
    scores = lira.online(target=TARGET, refs=REFS, ref_in=REF_IN, fixed=False)
    assert scores[0] == pytest.approx(1.0, abs=1e-15)
    # B has zero spread on both sides: the floor keeps it finite and, with the target
    # nearer the IN median, hugely positive (the reference code's behaviour).
    assert np.isfinite(scores[1]) and scores[1] > 1e50


def test_lira_online_fixed_variance_by_hand():
    # The IN signals pooled: 1, 3, 4, 4, mean 3, variance (4 + 0 + 1 + 1) / 4 = 1.5, used
    # for both Gaussians. A: (-(1.5 - 2)^2 + (1.5 - 0)^2) / (2 * 1.5) = 2/3.
    # B: (-(3 - 4)^2 + (3 - 0)^2) / 3 = 8/3.
    scores = lira.online(target=TARGET, refs=REFS, ref_in=REF_IN, fixed=True)
    np.testing.assert_allclose(scores, [2 / 3, 8 / 3], rtol=1e-14)


def test_lira_offline_one_sided_by_hand():
    # A: -log Pr[Z > 1.5] for Z ~ N(0, 1).
    scores = lira.offline(target=TARGET[:1], refs=REFS[:1], ref_in=REF_IN[:1], fixed=False)
    assert scores[0] == pytest.approx(-math.log(_upper_tail(1.5)), rel=1e-13)
    # Fixed: the OUT signals pooled are -1, 1, 0, 0, variance 0.5.
    fixed = lira.offline(target=TARGET, refs=REFS, ref_in=REF_IN, fixed=True)
    expected = [-math.log(_upper_tail(t / math.sqrt(0.5))) for t in (1.5, 3.0)]
    np.testing.assert_allclose(fixed, expected, rtol=1e-13)


def test_lira_offline_ranks_far_tails_without_ties():
    # 1 - Pr[Z > phi] is 1.0 in float64 beyond about 8.3 sigma; the log form still ranks.
    target = np.array([[10.0], [20.0], [40.0]])
    refs = np.array([[-1.0, 1.0]] * 3)[:, :, None]
    scores = lira.offline(target=target, refs=refs, ref_in=np.zeros((3, 2), bool), fixed=False)
    assert scores[0] < scores[1] < scores[2] and np.isfinite(scores).all()


def test_fixed_variance_with_one_query_ranks_by_location_alone():
    # One pooled sigma is a common factor: offline ranks by phi - mu_out, online by
    # (mu_in - mu_out)(phi - (mu_in + mu_out) / 2), whichever std is pooled (module docstring).
    rng = np.random.default_rng(0)
    refs = rng.normal(size=(50, 6, 1)) * rng.uniform(0.1, 5.0, size=(50, 1, 1))
    ref_in = np.array([[True, False] * 3] * 50)
    target = rng.normal(size=(50, 1)) * 3
    mu_in = np.median(refs[:, ::2, 0], axis=1)
    mu_out = np.median(refs[:, 1::2, 0], axis=1)
    offline = lira.offline(target=target, refs=refs, ref_in=ref_in, fixed=True)
    online = lira.online(target=target, refs=refs, ref_in=ref_in, fixed=True)
    assert (np.argsort(offline) == np.argsort(target[:, 0] - mu_out)).all()
    linear = (mu_in - mu_out) * (target[:, 0] - (mu_in + mu_out) / 2)
    assert (np.argsort(online) == np.argsort(linear)).all()
    per_record = lira.offline(target=target, refs=refs, ref_in=ref_in, fixed=False)
    assert not (np.argsort(per_record) == np.argsort(offline)).all()


def test_lira_offline_refcode_is_two_sided_by_hand():
    # A: -log N(1.5; 0, 1) = 1.125 + log(2 pi) / 2.
    scores = lira.offline_refcode(target=TARGET, refs=REFS, ref_in=REF_IN, fixed=True)
    assert scores[0] == pytest.approx(1.5**2 / 2 / 0.5 + 0.5 * math.log(0.5) + HALF_LOG_2PI)
    # A signal far BELOW the OUT median scores as high as one as far above it.
    low = lira.offline_refcode(target=-TARGET[:1], refs=REFS[:1], ref_in=REF_IN[:1], fixed=False)
    high = lira.offline_refcode(target=TARGET[:1], refs=REFS[:1], ref_in=REF_IN[:1], fixed=False)
    assert low[0] == high[0] == pytest.approx(1.125 + HALF_LOG_2PI)


def test_lira_averages_over_queries_and_refuses_a_missing_side():
    refs = np.concatenate([REFS[:1], REFS[:1] + 1], axis=2)  # query 2: every signal + 1
    target = np.array([[1.5, 1.5]])
    scores = lira.online(target=target, refs=refs, ref_in=REF_IN[:1], fixed=False)
    # Query 1 scores 1 (above); query 2 has medians 3 (IN) and 1 (OUT), stds 1:
    # (-(1.5 - 3)^2 + (1.5 - 1)^2) / 2 = -1. The mean of 1 and -1 is 0.
    assert scores[0] == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ConfigError, match=r"references: 1 records have no OUT reference"):
        lira.offline(target=TARGET[:1], refs=REFS[:1], ref_in=np.ones((1, 4), bool), fixed=False)
    with pytest.raises(ConfigError, match=r"references: 2 records have no IN reference"):
        lira.online(target=TARGET, refs=REFS, ref_in=np.zeros((2, 4), bool), fixed=False)


# --- RMIA on gathered arrays ----------------------------------------------------------------


def test_rmia_online_fractions_with_ties_by_hand():
    # Pr(x) = mean(0.125, 0.375) = 0.25 for every record; targets make ratio(x) = 4, 2, 1,
    # 0.5 (records 0-3, the population) and 3 (record 4). gamma = 2, so x beats z iff
    # ratio(x) > 2 ratio(z), strictly; x is never compared with itself.
    # 0 (4): z = 1 (4 > 4 no, a tie), 2 (4 > 2), 3 (4 > 1): 2/3.
    # 1 (2): z = 0 (2 > 8 no), 2 (2 > 2 no, a tie), 3 (2 > 1): 1/3.
    # 2 (1) and 3 (0.5): 0. Record 4 (3), not in Z: z = 2 (3 > 2), 3 (3 > 1): 2/4.
    target = np.array([1.0, 0.5, 0.25, 0.125, 0.75])[:, None]
    refs = np.tile(np.array([0.125, 0.375])[None, :, None], (5, 1, 1))
    ref_in = np.tile([True, False], (5, 1))
    got = rmia.scores(
        target=target,
        refs=refs,
        ref_in=ref_in,
        population=np.arange(4),
        gamma=2.0,
        offline_a=None,
    )
    np.testing.assert_array_equal(got, [2 / 3, 1 / 3, 0.0, 0.0, 0.5])
    # gamma = 0.75 < 1: the self pair (ratio 1 > gamma) is still left out. gamma * ratio(z)
    # = 3, 1.5, 0.75, 0.375. 0 (4) beats z = 1, 2, 3: 3/3; 1 (2) beats z = 2, 3 (not 0):
    # 2/3; 2 (1) beats z = 3 only: 1/3; 3 (0.5) beats none: 0.
    low = rmia.scores(
        target=target[:4],
        refs=refs[:4],
        ref_in=ref_in[:4],
        population=np.arange(4),
        gamma=0.75,
        offline_a=None,
    )
    np.testing.assert_array_equal(low, [1.0, 2 / 3, 1 / 3, 0.0])


def test_rmia_offline_by_hand():
    # a = 0.5: Pr(x) = (1.5 * mean_OUT + 0.5) / 2 over the OUT models only (the IN model's
    # 0.99 is ignored). mean_OUT 0.5, 0.2, 0.8 -> Pr(x) 0.625, 0.4, 0.85; targets 0.9, 0.2,
    # 0.85 -> ratios 1.44, 0.5, 1. gamma = 1.2: 1.44 > 0.6 and 1.44 > 1.2: 1;
    # 0.5 > 1.728 or 1.2 no: 0; 1 > 1.728 no, 1 > 0.6: 1/2.
    refs = np.array([[0.99, 0.5, 0.5], [0.99, 0.1, 0.3], [0.99, 0.9, 0.7]])[:, :, None]
    ref_in = np.array([[True, False, False]] * 3)
    target = np.array([[0.9], [0.2], [0.85]])
    got = rmia.scores(
        target=target,
        refs=refs,
        ref_in=ref_in,
        population=np.arange(3),
        gamma=1.2,
        offline_a=0.5,
    )
    np.testing.assert_allclose(got, [1.0, 0.0, 0.5])
    with pytest.raises(ConfigError, match=r"references: 3 records have no OUT reference"):
        rmia.scores(
            target=target,
            refs=refs,
            ref_in=np.ones((3, 3), bool),
            population=np.arange(3),
            gamma=1.2,
            offline_a=0.5,
        )


# --- the registry, reference selection and score() -------------------------------------------

# 6 models, 3 records. Record 0 is in models 0, 1, 2; record 1 in 1, 3, 5; record 2 in 0, 4, 5.
KEEP = np.array(
    [
        [True, False, True],
        [True, True, False],
        [True, False, False],
        [False, True, False],
        [False, False, True],
        [False, True, True],
    ]
)


def _data(values: np.ndarray, key: str = "phi") -> ReferenceSignals:
    return ReferenceSignals(signals={key: values}, keep=KEEP, population=np.array([0, 1, 2]))


def test_select_references_by_hand():
    # Target 0. Offline, 2 per record: the first two OUT models besides 0.
    offline = select_references(keep=KEEP, exclude=[0], count=2, online=False)
    np.testing.assert_array_equal(offline, [[3, 4], [2, 4], [1, 2]])
    # Online, 2 per record: the first IN and the first OUT model besides 0.
    online = select_references(keep=KEEP, exclude=[0], count=2, online=True)
    np.testing.assert_array_equal(online, [[1, 3], [1, 2], [1, 4]])
    # Nested: the k = 1 sets lie inside the k = 2 sets.
    one = select_references(keep=KEEP, exclude=[0], count=1, online=False)
    assert all(one[i, 0] in offline[i] for i in range(3))
    # Record 0 has 3 OUT models besides 0 (3, 4, 5), record 1 has 2 (2, 4) besides 0: at most 2.
    with pytest.raises(ConfigError, match=r"references: 3 is not allowed; allowed: at most 2"):
        select_references(keep=KEEP, exclude=[0], count=3, online=False)
    with pytest.raises(ConfigError, match=r"references: 3 is not allowed; allowed: an integer"):
        select_references(keep=KEEP, exclude=[0], count=3, online=True)
    with pytest.raises(ConfigError, match=r"references: 0 is not allowed"):
        select_references(keep=KEEP, exclude=[0], count=0, online=False)


def test_score_gathers_each_records_own_reference_models():
    # phi of model m on record i = 10 m + i + (5 if i is in m). Target 0, online, 2 per record.
    models = np.arange(6)[:, None]
    values = (10.0 * models + np.arange(3) + 5 * KEEP)[:, :, None]
    refs = select_references(keep=KEEP, exclude=[0], count=2, online=True)
    got = score(attack="lira_online", data=_data(values), target=0, references=refs, params={})
    # One IN and one OUT each: both stds are 0 (+ floor), so only the sign and size matter;
    # recompute from the gathered values directly.
    rows = np.arange(3)[:, None]
    expected = lira.online(
        target=values[0], refs=values[refs, rows], ref_in=KEEP[refs, rows], fixed=False
    )
    np.testing.assert_array_equal(got, expected)
    # The global threshold and the baselines read the target alone.
    np.testing.assert_array_equal(
        score(
            attack="global_threshold",
            data=_data(values),
            target=2,
            references=np.array([0]),
            params={},
        ),
        values[2, :, 0],
    )
    np.testing.assert_array_equal(
        score(attack="loss", data=_data(values, "loss"), target=2, references=[0], params={}),
        -values[2, :, 0],
    )


def test_score_refuses_bad_targets_references_and_missing_inputs():
    data = _data(np.zeros((6, 3, 1)))
    with pytest.raises(ConfigError, match=r"references: model indices .* except the target 0"):
        score(attack="lira_online", data=data, target=0, references=np.array([0, 1]), params={})
    with pytest.raises(ConfigError, match=r"references: model indices in \[1, 6\]"):
        score(attack="lira_online", data=data, target=0, references=np.array([1, 6]), params={})
    with pytest.raises(ConfigError, match=r"references: a repeated model is not allowed"):
        score(attack="lira_online", data=data, target=0, references=np.array([1, 1]), params={})
    with pytest.raises(ConfigError, match=r"target: 6 is not allowed; allowed: 0 .. 5"):
        score(attack="lira_online", data=data, target=6, references=np.array([1]), params={})
    with pytest.raises(ConfigError, match=r"signals: 'prob_t_T2' is missing"):
        score(attack="rmia_online", data=data, target=0, references=np.array([1]), params={})
    prob = _data(np.full((6, 3, 1), 0.5), "prob_t_T2")
    with pytest.raises(ConfigError, match=r"attack_params.rmia_offline.a: missing"):
        score(attack="rmia_offline", data=prob, target=0, references=np.array([3]), params={})
    with pytest.raises(UnknownNameError, match=r"attacks: unknown value 'lira'; allowed: "):
        score(attack="lira", data=data, target=0, references=np.array([1]), params={})


def test_reference_signals_refuse_bad_fields():
    with pytest.raises(ConfigError, match=r"keep: shape \(1, 3\)"):
        ReferenceSignals(signals={}, keep=KEEP[:1], population=np.array([0, 1]))
    with pytest.raises(ConfigError, match=r"signals.phi: shape \(6, 2, 1\)"):
        _data(np.zeros((6, 2, 1)))
    with pytest.raises(ConfigError, match=r"population: 2 indices .* allowed: >= 2 distinct"):
        ReferenceSignals(signals={}, keep=KEEP, population=np.array([1, 1]))
    with pytest.raises(ConfigError, match=r"population: 2 indices"):
        ReferenceSignals(signals={}, keep=KEEP, population=np.array([0, 3]))


def test_registry_names_and_citations():
    assert {
        "lira_online",
        "lira_online_fixed",
        "lira_offline",
        "lira_offline_fixed",
        "lira_offline_refcode",
        "global_threshold",
        "rmia_online",
        "rmia_offline",
        "loss",
        "confidence",
    } <= set(REFERENCE_ATTACKS)
    for spec in REFERENCE_ATTACKS.values():
        assert spec.reference and spec.description
        assert spec.references in ("online", "offline", "none")


def test_required_signals():
    specs = required_signals(
        attacks=["lira_online", "lira_offline", "rmia_online", "rmia_offline", "loss"],
        params={"rmia_online": {"temperature": 4}},
    )
    assert sorted(specs) == ["loss", "phi", "prob_t_T2", "prob_t_T4"]
    assert specs["prob_t_T4"].temperature == 4.0


@pytest.mark.parametrize(
    ("attacks", "params", "queries", "error", "match"),
    [
        (["lira"], {}, ["plain"], UnknownNameError, r"attacks: unknown value 'lira'"),
        (["rmia_offline"], {"rmia_offline": {"a": 1.5}}, ["plain"], ConfigError,
         r"attack_params.rmia_offline.a: 1.5 is not allowed; allowed: a number in \[0, 1\]"),
        (["rmia_online"], {"rmia_online": {"gamma": 0}}, ["plain"], ConfigError,
         r"attack_params.rmia_online.gamma: 0 is not allowed; allowed: a finite number > 0"),
        (["rmia_online"], {"rmia_online": {"temperature": -1.0}}, ["plain"], ConfigError,
         r"attack_params.rmia_online.temperature: -1.0 is not allowed"),
        (["lira_online"], {"lira_online": {"signal": "margin"}}, ["plain"], ConfigError,
         r"attack_params.lira_online.signal: 'margin' is not allowed; allowed: phi, loss, "),
        (["lira_online"], {"lira_online": {"gamma": 2}}, ["plain"], ConfigError,
         r"attack_params.lira_online.gamma: unknown parameter 'gamma'; allowed: signal"),
        (["loss"], {"rmia_online": {}}, ["plain"], ConfigError,
         r"attack_params.rmia_online: parameters of an attack that is not run"),
        (["loss"], {}, ["plain", "rotate"], UnknownNameError, r"queries: unknown value"),
        (["loss"], {}, ["flip", "plain"], ConfigError, r"queries: \['flip', 'plain'\]"),
    ],
)  # fmt: skip
def test_bad_configuration_is_refused(attacks, params, queries, error, match):
    with pytest.raises(error, match=match):
        check_reference_params(attacks=attacks, params=params, queries=queries)


def test_good_configuration_passes():
    check_reference_params(
        attacks=list(REFERENCE_ATTACKS),
        params={"rmia_offline": {"a": 0.3, "gamma": 1.5}, "lira_online": {"signal": "loss"}},
        queries=["plain", "flip", "shift"],
    )


def _synthetic(seed: int, models: int = 8, records: int = 200) -> ReferenceSignals:
    """prob_t-like signals in (0, 1) that rise when the record is in the model."""
    rng = np.random.default_rng(seed)
    keep = np.argsort(rng.random((models, records)), axis=0) < models // 2
    base = rng.uniform(0.2, 0.6, records)
    values = np.clip(base + 0.2 * keep + rng.normal(0, 0.05, (models, records)), 0.01, 0.99)
    return ReferenceSignals(
        signals={"prob_t_T2": values[:, :, None]}, keep=keep, population=np.arange(0, records, 2)
    )


def test_calibrate_rmia_a_picks_the_best_grid_value_without_the_target():
    data = _synthetic(0)
    a = calibrate_rmia_a(data=data, target=3, count=2, params={"gamma": 2.0})
    assert a in A_GRID
    # The chosen a is the best on the stand-in (model 0) with the same references.
    refs = select_references(keep=data.keep, exclude=(3, 0), count=2, online=False)

    def stand_in_auc(value: float, refs: np.ndarray) -> float:
        scores = score(
            attack="rmia_offline", data=data, target=0, references=refs, params={"a": value}
        )
        return auc(scores=scores, member=data.keep[0])

    assert all(stand_in_auc(a, refs) >= stand_in_auc(other, refs) for other in A_GRID)
    # count None: every model but the target and the stand-in, as one list.
    every = np.array([1, 2, 4, 5, 6, 7])
    a_all = calibrate_rmia_a(data=data, target=3, count=None, params={"gamma": 2.0})
    assert all(stand_in_auc(a_all, every) >= stand_in_auc(other, every) for other in A_GRID)
    # The target's signals are never read: changing them changes nothing.
    changed = dict(data.signals)
    changed["prob_t_T2"] = data.signals["prob_t_T2"].copy()
    changed["prob_t_T2"][3] = 0.5
    other = ReferenceSignals(signals=changed, keep=data.keep, population=data.population)
    assert calibrate_rmia_a(data=other, target=3, count=2, params={"gamma": 2.0}) == a
    with pytest.raises(ConfigError, match=r"keep: 2 models are not allowed for calibrating"):
        calibrate_rmia_a(
            data=ReferenceSignals(signals={}, keep=data.keep[:2], population=data.population),
            target=0,
            count=1,
            params={},
        )
