"""The trainers' optimiser and schedule: the same bytes as torch.optim's, without its
compiler stack."""

from __future__ import annotations

import pytest
import torch
from conftest import loaded_modules

from leakbench.training.config import TrainConfig
from leakbench.training.optim import (
    CosineSchedule,
    FusedAdam,
    cosine_factor,
    make_optimizer,
    make_schedule,
)


def _params(seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    shapes = [(4, 3, 5), (4, 5), (7,)]
    return [torch.randn(s, generator=generator).requires_grad_(True) for s in shapes]


def _set_grads(params: list[torch.Tensor], step: int, *, skip_last: bool) -> None:
    generator = torch.Generator().manual_seed(100 + step)
    for i, p in enumerate(params):
        if skip_last and i == len(params) - 1:
            p.grad = None  # a parameter whose first gradient comes later
        else:
            p.grad = torch.randn(p.shape, generator=generator)


@pytest.mark.parametrize("weight_decay", [0.0, 5e-4])
def test_fused_adam_and_cosine_schedule_equal_torch_optim_bytes(weight_decay):
    ours, theirs = _params(0), _params(0)
    adam = FusedAdam(ours, lr=0.01, weight_decay=weight_decay)
    reference = torch.optim.Adam(theirs, lr=0.01, weight_decay=weight_decay, fused=True)
    steps = 9
    schedule = CosineSchedule(adam, steps=steps)
    reference_schedule = torch.optim.lr_scheduler.LambdaLR(
        reference, lambda t: cosine_factor(min(t, steps), steps)
    )
    for step in range(steps + 2):  # past the last scheduled step: rate 0
        for params in (ours, theirs):
            _set_grads(params, step, skip_last=step < 3)
        adam.step()
        reference.step()
        schedule.step()
        reference_schedule.step()
        assert adam.param_groups[0]["lr"] == reference.param_groups[0]["lr"]
        for a, b in zip(ours, theirs, strict=True):
            assert torch.equal(a, b), step
    assert adam.param_groups[0]["lr"] == 0.0


def test_cosine_schedule_sets_the_closed_form_rates():
    """lr_t = lr (1 + cos(pi min(t, T) / T)) / 2 after step t: T = 4 gives 1, 0.8536,
    0.5, 0.1464, 0 times lr (cos(pi/4) = 0.7071)."""
    adam = FusedAdam([torch.zeros(1, requires_grad=True)], lr=2.0, weight_decay=0.0)
    schedule = CosineSchedule(adam, steps=4)
    rates = [adam.param_groups[0]["lr"]]
    for _ in range(5):
        schedule.step()
        rates.append(adam.param_groups[0]["lr"])
    assert rates == pytest.approx([2.0, 1.7071068, 1.0, 0.2928932, 0.0, 0.0])


def test_fused_adam_first_step_moves_each_element_by_lr():
    """At t = 1 Adam's bias-corrected step is lr * g / (|g| + eps): each element moves by
    lr against its gradient's sign, whatever the gradient's size."""
    p = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    p.grad = torch.tensor([10.0, -0.5, 1e-3])
    FusedAdam([p], lr=0.1, weight_decay=0.0).step()
    expected = torch.tensor([0.9, -1.9, 3.0 - 0.1 * 1e-3 / (1e-3 + 1e-8)])
    assert torch.allclose(p.detach(), expected, atol=1e-6)


def test_make_optimizer_and_schedule_follow_the_config():
    params = [torch.zeros(2, requires_grad=True)]
    adam = make_optimizer(params, TrainConfig(epochs=1, batch_size=1, lr=0.5, optimizer="adam"))
    assert isinstance(adam, FusedAdam) and adam.param_groups[0]["lr"] == 0.5
    sgd = make_optimizer(
        params, TrainConfig(epochs=1, batch_size=1, lr=0.5, optimizer="sgd", momentum=0.9)
    )
    assert isinstance(sgd, torch.optim.SGD)
    constant = TrainConfig(epochs=1, batch_size=1, lr=0.5)
    assert make_schedule(adam, constant, steps=3) is None
    cosine = TrainConfig(epochs=1, batch_size=1, lr=0.5, schedule="cosine")
    assert isinstance(make_schedule(sgd, cosine, steps=3), CosineSchedule)


def test_adam_training_loads_no_compiler_stack():
    """torch.optim's optimisers import torch._dynamo on first use (0.9 s of every training
    job's start); a stacked and a one-by-one Adam run, cosine schedule included, must not."""
    code = """
import numpy as np
from leakbench.training import TrainConfig, train_sequential, train_stacked
x = np.random.default_rng(0).standard_normal((64, 5)).astype(np.float32)
y = np.arange(64) % 2
keep = np.ones((2, 64), dtype=bool)
config = TrainConfig(epochs=2, batch_size=16, lr=1e-3, schedule="cosine")
for train in (train_stacked, train_sequential):
    train(arch="mlp", arch_params={"hidden": [8]}, x=x, y=y, num_classes=2, keep=keep,
          seeds=[1, 2], config=config)
"""
    assert loaded_modules(code, ("torch._dynamo", "torch._inductor")) == set()
