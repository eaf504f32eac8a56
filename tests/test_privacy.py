"""DP-SGD in the stacked trainer, noise calibration, and the empirical epsilon audit."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from conftest import ARCHS, CLASSES, opacus_clipped_sums, random_data

from leakbench.errors import ConfigError
from leakbench.privacy import DPConfig, audit_scores, calibrate, epsilon_lower_bound
from leakbench.training import TrainConfig, seeded_model, train_stacked
from leakbench.training.private import poisson_batches
from leakbench.training.stacked_net import StackedNet, cross_entropy_grad

pytestmark = pytest.mark.usefixtures("deterministic_torch")
_data = functools.partial(random_data, n=60)


def _row(epsilon, **more):
    return {
        "epochs": 2,
        "batch_size": 8,
        "lr": 0.05,
        "weight_decay": 0.0,
        "optimizer": "adam",
        "privacy": {"epsilon": epsilon, "delta": 1e-3, "max_grad_norm": 0.5, **more},
    }


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_clipped_sums_equal_opacus(arch):
    """One model, noise off: leakbench's clipped, summed gradients are Opacus's."""
    params, shape = ARCHS[arch]
    x, y = _data(shape, n=12)
    model = seeded_model(arch=arch, arch_params=params, input_shape=shape, num_classes=3, seed=4)
    net = StackedNet(model, 1)
    flat = net.pack({name: p.detach()[None] for name, p in model.named_parameters()})
    grad = torch.empty_like(flat)
    tape: list = []
    logits = net.forward(net.views(flat), torch.from_numpy(x)[None], shared=False, tape=tape)
    per_record = cross_entropy_grad(logits, torch.from_numpy(y), torch.ones(1, len(y)))
    norms = net.backward(net.views(flat), net.views(grad), tape, per_record, max_norm=1e9)
    clip = float(norms.median())  # about half the records are clipped
    net.backward(net.views(flat), net.views(grad), tape, per_record, max_norm=clip)

    reference = opacus_clipped_sums(model, torch.from_numpy(x), torch.from_numpy(y), clip)
    ours = net.model_views(grad, 0)
    clipped = (norms > clip).sum().item()
    assert 0 < clipped < len(y)
    for name in reference:
        torch.testing.assert_close(ours[name], reference[name], rtol=1e-5, atol=1e-6)


def test_poisson_batches():
    rows = torch.arange(40).view(2, 20)
    gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    sizes = []
    for _ in range(200):
        index, weight = poisson_batches(rows, gens, 0.25)
        assert index.shape == weight.shape
        for k in range(2):
            picked = index[k][weight[k] == 1]
            assert set(picked.tolist()) <= set(rows[k].tolist())
            assert picked.unique().numel() == picked.numel()
            sizes.append(picked.numel())
    assert np.mean(sizes) == pytest.approx(5.0, abs=0.3)  # q n = 0.25 * 20
    again = poisson_batches(rows, [torch.Generator().manual_seed(s) for s in (1, 2)], 0.25)
    first = poisson_batches(rows, [torch.Generator().manual_seed(s) for s in (1, 2)], 0.25)
    assert all(torch.equal(a, b) for a, b in zip(again, first, strict=True))


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_dp_model_in_a_stack_equals_the_model_alone(arch):
    """Batches and noise come from each model's seed: stacking changes nothing."""
    params, shape = ARCHS[arch]
    x, y = _data(shape)
    rng = np.random.default_rng(3)
    keep = np.zeros((3, len(y)), dtype=bool)
    for row in keep:
        row[rng.choice(len(y), 30, replace=False)] = True
    config = TrainConfig.from_row(_row(4.0))
    common = {"arch": arch, "arch_params": params, "x": x, "y": y, "num_classes": CLASSES}
    stacked = train_stacked(**common, keep=keep, seeds=[11, 12, 13], config=config)
    assert stacked.privacy["noise_multiplier"] > 0.3
    for k, seed in enumerate((11, 12, 13)):
        alone = train_stacked(**common, keep=keep[k : k + 1], seeds=[seed], config=config)
        for name, p in alone.params.items():
            torch.testing.assert_close(stacked.params[name][k], p[0], rtol=1e-4, atol=1e-5)


