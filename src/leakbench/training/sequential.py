"""The plain reference: train the same K models one at a time with ordinary modules.

Same seeds, same batch order, same optimiser as :func:`~.stacked.train_stacked`; it exists to
show that stacking changes nothing but speed (tests) and to measure that speed (benchmarks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from leakbench.training.config import TrainConfig
from leakbench.training.device import get_device
from leakbench.training.stacked import (
    StackedModels,
    _check_inputs,
    epoch_batches,
    init_model,
    make_optimizer,
    member_rows,
)


def train_sequential(
    *,
    arch: str,
    arch_params: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    keep: np.ndarray,
    seeds: Sequence[int],
    config: TrainConfig,
) -> StackedModels:
    """Train one model per row of ``keep``, one after the other."""
    rows = member_rows(keep)
    _check_inputs(x, y, keep, seeds)
    device = get_device()
    shell = StackedModels(arch, dict(arch_params), tuple(x.shape[1:]), num_classes,
                          tuple(int(s) for s in seeds), {})
    x_t = torch.as_tensor(x, device=device)
    y_t = torch.as_tensor(y, device=device)
    trained = []
    for k, seed in enumerate(shell.seeds):
        model = init_model(shell, seed).to(device)
        optimizer = make_optimizer(list(model.parameters()), config)
        generator = torch.Generator().manual_seed(seed)
        mine = torch.as_tensor(rows[k])
        for _ in range(config.epochs):
            order = mine[torch.randperm(len(mine), generator=generator)].to(device)
            for idx in epoch_batches(order, config.batch_size):
                loss = F.cross_entropy(model(x_t[idx]), y_t[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        trained.append({k: v.detach().cpu() for k, v in model.named_parameters()})
    shell.params = {name: torch.stack([t[name] for t in trained]) for name in trained[0]}
    return shell
