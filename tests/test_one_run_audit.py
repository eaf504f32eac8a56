"""The white-box one-run audit (Steinke, Nasr and Jagielski 2023) of the DP-SGD audit cell:
many canaries inserted by hand, the bound against the accountant and against its optimal
test, and a deliberately broken DP-SGD that the single run must catch."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from leakbench.errors import ConfigError
from leakbench.privacy import DiracMechanism, DPConfig, one_run_ceiling
from leakbench.studies.dp_axis import check_privacy
from leakbench.studies.one_run_audit import (
    OneRunCell,
    choose_guesses,
    one_run_optimal_bound,
    one_run_whitebox_audit,
    simulated_experiment,
)
from leakbench.studies.whitebox_audit import AuditCell
from leakbench.training.dirac import DiracCanary


@pytest.fixture(scope="module")
def pool() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def test_many_canaries_each_move_only_their_own_coordinate() -> None:
    # two models, two steps, three canaries in row 0, columns 1, 2, 3 of a [2, 4] weight
    sampled = torch.tensor(
        [[[True, False, True], [False, False, True]], [[False, True, False], [True, True, True]]]
    )
    index = (torch.zeros(3, dtype=torch.long), torch.arange(1, 4))
    canary = DiracCanary(
        param="w", index=index, sampled=sampled, norm=10.0, max_norm=1.0, scale=0.5
    )
    each = 10.0 * (1.0 / (10.0 + 1e-6)) * 0.5  # clipped to C = 1, times the scale
    for step in range(2):
        grads = {"w": torch.zeros(2, 2, 4)}
        canary.insert(grads, {})
        assert torch.allclose(grads["w"][:, 0, 1:], sampled[:, step].float() * each)
        grads["w"][:, 0, 1:] = 0
        assert not grads["w"].any()  # nothing else touched
    params = {"w": torch.arange(16, dtype=torch.float32).reshape(2, 2, 4)}
    for _ in range(2):
        canary.observe(type("Progress", (), {"params": params})())
        params = {"w": params["w"] + 1}
    initial = torch.tensor([[0.0, 1.0, 2.0], [8.0, 9.0, 10.0]])  # one below the first step
    assert torch.equal(canary.updates(initial), torch.ones(2, 2, 3, dtype=torch.float64))


CELL = {"dataset": "synthetic", "records": 4, "batch_size": 1, "epochs": 2}
ONE_RUN = OneRunCell(
    canaries=1000,
    k_plus=(25, 50, 100, 250, 500),
    k_minus=(0, 25, 100, 250, 500),
    held_out=5,
    repeats=3,
)


def _audit(pool, epsilon: float, **cell):
    x, y = pool
    return one_run_whitebox_audit(
        x=x,
        y=y,
        num_classes=2,
        cell=AuditCell(**{**CELL, **cell}),
        one_run=ONE_RUN,
        dp=DPConfig(epsilon=epsilon, delta=1e-5),
        seed=7,
    )


@pytest.mark.parametrize("epsilon", [8.0, 2.0, 1.0])
def test_one_run_audit_never_exceeds_the_accountant(pool, epsilon: float) -> None:
    result = _audit(pool, epsilon)
    assert result.epsilon <= epsilon
    assert (result.sample_rate, result.steps, result.canaries) == (0.25, 8, 1000)
    assert result.k_plus + result.k_minus <= result.canaries
    for bound in (result.epsilon_lower, result.optimal):
        assert 0 <= bound <= min(result.epsilon, result.ceiling)
    assert result.ceiling == one_run_ceiling(
        canaries=1000, guesses=result.k_plus + result.k_minus, delta=1e-5
    )


def test_one_run_audit_is_near_its_optimal_test_and_reruns_identically(pool) -> None:
    result = _audit(pool, 8.0)
    assert result.optimal > 1.0  # the bound is meaningful at epsilon 8
    assert result.epsilon_lower >= 0.7 * result.optimal
    assert _audit(pool, 8.0) == result


def test_one_run_audit_catches_noise_divided_by_ten(pool, monkeypatch) -> None:
    from leakbench.privacy import calibrate
    from leakbench.training import stacked

    def weak(*args, **kwargs):
        honest = calibrate(*args, **kwargs)
        return dataclasses.replace(honest, noise_multiplier=honest.noise_multiplier / 10)

    assert _audit(pool, 1.0).epsilon_lower < 1.0
    monkeypatch.setattr(stacked, "calibrate", weak)
    result = _audit(pool, 1.0)
    assert result.epsilon <= 1.0  # the claim is unchanged
    assert result.epsilon_lower > 1.0


def test_one_run_audit_catches_clipping_switched_off(pool, monkeypatch) -> None:
    from leakbench.training import clipping

    monkeypatch.setattr(clipping, "clip_factors", lambda norms2, max_norm: torch.ones_like(norms2))
    result = _audit(pool, 1.0)
    assert result.epsilon_lower > 1.0


def test_optimal_bound_is_the_ceiling_when_every_guess_is_right() -> None:
    # q = 1 and almost no noise: every included canary scores far above every other, so
    # the guesses are all right while k+ (k-) is at most the canaries in (out), about 500
    # each; 500 guesses of one kind overshoot in about half the experiments, so the rule
    # picks the largest candidate below: (250, 250)
    mechanism = DiracMechanism(noise_multiplier=0.01, sample_rate=1.0, steps=1)
    assert choose_guesses(mechanism=mechanism, cell=ONE_RUN, delta=1e-5, seed=1) == (250, 250)
    bound = one_run_optimal_bound(
        mechanism=mechanism, canaries=1000, k_plus=400, k_minus=400, delta=1e-5, repeats=3, seed=2
    )
    assert bound == one_run_ceiling(canaries=1000, guesses=800, delta=1e-5)


def test_simulated_experiment_is_seeded_and_scores_included_canaries_higher() -> None:
    mechanism = DiracMechanism(noise_multiplier=0.5, sample_rate=0.5, steps=4)
    scores, included = simulated_experiment(mechanism=mechanism, canaries=400, seed=3)
    again = simulated_experiment(mechanism=mechanism, canaries=400, seed=3)
    assert np.array_equal(scores, again[0]) and np.array_equal(included, again[1])
    assert 150 < included.sum() < 250
    assert scores[included].mean() > scores[~included].mean() + 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"canaries": 1}, r"privacy\.one_run\.canaries: 1 is not allowed"),
        ({"k_plus": []}, r"privacy\.one_run\.k_plus: \(\) is not allowed"),
        ({"k_minus": [-1]}, r"privacy\.one_run\.k_minus: \(-1,\) is not allowed"),
        ({"canaries": 100, "k_plus": [80], "k_minus": [30]}, r"privacy\.one_run\.k_minus"),
        ({"k_plus": [0], "k_minus": [0]}, r"privacy\.one_run\.k_minus: \(0,\) is not allowed"),
        ({"held_out": 0}, r"privacy\.one_run\.held_out: 0 is not allowed"),
        ({"seed": 1}, r"privacy\.one_run: 'seed' is not allowed"),
    ],
)
def test_cell_refuses_bad_settings(values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        OneRunCell.from_mapping(values)


def test_validation_refuses_bad_one_run_settings_before_any_job() -> None:
    from leakbench.config import load_config

    config = load_config("config/test.yaml", "workflow/schemas/config.schema.yaml")  # cwd: repo
    config["privacy"]["one_run"]["k_plus"] = [500]
    with pytest.raises(ConfigError, match=r"privacy\.one_run\.k_minus"):
        check_privacy(config)