def test_dp_training_moves_away_from_plain_training():
    params, shape = ARCHS["mlp"]
    x, y = _data(shape)
    keep = np.ones((1, len(y)), dtype=bool)
    common = {"arch": "mlp", "arch_params": params, "x": x, "y": y, "num_classes": CLASSES}
    private = train_stacked(**common, keep=keep, seeds=[5], config=TrainConfig.from_row(_row(1)))
    plain_row = {k: v for k, v in _row(1).items() if k != "privacy"}
    plain = train_stacked(**common, keep=keep, seeds=[5], config=TrainConfig.from_row(plain_row))
    assert private.privacy is not None and plain.privacy is None
    assert not torch.allclose(private.params["1.weight"], plain.params["1.weight"])


def test_epsilon_inf_is_the_plain_path():
    params, shape = ARCHS["mlp"]
    x, y = _data(shape)
    keep = np.ones((2, len(y)), dtype=bool)
    common = {"arch": "mlp", "arch_params": params, "x": x, "y": y, "num_classes": CLASSES}
    row = _row(math.inf)
    assert TrainConfig.from_row(row).privacy is None
    no_dp = TrainConfig.from_row({k: v for k, v in row.items() if k != "privacy"})
    a = train_stacked(**common, keep=keep, seeds=[1, 2], config=TrainConfig.from_row(row))
    b = train_stacked(**common, keep=keep, seeds=[1, 2], config=no_dp)
    assert a.privacy is None
    for name in a.params:
        assert torch.equal(a.params[name], b.params[name])


def test_noise_has_the_calibrated_scale_and_each_models_own_stream():
    from leakbench.training.private import add_noise

    model = seeded_model(
        arch="mlp", arch_params={"hidden": [50]}, input_shape=(40,), num_classes=3, seed=0
    )
    net = StackedNet(model, 2)
    grad = torch.zeros(net.size)
    add_noise(net, grad, [torch.Generator().manual_seed(s) for s in (1, 2)], 2.5)
    assert grad.std().item() == pytest.approx(2.5, rel=0.03)
    assert abs(grad.mean().item()) < 4 * 2.5 / net.size**0.5
    # Model 1's noise is its own generator's draws, parameter by parameter in module order.
    generator = torch.Generator().manual_seed(2)
    for name, param in model.named_parameters():
        expected = torch.randn(param.shape, generator=generator) * 2.5
        torch.testing.assert_close(net.model_views(grad, 1)[name], expected)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("epsilon", 0, "privacy.epsilons: 0"),
        ("epsilon", -1.0, "privacy.epsilons: -1.0"),
        ("delta", 0, "privacy.delta: 0"),
        ("delta", 1.0, "privacy.delta: 1.0"),
        ("delta", -1e-5, "privacy.delta: -1e-05"),
        ("max_grad_norm", 0, "privacy.max_grad_norm: 0"),
        ("max_grad_norm", -2.0, "privacy.max_grad_norm: -2.0"),
        ("max_grad_norm", math.inf, "privacy.max_grad_norm: inf"),
        ("accountant", "gdp2", "privacy.accountant: 'gdp2'"),
    ],
)
def test_bad_privacy_settings(key, value, fragment):
    settings = {"epsilon": 1.0, key: value}
    with pytest.raises(ConfigError, match="allowed") as err:
        TrainConfig.from_row({**_row(1.0), "privacy": settings})
    assert fragment in str(err.value)


def test_unknown_privacy_key():
    with pytest.raises(ConfigError, match="clip"):
        DPConfig.from_mapping({"epsilon": 1.0, "clip": 2})


