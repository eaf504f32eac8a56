"""Shadow-data variants of the membership study (Shokri et al. 2017, section V-C): the
generators, Algorithm 1, the names, the per-class precision and the config checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from leakbench.config import load_config, read_yaml
from leakbench.errors import ConfigError
from leakbench.metrics import per_class_precision
from leakbench.names import ShadowData, parse_shadow_label, shadow_label
from leakbench.reporting.records import MetricsRecord
from leakbench.reporting.tables import membership_table
from leakbench.studies.shadow_data import (
    add_noise,
    block_masks,
    make_shadow_records,
    sample_marginals,
)
from leakbench.studies.splits import make_splits
from leakbench.studies.synthesis import Domain, SynthesisParams, run_chains, synthesise

PARAMS = SynthesisParams(k_max=8, k_min=1, conf_min=0.6, rej_max=3, iter_max=300, rounds=3)


def _sigma(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def test_noise_flips_binary_features_at_the_rate_within_sampling_error():
    rng = np.random.default_rng(0)
    x = (rng.random((2000, 50)) < 0.3).astype(np.float32)
    for rate in (0.1, 0.2):
        noisy = add_noise(x, rate=rate, reference=x, rng=np.random.default_rng(1))
        changed = noisy != x
        assert set(np.unique(noisy)) <= {0.0, 1.0}
        assert np.all(noisy[changed] == 1 - x[changed])  # a change is a flip
        assert abs(changed.mean() - rate) < 4 * _sigma(rate, x.size)


def test_noise_redraws_a_non_binary_feature_from_its_column():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(300, 4)).astype(np.float32)
    x = rng.normal(size=(500, 4)).astype(np.float32)
    noisy = add_noise(x, rate=0.5, reference=reference, rng=np.random.default_rng(2))
    changed = noisy != x
    assert abs(changed.mean() - 0.5) < 4 * _sigma(0.5, x.size)
    for j in range(4):
        assert np.isin(noisy[changed[:, j], j], reference[:, j]).all()


def test_marginals_are_preserved_per_class_within_sampling_error():
    rng = np.random.default_rng(0)
    rates = np.array([[0.1, 0.5, 0.9], [0.7, 0.2, 0.4]])
    y = rng.integers(2, size=4000)
    x = (rng.random((4000, 3)) < rates[y]).astype(np.float32)
    labels = np.repeat([0, 1], 5000)
    out = sample_marginals(x=x, y=y, labels=labels, rng=np.random.default_rng(3))
    for c in (0, 1):
        held = x[y == c].mean(axis=0)
        drawn = out[labels == c].mean(axis=0)
        for j in range(3):
            # two independent estimates of one rate: their difference's standard error
            se = np.hypot(_sigma(held[j], (y == c).sum()), _sigma(held[j], 5000))
            assert abs(drawn[j] - held[j]) < 4 * se, (c, j)
    # features are drawn independently: the empirical correlation is gone
    assert abs(np.corrcoef(out[labels == 0].T)[0, 1]) < 0.05


def test_marginals_refuse_a_class_the_adversary_holds_no_record_of():
    x = np.zeros((4, 2), dtype=np.float32)
    with pytest.raises(ConfigError, match="class 3 is not allowed"):
        sample_marginals(
            x=x, y=np.zeros(4, dtype=np.int64), labels=np.array([3]), rng=np.random.default_rng()
        )


def _linear_api(calls: list[int]):
    """A hand-built 3-class target on 12 binary features: class c's logit is 4 times the
    number of ones among features 4c..4c+3, minus 1.5 times the ones elsewhere."""
    w = np.full((12, 3), -1.5)
    for c in range(3):
        w[4 * c : 4 * c + 4, c] = 4.0

    def predict(x: np.ndarray) -> np.ndarray:
        calls.append(len(x))
        z = x @ w
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return predict


def test_hill_climbing_returns_only_records_the_target_labels_confidently():
    calls: list[int] = []
    predict = _linear_api(calls)
    domain = Domain.of(np.array([[0.0] * 12, [1.0] * 12]))
    made = synthesise(
        predict=predict, counts=np.array([20, 20, 20]), domain=domain, params=PARAMS, seed=5
    )
    assert len(made.y) > 0 and set(np.unique(made.y)) <= {0, 1, 2}
    probs = predict(made.x)
    assert np.all(probs[np.arange(len(made.y)), made.y] > PARAMS.conf_min)
    assert np.all(probs.argmax(axis=1) == made.y)
    assert set(np.unique(made.x)) <= {0.0, 1.0}
    assert made.queries == sum(calls[:-1])  # every query counted (the last call is ours)
    assert made.queries_per_record == made.queries / len(made.y)
    assert 0 < made.acceptance_rate <= 1


def test_a_chain_that_never_reaches_conf_min_fails_and_counts_its_queries():
    calls: list[int] = []
    never = SynthesisParams(k_max=4, k_min=1, conf_min=1.0, rej_max=2, iter_max=7, rounds=1)
    domain = Domain.of(np.array([[0.0] * 12, [1.0] * 12]))
    _, accepted, queries = run_chains(
        predict=_linear_api(calls),
        classes=np.array([0, 1]),
        domain=domain,
        params=never,
        rng=np.random.default_rng(0),
    )
    assert not accepted.any() and queries == 14 == sum(calls)


def test_synthesis_is_seeded():
    domain = Domain.of(np.array([[0.0] * 12, [1.0] * 12]))
    runs = [
        synthesise(
            predict=_linear_api([]), counts=np.array([5, 5, 5]), domain=domain, params=PARAMS,
            seed=seed,
        )
        for seed in (1, 1, 2)
    ]  # fmt: skip
    assert np.array_equal(runs[0].x, runs[1].x) and runs[0].queries == runs[1].queries
    assert not np.array_equal(runs[0].x, runs[2].x)


def _pool(n=400, d=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(classes, size=n).astype(np.int64)
    x = (rng.random((n, d)) < 0.2 + 0.2 * (np.arange(d)[None, :] // 4 == y[:, None])).astype(
        np.float32
    )
    return x, y


@pytest.mark.parametrize("name", ["noisy0.2", "marginal", "synthetic"])
def test_shadow_records_are_seeded_and_split_into_disjoint_blocks(name):
    x, y = _pool()
    splits = make_splits(n_pool=len(y), members=50, shadows=3, seed=1)

    def make(seed):
        return make_shadow_records(
            shadow_data=ShadowData.parse(name),
            x=x,
            y=y,
            num_classes=3,
            splits=splits,
            count=20,
            synthesis=PARAMS,
            predict=_linear_api([]),
            seed=seed,
        )

    one, two, other = make(4), make(4), make(5)
    for key, value in one.arrays().items():
        assert np.array_equal(value, two.arrays()[key]), key
    assert not np.array_equal(one.x, other.x)
    per = one.shadow_in.sum(axis=1)
    assert np.all(per == one.shadow_out.sum(axis=1)) and np.all(per == per[0]) and per[0] <= 20
    assert not (one.shadow_in | one.shadow_out).sum(axis=0).max() > 1  # no record shared
    if name == "synthetic":
        assert {"queries_per_record", "acceptance_rate"} <= set(one.stats)
    if name == "noisy0.2":
        assert abs(one.stats["changed_fraction"] - 0.2) < 0.05


def test_block_masks():
    shadow_in, shadow_out = block_masks(2, 2)
    assert shadow_in.astype(int).tolist() == [[1, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 0, 0]]
    assert shadow_out.astype(int).tolist() == [[0, 0, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1, 1]]


def test_per_class_precision_by_hand():
    # class 0: predicted members at records 0 (member) and 1 (not): 1/2
    # class 1: predicted member at record 3 (member): 1/1; class 2: nothing named -> left out
    predictions = np.array([1, 1, 0, 1, 0], dtype=bool)
    member = np.array([1, 0, 1, 1, 0], dtype=bool)
    labels = np.array([0, 0, 1, 1, 2])
    assert per_class_precision(predictions=predictions, member=member, labels=labels) == {
        0: 0.5,
        1: 1.0,
    }


def test_names_round_trip_and_refuse_bad_variants():
    for text in ("real", "noisy0.1", "noisy0.25", "marginal", "synthetic"):
        assert str(ShadowData.parse(text)) == text
    assert ShadowData.parse("noisy0.2").rate == 0.2
    for bad in ("noisy1.5", "noisy0", "noisy1", "gan", "noisy0.10"):
        with pytest.raises(ConfigError, match=rf"x: '{bad}' is not allowed; allowed: real, noisy"):
            ShadowData.parse(bad, key="x")
    assert shadow_label("mlp128", "real") == "mlp128"
    assert parse_shadow_label(shadow_label("mlp128", "noisy0.1")) == ("mlp128", "noisy0.1")
    assert parse_shadow_label("mlp128") == ("mlp128", "real")


def test_table_has_a_shadow_data_column():
    metrics = {
        "auc": 0.6, "tpr_at_fpr_0.01": 0.0, "tpr_at_fpr_0.001": 0.0, "precision": 0.7,
        "recall": 1.0, "balanced_accuracy": 0.6, "target_train_accuracy": 1.0,
        "target_test_accuracy": 0.5,
    }  # fmt: skip
    records = [
        MetricsRecord.build(
            study="membership", dataset="purchase_synth", variant=label, attack="shokri",
            grid={}, seeds={}, metrics=metrics,
        )
        for label in ("mlp128+synthetic", "mlp128")
    ]  # fmt: skip
    table = membership_table(records=records)
    assert table[["variant", "shadow_data"]].values.tolist() == [
        ["mlp128", "real"],
        ["mlp128", "synthetic"],
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shadow_data": ["real", "gan"]}, r"membership\.grid\.0\.shadow_data\.1: 'gan' is not allowed; allowed: real, noisy"),  # noqa: E501
        ({"shadow_data": ["real", "noisy1.5"]}, r"shadow_data\.1: 'noisy1\.5' is not allowed; allowed: .*0 < rate < 1"),  # noqa: E501
        ({"shadow_data": ["real", "noisy0"]}, r"shadow_data\.1: 'noisy0' is not allowed"),
        ({"shadow_data": ["marginal"]}, r"membership\.grid\.0\.shadow_data: \['marginal'\] is not allowed; allowed: a list that holds 'real'"),  # noqa: E501
        ({"synthesis": {"k_min": 9, "k_max": 8}}, r"synthesis\.k_min: 9 is not allowed; allowed: 1 to k_max \(8\)"),  # noqa: E501
        ({"synthesis": {"conf_min": 1.5}}, r"membership\.grid\.0\.synthesis\.conf_min: 1\.5 is greater than the maximum of 1"),  # noqa: E501
        ({"synthesis": {"conf_min": -0.1}}, r"membership\.grid\.0\.synthesis\.conf_min: -0\.1 is less than the minimum of 0"),  # noqa: E501
        ({"shadow_records": 151}, r"membership\.grid\.0\.shadow_records: 151 is not allowed; allowed: null or 1 to members \(150\)"),  # noqa: E501
    ],
)  # fmt: skip
def test_bad_shadow_data_settings_stop_at_validation(repo_root, tmp_path, change, message):
    config = copy.deepcopy(read_yaml(repo_root / "config/test.yaml"))
    config["membership"]["grid"][0].update(change)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=message):
        load_config(path, repo_root / "workflow/schemas/config.schema.yaml")
