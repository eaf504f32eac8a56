"""Property inference from poisoning: poison, sampling, threshold, regression, intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leakbench.attacks.property import (
    ThresholdRule,
    fit_ratio_regressor,
    fit_threshold,
    label_fraction,
    mean_absolute_error,
)
from leakbench.config import load_config
from leakbench.errors import ConfigError
from leakbench.metrics import clopper_pearson
from leakbench.poisoning import make_poison, poison_count
from leakbench.studies.property_poisoning import distinguishing_plan, ratio_plan
from leakbench.studies.property_splits import make_sides, sample_fraction


def test_poison_count_is_the_fraction_of_the_final_training_set():
    # p = m / (n + m): 2% of 1000 clean -> m = 20.41 -> 20; 10% -> 111.1 -> 111; 50% -> n.
    assert poison_count(rate=0.0, clean=1000) == 0
    assert poison_count(rate=0.02, clean=1000) == 20
    assert poison_count(rate=0.1, clean=1000) == 111
    assert poison_count(rate=0.5, clean=1000) == 1000


@pytest.mark.parametrize("rate", [-0.01, 1.0, 1.5, True])
def test_poison_rate_outside_zero_one_is_refused(rate):
    with pytest.raises(ConfigError, match=r"poison_rates: .* 0 <= p < 1"):
        poison_count(rate=rate, clean=100)


def test_poison_takes_a_prefix_of_candidates_with_the_target_label():
    candidates = np.array([7, 3, 9, 1, 5])
    small = make_poison(candidates=candidates, count=2, label=1, num_classes=2)
    large = make_poison(candidates=candidates, count=4, label=1, num_classes=2)
    assert small.rows.tolist() == [7, 3]
    assert large.rows.tolist() == [7, 3, 9, 1]  # nested: a larger rate only adds records
    assert large.labels.tolist() == [1, 1, 1, 1]
    with pytest.raises(ConfigError, match="poison_rates: 6 poison records"):
        make_poison(candidates=candidates, count=6, label=1, num_classes=2)
    with pytest.raises(ConfigError, match="target_label: 2 is not allowed"):
        make_poison(candidates=candidates, count=1, label=2, num_classes=2)


def test_sample_fraction_is_exact_and_deterministic():
    prop = np.arange(1000) % 4 == 0  # 250 property records
    rows = np.arange(1000)
    for fraction in (0.0, 0.1, 0.25, 0.7, 1.0):
        picked = sample_fraction(
            rows=rows, prop=prop, size=200, fraction=fraction, rng=np.random.default_rng(3)
        )
        again = sample_fraction(
            rows=rows, prop=prop, size=200, fraction=fraction, rng=np.random.default_rng(3)
        )
        assert picked.size == np.unique(picked).size == 200
        assert prop[picked].sum() == round(fraction * 200)
        assert picked.tolist() == again.tolist()
    with pytest.raises(ConfigError, match=r"ratios: 1\.0 of 300 records needs 300 records"):
        sample_fraction(rows=rows, prop=prop, size=300, fraction=1.0, rng=np.random.default_rng(0))


def test_sides_are_disjoint_and_the_adversary_queries_property_records():
    prop = np.arange(2000) % 3 == 0
    sides = make_sides(prop=prop, test_size=100, query_candidates=50, poison_max=30, seed=1)
    sets = [set(getattr(sides, name).tolist()) for name in sides.__dataclass_fields__]
    assert sum(len(s) for s in sets) == 2000 == len(set().union(*sets))
    assert prop[sides.queries].all() and prop[sides.poison].all()
    assert (sides.queries.size, sides.poison.size, sides.test.size) == (50, 30, 100)
    with pytest.raises(ConfigError, match="queries: 400 query candidates"):
        make_sides(prop=prop, test_size=100, query_candidates=400, poison_max=30, seed=1)


def test_label_fraction_counts_target_answers():
    predictions = np.array([[1, 1, 0, 0], [1, 1, 1, 0]])
    assert label_fraction(predictions=predictions, target_label=1).tolist() == [0.5, 0.75]


def test_threshold_on_a_hand_built_case():
    # Shadows at t0 answer the target label more often (0.8, 0.7, 0.6) than at t1
    # (0.3, 0.4, 0.55). Sorted distinct scores 0.3 0.4 0.55 0.6 0.7 0.8; with sign -1
    # (t1 iff score < threshold) only the midpoint (0.55 + 0.6) / 2 = 0.575 is perfect.
    scores = np.array([0.8, 0.7, 0.6, 0.3, 0.4, 0.55])
    world = np.array([False, False, False, True, True, True])
    rule = fit_threshold(scores=scores, world=world)
    assert rule == ThresholdRule(threshold=pytest.approx(0.575), sign=-1)
    assert rule.predict(np.array([0.9, 0.1])).tolist() == [False, True]
    # Reversed worlds: the sign flips.
    assert fit_threshold(scores=scores, world=~world).sign == 1


def test_threshold_needs_both_worlds():
    with pytest.raises(ConfigError, match="at least one in each world"):
        fit_threshold(scores=np.array([0.1, 0.2]), world=np.array([True, True]))


def test_regression_recovers_a_known_monotone_map():
    # score = 1 - t exactly: the isotonic fit interpolates, so unseen ratios are exact.
    shadow_t = np.linspace(0, 1, 11)
    regressor = fit_ratio_regressor(scores=1 - shadow_t, ratios=shadow_t)
    target_t = np.array([0.05, 0.35, 0.95])
    estimate = regressor.predict(1 - target_t)
    assert mean_absolute_error(predicted=estimate, actual=target_t) == pytest.approx(0, abs=1e-12)
    # Hand case of the MAE: |0.2 - 0.1| and |0.5 - 0.8| -> (0.1 + 0.3) / 2.
    assert mean_absolute_error(
        predicted=np.array([0.2, 0.5]), actual=np.array([0.1, 0.8])
    ) == pytest.approx(0.2)


def test_clopper_pearson_hand_cases():
    # k = 0 of n = 10: upper = 1 - (a/2)^(1/n) = 1 - 0.025**0.1; k = n: lower = 0.025**0.1.
    assert clopper_pearson(successes=0, trials=10) == (0.0, pytest.approx(1 - 0.025**0.1))
    assert clopper_pearson(successes=10, trials=10) == (pytest.approx(0.025**0.1), 1.0)
    # k = 1 of n = 1: lower = 0.025 (beta(1, 1) is uniform).
    assert clopper_pearson(successes=1, trials=1)[0] == pytest.approx(0.025)
    low, high = clopper_pearson(successes=25, trials=50)
    assert low < 0.5 < high and math.isclose(low + high, 1.0)
    with pytest.raises(ConfigError, match="successes, trials"):
        clopper_pearson(successes=3, trials=2)


def test_plans_order_targets_before_shadows():
    plan = distinguishing_plan(t0=0.1, t1=0.25, targets=2, shadows=3)
    assert plan.is_target.tolist() == [True] * 4 + [False] * 6
    assert plan.ratio.tolist() == [0.1, 0.1, 0.25, 0.25, 0.1, 0.1, 0.1, 0.25, 0.25, 0.25]
    reg = ratio_plan(target_ratios=[0.5], targets=1, shadow_ratios=[0.0, 1.0], shadows=2)
    assert reg.ratio.tolist() == [0.5, 0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ConfigError, match=r"ratio_pairs: \(0.5, 0.5\)"):
        distinguishing_plan(t0=0.5, t1=0.5, targets=1, shadows=1)


def _config_with(tmp_path, repo_root, **changes):
    import yaml

    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    config["property_poisoning"].update(changes)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_config(path, repo_root / "workflow/schemas/config.schema.yaml")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ratio_pairs": [[0.6, 0.2]]}, r"property_poisoning.ratio_pairs.0: \(0.6, 0.2\)"),
        ({"ratio_pairs": [[0.2, 1.5]]}, "ratio_pairs.0.1: 1.5 is greater than the maximum"),
        ({"poison_rates": [-0.1]}, "poison_rates.0: -0.1 is less than the minimum"),
        ({"poison_rates": [1.0]}, "poison_rates.0: 1.0 is greater than or equal to"),
        ({"properties": ["eye_colour"]}, "property_poisoning.properties: unknown value"),
        ({"target_label": 5}, "property_poisoning.target_label: 5 is not allowed"),
        (
            {"query_selection": "uncertain", "poison_rates": [0.05]},
            "'uncertain' is not allowed without 0",
        ),
    ],
)
def test_bad_property_config_is_refused_before_training(tmp_path, repo_root, changes, message):
    with pytest.raises(ConfigError, match=message):
        _config_with(tmp_path, repo_root, **changes)


def test_split_refuses_a_property_that_matches_no_record(tmp_path, repo_root):
    from leakbench.data.pool import Pool
    from leakbench.names import CellId
    from leakbench.steps.context import Files, Job
    from leakbench.steps.property_poisoning import split

    config = load_config(
        repo_root / "config/test.yaml", repo_root / "workflow/schemas/config.schema.yaml"
    )
    pool = Pool(
        x=np.zeros((40, 3), dtype=np.float32),
        y=np.zeros(40, dtype=np.int64),
        properties={"sex": np.zeros(40, dtype=bool)},
        feature_names=("a", "b", "c"),
        num_classes=2,
    )
    pool.save(tmp_path / "pool.npz")
    out = tmp_path / "sides.npz"
    with pytest.raises(ConfigError, match="'sex' matches no record of adult"):
        split(
            job=Job(
                rule="split_property_poisoning",
                cell=CellId.of(("dataset", "property"), ("adult", "sex")),
                seed=1,
                settings={"study": config["property_poisoning"]},
            ),
            files=Files(inputs={"pool": (tmp_path / "pool.npz",)}, output_list=(out,)),
        )
    assert not out.exists()
