"""The optimiser both trainers use, and its learning-rate schedule, built from a
:class:`TrainConfig`."""

from __future__ import annotations

import math
from collections.abc import Iterable

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

    ``steps`` is the training's total: with models of different record counts in one
    stack, the longest model's (a shorter model then ends above the schedule's floor).
    """
    if config.schedule == "constant":
        return None
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: cosine_factor(min(step, steps), steps)
    )
