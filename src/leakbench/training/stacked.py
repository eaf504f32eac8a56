"""Train K models of one architecture at once, as one stacked computation.

Model k trains only on the pool rows where ``keep[k]`` is true (a membership mask like
the ``keep`` array of Carlini et al. 2022's LiRA code), from its own seed: the seed fixes its
initialisation (:func:`~leakbench.training.ensemble.seeded_model`) and its batch order (a
``torch.Generator`` seeded with it draws each epoch's permutation). Every parameter
carries a leading model axis, and :class:`~leakbench.training.stacked_net.StackedNet`
runs the K forward passes as batched matmuls and grouped convolutions.

The loss is the sum over models of each model's mean cross-entropy on its batch,
``L = sum_k (1/B) sum_i CE(f_k(x_ki), y_ki)``; model k's parameters enter only its own
term, so its gradient is exactly the one it would get alone. Adam and SGD update every
element on its own, so one optimiser over the stacked tensors takes the same steps as K
independent optimisers, and the result equals :func:`~.sequential.train_sequential` up to
floating-point rounding (batched and single matmuls sum in different orders).

With ``config.privacy`` set, the same stacked computation runs DP-SGD instead
(:mod:`~leakbench.training.private`): Poisson batches, per-sample clipping inside the
hand-written backward pass, per-model Gaussian noise, and the noise calibration recorded
with the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from leakbench.privacy import calibrate
from leakbench.training.batches import batch_bounds, epoch_order, member_rows
from leakbench.training.config import TrainConfig
from leakbench.training.device import resolve_device
from leakbench.training.ensemble import StackedModels, seeded_model
from leakbench.training.optim import make_optimizer
from leakbench.training.private import private_epochs
from leakbench.training.stacked_net import StackedNet, cross_entropy_grad


def train_stacked(
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
    """Train one model per row of ``keep``, all K in one stacked computation.

    Args:
        arch: architecture name (:data:`leakbench.models.ARCHITECTURES`).
        arch_params: its parameters, e.g. ``{"hidden": [64, 64]}``.
        x: the pool's inputs, float32 ``[N, *input_shape]``.
        y: the pool's labels, int ``[N]`` in ``[0, num_classes)``.
        num_classes: number of classes.
        keep: bool ``[K, N]``; model k trains on ``x[keep[k]]``. Every row must hold the
            same number of records.
        seeds: one seed per model.
        config: epochs, batch size, optimiser.

    Returns:
        The K trained models (parameters on the CPU).

    Raises:
        UnknownNameError: for an unknown architecture.
        ConfigError: for bad architecture parameters, unequal member counts, a seed count
            that differs from K, or labels outside ``[0, num_classes)``.
    """
    rows = member_rows(x=x, y=y, num_classes=num_classes, keep=keep, seeds=seeds)
    seeds = tuple(int(s) for s in seeds)
    input_shape = tuple(np.shape(x)[1:])
    count, n = rows.shape
    device = resolve_device()

    def fresh(seed: int) -> torch.nn.Sequential:
        return seeded_model(
            arch=arch,
            arch_params=arch_params,
            input_shape=input_shape,
            num_classes=num_classes,
            seed=seed,
        )

    template = fresh(seeds[0])
    net = StackedNet(template, count)
    flat = torch.empty(net.size)
    for k, seed in enumerate(seeds):  # slot k starts as model k would alone
        model = template if k == 0 else fresh(seed)
        for name, view in net.model_views(flat, k).items():
            view.copy_(model.get_parameter(name).detach())
    flat = flat.to(device)
    flat.grad = torch.empty_like(flat)  # backward overwrites every element each step
    job = {
        "net": net,
        "flat": flat,
        "optimizer": make_optimizer([flat], config),
        "x": torch.as_tensor(np.asarray(x, dtype=np.float32)).to(device),
        "y": torch.as_tensor(np.asarray(y, dtype=np.int64)).to(device),
        "rows": torch.from_numpy(rows),
        "generators": [torch.Generator().manual_seed(seed) for seed in seeds],
        "input_shape": input_shape,
    }
    calibration = None
    if config.privacy is None:
        _epochs(**job, config=config)
    else:
        calibration = calibrate(
            config.privacy, records=n, batch_size=config.batch_size, epochs=config.epochs
        )
        private_epochs(**job, calibration=calibration)
    return StackedModels(
        arch=arch,
        arch_params=dict(arch_params),
        input_shape=input_shape,
        num_classes=num_classes,
        seeds=seeds,
        params=net.unpack(flat.cpu()),  # views into one buffer, no copy
        privacy=None if calibration is None else calibration.as_dict(),
    )


def _epochs(
    *,
    net: StackedNet,
    flat: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    rows: torch.Tensor,
    generators: Sequence[torch.Generator],
    input_shape: tuple[int, ...],
    config: TrainConfig,
) -> None:
    """Ordinary training: each epoch, model k's rows in its own random order, in batches."""
    count, n = rows.shape
    weights, grads = net.views(flat), net.views(flat.grad)
    for _ in range(config.epochs):
        order = torch.stack([epoch_order(r, g) for r, g in zip(rows, generators, strict=True)])
        order = order.to(x.device)
        for start, stop in batch_bounds(n, config.batch_size):
            idx = order[:, start:stop].reshape(-1)
            xb = x.index_select(0, idx).view(count, stop - start, *input_shape)
            tape: list[Any] = []
            logits = net.forward(weights, xb, shared=False, tape=tape)
            net.backward(weights, grads, tape, cross_entropy_grad(logits, y.index_select(0, idx)))
            optimizer.step()
