"""The optimiser both trainers use, built from a :class:`TrainConfig`."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from leakbench.training.config import TrainConfig


def make_optimizer(params: Iterable[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    """Adam or SGD with the config's learning rate and coupled L2 ``weight_decay``.

    Adam uses torch's fused kernel (one pass per tensor, on CPU and CUDA alike), measured
    the fastest for the stacked trainer. Both optimisers update every element on its own,
    so stepping K stacked models equals stepping each model alone.
    """
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
