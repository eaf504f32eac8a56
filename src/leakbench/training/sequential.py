"""The plain reference trainer: the same K models, one at a time, with ordinary modules.

Same seeds, same initialisation, same batch order, same loss and optimiser as
:func:`~leakbench.training.stacked.train_stacked`. It exists to show that stacking
changes nothing but speed (tests compare the two) and to measure that speed (benchmarks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from leakbench.models import get_architecture
from leakbench.training.augment import Augmenter, check_image_inputs
from leakbench.training.batches import batch_bounds, epoch_order, member_rows
from leakbench.training.config import TrainConfig
from leakbench.training.device import resolve_device
from leakbench.training.ensemble import INPUT_DTYPES, StackedModels, seeded_model
from leakbench.training.optim import make_optimizer, make_schedule
from leakbench.training.workers import run_groups, worker_count


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
    workers: int | None = None,
) -> StackedModels:
    """Train one model per row of ``keep``, one after the other.

    Takes and checks the same arguments as :func:`~leakbench.training.stacked.train_stacked`
    and returns the same (up to floating-point rounding) models. ``workers`` as there:
    single-thread workers, each training its group of the models one after the other.
    """
    rows = member_rows(x=x, y=y, num_classes=num_classes, keep=keep, seeds=seeds)
    check_image_inputs(augment=config.augment, input_shape=np.shape(x)[1:], key="augment")
    seeds = tuple(int(s) for s in seeds)
    input_shape = tuple(np.shape(x)[1:])
    device = resolve_device()
    dtype = INPUT_DTYPES[get_architecture(arch).inputs]
    x_t = torch.as_tensor(np.asarray(x, dtype=dtype)).to(device)
    y_t = torch.as_tensor(np.asarray(y, dtype=np.int64)).to(device)
    count = len(rows)
    chosen = worker_count(workers, count, device)
    if chosen > 1 and _draws_from_global_rng(arch, arch_params, input_shape, num_classes):
        chosen = 1  # workers would interleave their draws from the one global generator

    def train_one(own_rows: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
        model = seeded_model(
            arch=arch,
            arch_params=arch_params,
            input_shape=input_shape,
            num_classes=num_classes,
            seed=seed,
        ).to(device)
        optimizer = make_optimizer(model.parameters(), config)
        steps = config.epochs * len(batch_bounds(len(own_rows), config.batch_size))
        schedule = make_schedule(optimizer, config, steps=steps)
        generator = torch.Generator().manual_seed(seed)
        augment = Augmenter.for_seeds(config.augment, [seed])
        for _ in range(config.epochs):
            order = epoch_order(own_rows, generator).to(device)
            for start, stop in batch_bounds(len(order), config.batch_size):
                idx = order[start:stop]
                xb = x_t.index_select(0, idx)
                if augment is not None:
                    xb = augment(xb[None], torch.ones(1, len(idx), dtype=torch.bool))[0]
                loss = F.cross_entropy(model(xb), y_t.index_select(0, idx))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if schedule is not None:
                    schedule.step()
        return {name: p.detach().cpu() for name, p in model.named_parameters()}

    def train_group(part: slice) -> list[dict[str, torch.Tensor]]:
        pairs = zip(map(torch.from_numpy, rows[part]), seeds[part], strict=True)
        return [train_one(own_rows, seed) for own_rows, seed in pairs]

    trained = [model for group in run_groups(count, chosen, train_group) for model in group]
    return StackedModels(
        arch=arch,
        arch_params=dict(arch_params),
        input_shape=input_shape,
        num_classes=num_classes,
        seeds=seeds,
        params={name: torch.stack([t[name] for t in trained]) for name in trained[0]},
    )


def _draws_from_global_rng(
    arch: str, arch_params: dict[str, Any], input_shape: tuple[int, ...], num_classes: int
) -> bool:
    """Whether the model draws from torch's global generator while training: ``nn.Dropout``
    with p > 0 does, and threads share that generator, so the order in which two workers'
    draws interleave, and with it the bytes, would change from run to run."""
    probe = seeded_model(
        arch=arch, arch_params=arch_params, input_shape=input_shape, num_classes=num_classes, seed=0
    )
    return any(isinstance(m, nn.Dropout) and m.p > 0 for m in probe.modules())
