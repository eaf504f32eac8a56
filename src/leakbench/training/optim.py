"""The optimiser both trainers use, and its learning-rate schedule, built from a
:class:`TrainConfig`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import torch

from leakbench.training.config import TrainConfig


def make_optimizer(params: Iterable[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    """Adam or SGD (with the config's momentum) with the config's learning rate and
    coupled L2 ``weight_decay``.

    Adam uses torch's fused kernel (one pass per tensor, on CPU and CUDA alike), measured
    the fastest for the stacked trainer. Both optimisers update every element on its own,
    so stepping K stacked models equals stepping each model alone.
    """
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    return torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )


def cosine_factor(step: int, steps: int) -> float:
    """``(1 + cos(pi step / steps)) / 2``: the cosine schedule's factor on the learning
    rate for the step after ``step`` of ``steps`` (Loshchilov and Hutter 2017, eq. 5)."""
    return 0.5 * (1.0 + math.cos(math.pi * step / steps))


def make_schedule(
    optimizer: torch.optim.Optimizer, config: TrainConfig, *, steps: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The learning-rate schedule over ``steps`` optimiser steps, stepped after each
    optimiser step; None for a constant rate (the optimiser untouched).

    One schedule for every parameter: models of different step counts in one stack take
    :func:`model_rates` instead.
    """
    if config.schedule == "constant":
        return None
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: cosine_factor(min(step, steps), steps)
    )


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