def test_calibration_follows_opacus_sampling_and_stays_within_budget():
    cal = calibrate(DPConfig(1.0, delta=1e-5), records=1000, batch_size=64, epochs=20)
    assert cal.sample_rate == 1 / 16 and cal.steps == 320  # ceil(1000 / 64) = 16 per epoch
    assert cal.expected_batch_size(1000) == 62.5
    assert 0.99 <= cal.epsilon <= 1.0  # Opacus's search: within 0.01 below the target
    looser = calibrate(DPConfig(8.0, delta=1e-5), records=1000, batch_size=64, epochs=20)
    assert looser.noise_multiplier < cal.noise_multiplier


def test_epsilon_lower_bound_hand_case():
    """All 1000 members flagged, no non-member flagged, delta = 0: with c = 0.95,
    TPR_lo = 0.025 ** (1/1000) and FPR_hi = 1 - 0.025 ** (1/1000); both terms equal
    log(TPR_lo / FPR_hi) = log(0.996318 / 0.003682) = 5.6006."""
    low = 0.025 ** (1 / 1000)
    expected = math.log(low / (1 - low))
    bound = epsilon_lower_bound(tp=1000, fn=0, fp=0, tn=1000, delta=0.0)
    assert bound[0] == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(5.6006, abs=1e-4)
    # A test no better than chance bounds nothing.
    assert epsilon_lower_bound(tp=500, fn=500, fp=500, tn=500, delta=1e-5)[0] == 0.0
    # delta eats the bound: TPR_lo - delta <= 0.
    assert epsilon_lower_bound(tp=1, fn=999, fp=0, tn=1000, delta=0.5)[0] == 0.0


def test_audit_of_randomised_response_stays_below_its_epsilon():
    """Randomised response with epsilon = 1 flags a member with probability e / (1 + e) and
    a non-member with 1 / (1 + e): exactly 1-DP. The audit must find a bound in (0, 1]."""
    rng = np.random.default_rng(0)
    member = np.repeat([True, False], 20000)
    keep_truth = rng.random(member.size) < math.e / (1 + math.e)
    scores = np.where(keep_truth, member, ~member).astype(float)
    result = audit_scores(scores=scores, member=member, delta=1e-5, seed=1)
    assert 0.8 < result.epsilon_lower <= 1.0
    assert result.tp + result.fn == 10000 and result.fp + result.tn == 10000
    no_signal = audit_scores(scores=rng.random(member.size), member=member, delta=1e-5, seed=1)
    assert no_signal.epsilon_lower < 0.2


def test_audit_bad_input():
    with pytest.raises(ConfigError, match="at least 2 of each"):
        audit_scores(scores=np.zeros(3), member=np.array([True, False, False]), delta=1e-5, seed=0)
    with pytest.raises(ConfigError, match="delta"):
        audit_scores(scores=np.zeros(4), member=np.array([1, 1, 0, 0], bool), delta=0.0, seed=0)


def test_canaries_are_mislabelled_distinct_and_seeded():
    from leakbench.privacy.canaries import make_canaries

    y = np.arange(200) % 5
    candidates = np.arange(50, 200)
    canaries = make_canaries(y=y, num_classes=5, candidates=candidates, count=100, seed=3)
    assert np.unique(canaries.rows).size == 100 and set(canaries.rows) <= set(candidates)
    assert (canaries.labels != y[canaries.rows]).all()
    assert set(canaries.labels) <= set(range(5))
    assert 30 < canaries.inserted.sum() < 70  # a fair coin each
    again = make_canaries(y=y, num_classes=5, candidates=candidates, count=100, seed=3)
    for key, value in canaries.arrays().items():
        assert np.array_equal(again.arrays()[key], value), key
    with pytest.raises(
        ConfigError, match=r"privacy\.canaries: 151 is not allowed; allowed: at most"
    ):
        make_canaries(y=y, num_classes=5, candidates=candidates, count=151, seed=3)
