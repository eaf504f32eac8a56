"""The optimiser both trainers use, and its learning-rate schedule, built from a
:class:`TrainConfig`.

Adam, the optimiser of every short job, is :class:`FusedAdam` rather than
``torch.optim.Adam``: the same fused kernel, without torch.optim's compiler hooks, whose
first use imports ``torch._dynamo`` and the inductor config, 0.86 s of every training
job's start on this machine (``tests/test_optim.py`` checks that Adam training loads
neither). SGD, used by the paper-scale ResNets (hours long), stays ``torch.optim.SGD``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import torch

from leakbench.training.config import TrainConfig


class Optimizer(Protocol):
    """What the training loops need of an optimiser: its groups' learning rates (set by
    :class:`CosineSchedule`) and a step."""

    param_groups: list[dict[str, Any]]

    def step(self) -> Any: ...

    def zero_grad(self) -> None: ...


class FusedAdam:
    """Adam (Kingma and Ba 2015, Algorithm 1) with coupled L2 weight decay, one fused pass
    over each tensor: ``torch._fused_adam_``, the kernel of ``torch.optim.Adam(fused=True)``,
    called as that optimiser calls it (state created at a parameter's first gradient, a
    float32 step count per parameter, betas (0.9, 0.999), eps 1e-8), so the two give the
    same bytes (``tests/test_optim.py`` checks it step by step).

    With gradient g_t, step t and moments m, v (zero at t = 0), one step is
    ``g_t += wd * theta``; ``m = b1 m + (1 - b1) g_t``; ``v = b2 v + (1 - b2) g_t^2``;
    ``theta -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.
    """

    betas = (0.9, 0.999)
    eps = 1e-8

    def __init__(self, params: Iterable[torch.Tensor], *, lr: float, weight_decay: float) -> None:
        self.params = list(params)
        self.param_groups = [{"lr": lr}]
        self.weight_decay = weight_decay
        self.state: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def step(self) -> None:
        """One Adam step on every parameter that has a gradient."""
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        for i in live:
            if i not in self.state:
                p = self.params[i]
                count = torch.zeros((), dtype=torch.float32, device=p.device)
                moments = torch.zeros_like(p, memory_format=torch.preserve_format)
                self.state[i] = (count, moments, torch.zeros_like(moments))
        steps = [self.state[i][0] for i in live]
        with torch.no_grad():
            torch._foreach_add_(steps, 1)
            torch._fused_adam_(
                [self.params[i] for i in live],
                [self.params[i].grad for i in live],
                [self.state[i][1] for i in live],
                [self.state[i][2] for i in live],
                [],
                steps,
                amsgrad=False,
                lr=self.param_groups[0]["lr"],
                beta1=self.betas[0],
                beta2=self.betas[1],
                weight_decay=self.weight_decay,
                eps=self.eps,
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (the next backward pass writes it anew)."""
        for p in self.params:
            p.grad = None


def make_optimizer(params: Iterable[torch.Tensor], config: TrainConfig) -> Optimizer:
    """Adam (:class:`FusedAdam`) or SGD (with the config's momentum) with the config's
    learning rate and coupled L2 ``weight_decay``.

    Both optimisers update every element on its own, so stepping K stacked models equals
    stepping each model alone.
    """
    if config.optimizer == "adam":
        return FusedAdam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )


def cosine_factor(step: int, steps: int) -> float:
    """``(1 + cos(pi step / steps)) / 2``: the cosine schedule's factor on the learning
    rate for the step after ``step`` of ``steps`` (Loshchilov and Hutter 2017, eq. 5)."""
    return 0.5 * (1.0 + math.cos(math.pi * step / steps))


class CosineSchedule:
    """Sets an optimiser's learning rate to ``lr * cosine_factor(min(t, steps), steps)``
    after its t-th step (``step()`` is called once after each optimiser step), as
    ``torch.optim.lr_scheduler.LambdaLR`` with that factor does: the same float product."""

    def __init__(self, optimizer: Optimizer, *, steps: int) -> None:
        self.optimizer = optimizer
        self.steps = steps
        self.base = [group["lr"] for group in optimizer.param_groups]
        self.taken = 0

    def step(self) -> None:
        """Count one optimiser step and set the rate of the next."""
        self.taken += 1
        factor = cosine_factor(min(self.taken, self.steps), self.steps)
        for group, base in zip(self.optimizer.param_groups, self.base, strict=True):
            group["lr"] = base * factor


def make_schedule(
    optimizer: Optimizer, config: TrainConfig, *, steps: int
) -> CosineSchedule | None:
    """The learning-rate schedule over ``steps`` optimiser steps, stepped after each
    optimiser step; None for a constant rate (the optimiser untouched).

    One schedule for every parameter: models of different step counts in one stack take
    :func:`model_rates` instead.
    """
    if config.schedule == "constant":
        return None
    return CosineSchedule(optimizer, steps=steps)


def model_rates(
    config: TrainConfig, *, steps: Sequence[int]
) -> Callable[[int], torch.Tensor] | None:
    """Each model's own learning-rate factor, for a stack whose models take different
    numbers of steps ``steps[k]`` = s_k (a ragged keep matrix); None for a constant rate.

    The returned function gives, at stack step t, the float64 [K] factors
    ``cosine_factor(min(t, s_k), s_k)``: model k's cosine schedule over its own s_k steps,
    ending at 0 after its last step exactly as it would alone
    (:func:`~leakbench.training.sequential.train_sequential`). One optimiser steps the
    whole stack at its base rate; the loop scales model k's update by its factor. For SGD
    (with momentum and coupled weight decay) and Adam the update is proportional to the
    learning rate with everything else fixed, so this equals stepping model k at
    ``lr * factor``, up to rounding.
    """
    if config.schedule == "constant":
        return None
    counts = [int(s) for s in steps]

    def rates(step: int) -> torch.Tensor:
        return torch.tensor([cosine_factor(min(step, s), s) for s in counts], dtype=torch.float64)

    return rates
