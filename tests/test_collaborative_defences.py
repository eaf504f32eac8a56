"""Melis et al. 2019's active attack and defences: selective gradient sharing (exact
fraction and entries), the multi-task loss and the adversary's update, bad input, and a
small two-party run (paired sweeps, byte-identical reruns)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from leakbench.collaborative.active import (
    adversary_update,
    check_alpha,
    multitask_loss,
    new_head,
    output_layer,
)
from leakbench.collaborative.defended import accuracy
from leakbench.collaborative.sharing import check_fraction, kept_entries, share_largest
from leakbench.collaborative.simulate import participant_updates
from leakbench.config import check_names, load_schema, read_yaml, validate_schema
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.studies.collaborative_defences import check_row, check_value, run_row

UPDATE = {
    "w": torch.tensor([[3.0, -1.0], [0.5, -4.0]]),
    "b": torch.tensor([2.0, -0.25]),
}  # 6 entries; by |value|: -4 (w[1,1]), 3 (w[0,0]), 2 (b[0]), -1, 0.5, -0.25


@pytest.mark.parametrize(
    ("fraction", "w", "b"),
    [
        (0.1, [[0.0, 0.0], [0.0, -4.0]], [0.0, 0.0]),  # ceil(0.6) = 1 entry
        (0.5, [[3.0, 0.0], [0.0, -4.0]], [2.0, 0.0]),  # 3 entries
        (0.8, [[3.0, -1.0], [0.5, -4.0]], [2.0, 0.0]),  # ceil(4.8) = 5 entries
        (1.0, [[3.0, -1.0], [0.5, -4.0]], [2.0, -0.25]),  # everything
    ],
)
def test_sharing_keeps_the_exact_fraction_of_largest_magnitude_entries(fraction, w, b):
    shared = share_largest(UPDATE, fraction=fraction)
    assert shared["w"].tolist() == w and shared["b"].tolist() == b
    kept = sum(int((v != 0).sum()) for v in shared.values())
    assert kept == math.ceil(fraction * 6)


def test_sharing_counts_without_float_error_and_breaks_ties_by_position():
    assert kept_entries(total=30, fraction=0.1) == 3  # 0.1 * 30 = 3.0000000000000004
    assert kept_entries(total=7, fraction=0.5) == 4
    assert kept_entries(total=5, fraction=0.01) == 1
    ties = share_largest({"a": torch.tensor([1.0, -1.0, 1.0, -1.0])}, fraction=0.5)
    assert ties["a"].tolist() == [1.0, -1.0, 0.0, 0.0]


def test_multitask_loss_weights_the_property_loss_by_alpha():
    main = torch.zeros(1, 2)  # CE = ln 2
    prop = torch.tensor([[math.log(3.0), 0.0]])  # p(class 0) = 3/4: CE = ln(4/3)
    y, p = torch.tensor([1]), torch.tensor([0])
    got = multitask_loss(main_logits=main, y=y, prop_logits=prop, p=p, alpha=0.25)
    assert got.item() == pytest.approx(0.75 * math.log(2) + 0.25 * math.log(4 / 3), abs=1e-6)


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))


def _batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 4, generator=g), torch.arange(8) % 3, torch.arange(8) % 2


def test_passive_adversary_uploads_the_plain_sgd_update_and_alpha_one_leaves_the_output():
    model = _mlp()
    params = {k: v.detach() for k, v in model.named_parameters()}
    head = new_head(model, key="k", generator=torch.Generator().manual_seed(2))
    x, y, p = _batch()
    passive, head0 = adversary_update(
        model=model, params=params, head=head, x=x, y=y, p=p, alpha=0.0, lr=0.1, key="k"
    )
    plain = participant_updates(model=model, params=params, x=x[None, None], y=y[None, None],
                                lr=0.1)  # fmt: skip
    for k in params:
        torch.testing.assert_close(passive[k], plain[k][0])
    assert all(torch.equal(head0[k], head[k]) for k in head)  # no property loss: head idle
    active, head1 = adversary_update(
        model=model, params=params, head=head, x=x, y=y, p=p, alpha=1.0, lr=0.1, key="k"
    )
    assert not active["2.weight"].any() and not active["2.bias"].any()
    assert active["0.weight"].abs().sum() > 0
    assert not torch.equal(head1["weight"], head["weight"])
    assert head["weight"].shape == (2, 5)


def test_a_model_without_a_linear_output_layer_is_refused_for_the_active_attack():
    with pytest.raises(ConfigError, match=re.escape("k.arch: Conv1d is not allowed")):
        output_layer(nn.Conv1d(1, 1, 1), key="k.arch")


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (check_alpha, -0.1, "k: -0.1 is not allowed; allowed: 0 <= alpha <= 1"),
        (check_alpha, 1.5, "k: 1.5 is not allowed; allowed: 0 <= alpha <= 1"),
        (check_fraction, 0, "k: 0 is not allowed; allowed: 0 < fraction <= 1"),
        (check_fraction, 1.2, "k: 1.2 is not allowed; allowed: 0 < fraction <= 1"),
    ],
)
def test_out_of_range_alpha_and_fraction_are_refused(check, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check(value, key="k")


ROW = {
    "dataset": "mnist5k", "variant": "v", "arch": "mlp", "arch_params": {"hidden": [8]},
    "sweep": "alpha", "values": [0, 0.5], "task": "parity", "property": "class",
    "property_class": 3, "property_share": 1.0, "records": 400, "test_records": 100,
    "rounds": 8, "batch_size": 8,
    "lr": 0.1, "trees": 10, "max_features": 16,
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"values": [0, 1.5]}, "k.values.1: 1.5 is not allowed; allowed: 0 <= alpha <= 1"),
        ({"sweep": "share_fraction", "values": [0.0]},
         "k.values.0: 0.0 is not allowed; allowed: 0 < fraction <= 1"),
        ({"sweep": "dropout", "values": [0.5, 1.0]},
         "k.values.1: 1.0 is not allowed; allowed: 0 <= dropout < 1"),
        ({"sweep": "dropout", "values": [0.5], "arch_params": {"dropout": 0.2}},
         "k.arch_params.dropout: 0.2 is not allowed in a dropout sweep"),
        ({"property_class": 10}, "k.property_class: 10 matches no record; allowed: 0 .. 9"),
        ({"sweep": "dropout", "values": [0.5], "arch": "logreg"},
         "k.arch: 'logreg' is not allowed in a dropout sweep"),
    ],
)  # fmt: skip
def test_bad_rows_are_refused_with_key_value_and_allowed(change, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_row({**ROW, **change}, key="k", num_classes=10, properties=())


def test_check_value_returns_the_allowed_values():
    assert check_value("dropout", 0, key="k") == 0.0
    assert check_value("share_fraction", 1, key="k") == 1.0


def _pool(n: int = 600, seed: int = 0) -> Pool:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.int64)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[:, 0] += (y == 3) * 2.0  # the property shows in one feature
    return Pool(x=x, y=y, properties={}, feature_names=tuple(f"f{i}" for i in range(6)),
                num_classes=10)  # fmt: skip


def test_a_pool_too_small_for_the_row_is_refused_before_training():
    with pytest.raises(ConfigError, match=re.escape("k.records: 550 + test_records 100 is not")):
        run_row(pool=_pool(), row={**ROW, "records": 550}, seed=1, key="k")


@pytest.mark.parametrize(
    ("sweep", "values"),
    [("alpha", [0, 0.5]), ("share_fraction", [0.1, 1]), ("dropout", [0.3])],
)
def test_each_sweep_runs_and_reruns_identically(sweep, values):
    row = {**ROW, "sweep": sweep, "values": values, "property_share": 0.5}
    first = run_row(pool=_pool(), row=row, seed=5, key="k")
    assert first == run_row(pool=_pool(), row=row, seed=5, key="k")
    names = [f"{float(v):g}" for v in values]
    assert list(first["auc"]) == names and list(first["accuracy"]) == names
    for name in names:
        assert 0 <= first["auc"][name] <= 1 and 0 <= first["accuracy"][name] <= 1


def test_the_passive_point_finds_a_visible_property_and_the_model_learns_the_task():
    metrics = run_row(pool=_pool(), row={**ROW, "values": [0]}, seed=5, key="k")
    assert metrics["auc"]["0"] > 0.75
    assert metrics["accuracy"]["0"] > 0.4  # parity: chance is about 0.5


def test_config_validation_refuses_a_bad_row_before_any_job(repo_root):
    schema = load_schema(repo_root / "workflow/schemas/config.schema.yaml")
    config = read_yaml(repo_root / "config/test.yaml")
    config["collaborative_defences"]["grid"][0]["values"] = [0, 2]
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "collaborative_defences.grid.0.values.1: 2 is not allowed; allowed: 0 <= alpha <= 1"
        ),
    ):
        check_names(validate_schema(config, schema))
    config["collaborative_defences"]["grid"][0]["sweep"] = "noise"
    with pytest.raises(ConfigError, match=r"collaborative_defences\.grid\.0\.sweep"):
        validate_schema(config, schema)


def test_utility_is_the_share_of_arg_max_hits_in_eval_mode():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.99))
    params = {"0.weight": torch.eye(2), "0.bias": torch.zeros(2)}
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]])  # arg max: 0, 1, 1
    assert accuracy(model=model, params=params, x=x, y=torch.tensor([0, 0, 1])) == 2 / 3
    assert model.training  # dropout off only while measuring
