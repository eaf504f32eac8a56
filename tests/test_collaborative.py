"""Collaborative learning (Melis et al. 2019): aggregation, the adversary's observed update,
update features, the task-property correlation, the passive attack and bad input."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import torch
from torch import nn

from leakbench.collaborative.features import (
    normalise_rows,
    pooled,
    standardise,
    update_features,
)
from leakbench.collaborative.partition import pearson, split, task_labels
from leakbench.collaborative.simulate import (
    Algorithm,
    aggregate,
    aggregation_weights,
    apply,
    observed_update,
    parse_algorithm,
    participant_updates,
)
from leakbench.config import check_names, load_schema, read_yaml, validate_schema
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.studies.collaborative import check_row, run_row

# Dyadic values: sums, weighted averages and differences below are exact in float32.
UPDATES = {
    "w": torch.tensor([[[1.0, -2.0]], [[0.5, 4.0]], [[-0.25, 8.0]]]),  # K = 3 participants
    "b": torch.tensor([[1.0], [2.0], [-4.0]]),
}
PARAMS = {"w": torch.tensor([[0.125, 0.75]]), "b": torch.tensor([3.0])}


def test_sync_sgd_applies_the_sum_and_the_adversary_sees_the_others_exactly():
    weights = aggregation_weights(algorithm=Algorithm.SYNC_SGD, sizes=torch.tensor([5, 7, 9]))
    assert weights.tolist() == [1.0, 1.0, 1.0]
    after = apply(params=PARAMS, update=aggregate(updates=UPDATES, weights=weights))
    assert after["w"].tolist() == [[0.125 + 1.25, 0.75 + 10.0]]
    assert after["b"].tolist() == [3.0 - 1.0]
    own = {k: v[0] for k, v in UPDATES.items()}
    seen = observed_update(before=PARAMS, after=after, own=own, own_weight=float(weights[0]))
    for k, v in UPDATES.items():
        assert torch.equal(seen[k], v[1] + v[2]), k


def test_fedavg_applies_the_weighted_average_by_data_size():
    weights = aggregation_weights(algorithm=Algorithm.FEDAVG, sizes=torch.tensor([1, 1, 2]))
    assert weights.tolist() == [0.25, 0.25, 0.5]
    after = apply(params=PARAMS, update=aggregate(updates=UPDATES, weights=weights))
    assert after["w"].tolist() == [[0.125 + (0.25 + 0.125 - 0.125), 0.75 + (-0.5 + 1.0 + 4.0)]]
    own = {k: v[0] for k, v in UPDATES.items()}
    seen = observed_update(before=PARAMS, after=after, own=own, own_weight=float(weights[0]))
    for k, v in UPDATES.items():
        assert torch.equal(seen[k], 0.25 * v[1] + 0.5 * v[2]), k


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


@pytest.mark.parametrize("steps", [1, 3])
def test_participant_updates_equal_each_participant_training_alone(steps):
    model, lr = _model(), 0.1
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, steps, 5, 3, generator=gen)
    y = torch.randint(0, 2, (4, steps, 5), generator=gen)
    params = {k: v.detach() for k, v in model.named_parameters()}
    stacked = participant_updates(model=model, params=params, x=x, y=y, lr=lr)
    for p in range(4):
        alone = copy.deepcopy(model)
        optimiser = torch.optim.SGD(alone.parameters(), lr=lr)
        for s in range(steps):  # Algorithm 2's ClientUpdate; one step: Algorithm 1
            optimiser.zero_grad()
            nn.functional.cross_entropy(alone(x[p, s]), y[p, s]).backward()
            optimiser.step()
        for name, value in alone.named_parameters():
            expected = value.detach() - params[name]
            torch.testing.assert_close(stacked[name][p], expected, rtol=0, atol=1e-6)


def test_features_take_absolute_weight_values_max_pooled_where_large():
    update = {
        "w": torch.tensor([[1.0, -5.0], [3.0, -2.0]]),
        "bias": torch.tensor([7.0]),  # not a weight tensor: left out
        "v": torch.tensor([[-1.0, 2.0, -6.0, 0.5, -0.25]]),
    }
    # w: 4 values <= 4 kept; v: 5 values > 4, windows of ceil(5 / 4) = 2: [2, 6, 0.25]
    assert update_features(update, max_features=4).tolist() == [1, 5, 3, 2, 2, 6, 0.25]
    # windows of ceil(4 / 2) = 2 and ceil(5 / 2) = 3 (last one padded): [5, 3] and [6, 0.5]
    assert update_features(update, max_features=2).tolist() == [5, 3, 6, 0.5]
    assert pooled(torch.tensor([-3.0]), max_features=1).tolist() == [3.0]
    with pytest.raises(ConfigError, match="max_features: 0 is not allowed"):
        pooled(torch.tensor([1.0]), max_features=0)


def test_rows_are_normalised_then_standardised_with_the_training_rows():
    rows = normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0], [0.0, 2.0]]))
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, 0.0], [0.0, 1.0]])
    train, test = standardise(np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[2.0, 7.0]]))
    # column 0: mean 2, std 1; column 1: constant 5, only centred
    np.testing.assert_allclose(train, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(test, [[0.0, 2.0]])


def test_pearson_matches_a_hand_computed_case():
    # da = [.5, .5, -.5, -.5], db = [.75, -.25, -.25, -.25]: r = 0.5 / sqrt(1 * 0.75)
    a, b = np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0])
    assert pearson(a, b) == pytest.approx(0.5 / np.sqrt(0.75), abs=1e-12)
    assert pearson(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])) == 0.0
    assert pearson(a, b) == pytest.approx(np.corrcoef(a, b)[0, 1])
    with pytest.raises(ConfigError, match="constant label is not allowed"):
        pearson(a, np.zeros(4))
    assert task_labels(np.array([0, 3, 4, 7]), "parity").tolist() == [0, 1, 0, 1]


def test_split_gives_the_property_to_adversary_and_target_only():
    has = np.zeros(100, dtype=bool)
    has[:20] = True
    part = split(has_property=has, participants=4, batch_records=5, key="k",
                 rng=np.random.default_rng(0))  # fmt: skip
    assert all(has[i].all() for i in part.prop) and [len(i) for i in part.prop] == [10, 10]
    assert all(not has[i].any() for i in part.nonprop) and len(part.nonprop) == 4
    everyone = np.concatenate([*part.prop, *part.nonprop])
    assert sorted(everyone.tolist()) == list(range(100))
    assert part.sizes().tolist() == [30, 30, 20, 20]


ROW = {
    "dataset": "toy", "variant": "v", "arch": "mlp", "arch_params": {"hidden": [4]},
    "algorithm": "sync_sgd", "participants": [2, 3], "task": "parity", "property": "class",
    "property_class": 3, "records": 400, "rounds": 8, "batch_size": 8, "local_steps": 1,
    "lr": 0.1, "trees": 10, "max_features": 16, "fractions": [1.0], "window": None,
    "join_round": None, "whole_run_trials": 0, "test_records": 0,
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"participants": [2, 1]}, "k.participants: 1 is not allowed; allowed: >= 2"),
        (
            {"algorithm": "gossip"},
            "k.algorithm: 'gossip' is not allowed; allowed: sync_sgd, fedavg",
        ),
        ({"property_class": 10}, "k.property_class: 10 matches no record; allowed: 0 .. 9"),
        ({"property": "glasses"}, "k.property: unknown value 'glasses'; allowed: class, sex"),
        ({"participants": [51]}, "k.participants: 51 is not allowed with 400 records at 8 per "
                                 "round; allowed: 2 .. 50"),
        ({"local_steps": 2}, "k.local_steps: 2 is not allowed with sync_sgd; allowed: 1"),
    ],
)  # fmt: skip
def test_bad_rows_are_refused_with_key_value_and_allowed(change, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_row({**ROW, **change}, key="k", num_classes=10, properties=("sex",))


def _pool(n: int = 600, seed: int = 0) -> Pool:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.int64)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[:, 0] += (y == 3) * 2.0  # the property shows in one feature
    return Pool(x=x, y=y, properties={"none": np.zeros(n, dtype=bool)},
                feature_names=tuple(f"f{i}" for i in range(6)), num_classes=10)  # fmt: skip


def test_data_that_do_not_fit_the_row_are_refused_before_training():
    pool = _pool()
    with pytest.raises(ConfigError, match=re.escape("k.property: 'none' matches no record")):
        run_row(pool=pool, row={**ROW, "property": "none"}, seed=1, key="k")
    with pytest.raises(
        ConfigError,
        match=r"k\.participants: 49 is not allowed with \d+ records "
        r"without the property at 8 per round; allowed: 2 \.\. ",
    ):
        run_row(pool=pool, row={**ROW, "participants": [49]}, seed=1, key="k")  # fmt: skip
    few = {**ROW, "batch_size": 40, "participants": [2]}
    with pytest.raises(ConfigError, match=r"k\.property: matches \d+ records is not allowed"):
        run_row(pool=pool, row=few, seed=1, key="k")


def test_the_attack_finds_a_visible_property_and_reruns_identically():
    first = run_row(pool=_pool(), row=ROW, seed=5, key="k")
    again = run_row(pool=_pool(), row=ROW, seed=5, key="k")
    assert first == again
    assert set(first["auc"]) == {"2", "3"} and first["single_batch_auc"] == first["auc"]["2"]
    assert first["single_batch_auc"] > 0.75
    fed = run_row(pool=_pool(), row={**ROW, "algorithm": "fedavg", "local_steps": 2}, seed=5,
                  key="k")  # fmt: skip
    assert 0 <= fed["auc"]["3"] <= 1


def test_config_validation_refuses_a_bad_row_before_any_job(repo_root):
    schema = load_schema(repo_root / "workflow/schemas/config.schema.yaml")
    config = read_yaml(repo_root / "config/test.yaml")
    config["collaborative"]["grid"][0]["participants"] = [1]
    with pytest.raises(ConfigError, match=r"collaborative\.grid\.0\.participants\.0: 1 is less"):
        validate_schema(config, schema)
    config["collaborative"]["grid"][0]["participants"] = [2, 500]
    with pytest.raises(ConfigError, match=r"collaborative\.grid\.0\.participants: 500 is not"):
        check_names(validate_schema(config, schema))
    assert parse_algorithm("fedavg", key="k") is Algorithm.FEDAVG
