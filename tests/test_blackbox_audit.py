"""The black-box multi-run audit: a record held absent is exactly absent (the add/remove
neighbour), the canary cell by hand, the bound by hand from its confusion matrix, and the
settings' checks. That no bound exceeds the accountant is in test_whitebox_audit.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from leakbench.errors import ConfigError
from leakbench.privacy import DPConfig, epsilon_lower_bound
from leakbench.studies.blackbox_audit import (
    CANARY_LABEL,
    BlackBoxCell,
    blackbox_audit,
    canary_cell,
)
from leakbench.training import TrainConfig, train_stacked


@pytest.fixture(scope="module")
def pool() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _train(x, y, *, absent, seeds=(21, 22, 23), privacy=True):
    return train_stacked(
        arch="logreg",
        arch_params={},
        x=x,
        y=y,
        num_classes=2,
        keep=np.ones((len(seeds), len(y)), dtype=bool),
        absent=absent,
        seeds=list(seeds),
        config=TrainConfig(
            epochs=3,
            batch_size=4,
            lr=0.5,
            optimizer="sgd",
            privacy=DPConfig(epsilon=4.0, delta=1e-5) if privacy else None,
        ),
    )


def test_a_record_held_absent_is_exactly_absent(pool) -> None:
    """Models holding the last record absent train to the very same parameters whatever
    that record is (so nothing of it enters), while holding it present changes them; a
    model's result does not depend on its stack-mates' masks."""
    x, y = pool
    absent = np.zeros((3, len(y)), dtype=bool)
    absent[:, -1] = True
    other_x, other_y = x.copy(), y.copy()
    other_x[-1], other_y[-1] = 50.0, 1 - y[-1]
    first, second = _train(x, y, absent=absent), _train(other_x, other_y, absent=absent)
    present = _train(other_x, other_y, absent=np.zeros_like(absent))
    mixed = absent.copy()
    mixed[1, -1] = False
    stack = _train(other_x, other_y, absent=mixed)
    for name, p in first.params.items():
        assert torch.equal(p, second.params[name])
        assert not torch.allclose(p, present.params[name])
        torch.testing.assert_close(stack.params[name][[0, 2]], p[[0, 2]], rtol=0, atol=1e-6)
        torch.testing.assert_close(
            stack.params[name][1], present.params[name][1], rtol=0, atol=1e-6
        )
    assert first.privacy == present.privacy  # the same q, steps and sigma either way


def test_absent_needs_privacy_and_a_mask_within_keep(pool) -> None:
    x, y = pool
    absent = np.zeros((3, len(y)), dtype=bool)
    absent[:, -1] = True
    with pytest.raises(ConfigError, match="absent: records held absent without privacy"):
        _train(x, y, absent=absent, privacy=False)
    with pytest.raises(ConfigError, match="absent: dtype int64"):
        _train(x, y, absent=absent.astype(np.int64))


def test_canary_cell_by_hand(pool) -> None:
    x, y = pool
    cx, cy = canary_cell(x=x, y=y, records=4, canary_value=7.5, seed=3)
    assert cx.shape == (5, 6) and cy.shape == (5,)
    assert np.array_equal(cx[-1], [0, 0, 0, 0, 0, 7.5]) and cy[-1] == CANARY_LABEL
    assert np.all(cx[:-1, -1] == 0)
    rows = [int(np.flatnonzero((x == r).all(axis=1))[0]) for r in cx[:-1, :-1]]
    assert rows == sorted(rows) and np.array_equal(cy[:-1], y[rows])
    with pytest.raises(ConfigError, match=r"privacy\.blackbox\.records: 61 is not allowed"):
        canary_cell(x=x, y=y, records=61, canary_value=1.0, seed=3)


def test_audit_bound_is_the_clopper_pearson_bound_of_its_counts(pool) -> None:
    x, y = pool
    result = blackbox_audit(
        x=x,
        y=y,
        num_classes=2,
        cell=BlackBoxCell(dataset="synthetic", trials=400, held_out=2000, repeats=1),
        dp=DPConfig(epsilon=8.0, delta=1e-5),
        seed=5,
    )
    members, non_members = result.with_canary, result.trials - result.with_canary
    assert result.tp + result.fn == members - members // 2  # the evaluation half
    assert result.fp + result.tn == non_members - non_members // 2
    expected = epsilon_lower_bound(
        tp=result.tp, fn=result.fn, fp=result.fp, tn=result.tn, delta=1e-5
    )
    assert result.epsilon_lower == pytest.approx(float(expected[0]))


@pytest.mark.parametrize(
    ("key", "value"),
    [("trials", 7), ("trials", 6), ("records", 0), ("canary_value", -1.0), ("lr", 0.0)],
)
def test_cell_refuses_bad_settings(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"privacy.blackbox.{key}: .* is not allowed"):
        BlackBoxCell(dataset="adult", **{key: value})
    with pytest.raises(ConfigError, match=r"privacy\.blackbox: 'extra' is not allowed"):
        BlackBoxCell.from_mapping({"dataset": "adult", "extra": 1})
