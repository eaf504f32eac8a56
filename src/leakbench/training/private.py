"""DP-SGD for K stacked models: Poisson batches, per-sample clipping, Gaussian noise.

Each step, model k (Abadi et al. 2016, Algorithm 1, with Poisson sampling as in Opacus):

1. draws its batch by keeping each of its n records with probability q, from its own
   generator (batch sizes vary; the stacked batch is padded to the largest with unsampled
   records of weight 0, which add nothing);
2. computes every record's own loss gradient and clips it to norm C
   (:mod:`~leakbench.training.clipping`), and sums the clipped gradients;
3. adds noise ``N(0, sigma^2 C^2 I)`` drawn from its own generator, divides by the expected
   batch size q n, and takes an optimiser step (Opacus's ``DPOptimizer`` with mean loss
   reduction does the same).

A model's batches and noise come from its seed alone, so model k trained in a stack of K
equals model k trained alone, up to floating-point rounding. (sigma, q, steps) come from
:func:`leakbench.privacy.calibrate`; each model is (epsilon, delta)-DP with respect to its
own training set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from leakbench.privacy import Calibration
from leakbench.training.stacked_net import StackedNet, cross_entropy_grad


def poisson_batches(
    rows: torch.Tensor, generators: Sequence[torch.Generator], rate: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One Poisson-sampled batch per model, padded to a common size.

    Args:
        rows: int64 ``[K, n]``, model k's training rows.
        generators: model k's CPU generator; it draws the n uniforms of model k's batch.
        rate: q, each record's probability of being in the batch.

    Returns:
        ``(index, weight)``: int64 ``[K, B]`` pool rows, model k's sampled rows first (in
        the order of ``rows[k]``), then unsampled ones as padding, and float32 ``[K, B]``
        with 1 for sampled records and 0 for padding; B >= 1.
    """
    count, n = rows.shape
    uniforms = torch.empty(count, n)
    for k, generator in enumerate(generators):
        torch.rand(n, generator=generator, out=uniforms[k])
    picked = uniforms < rate
    sizes = picked.sum(dim=1)
    size = max(1, int(sizes.max()))
    # Sampled positions first (stable, so ascending), then the rest.
    order = torch.sort(picked.to(torch.int8), dim=1, descending=True, stable=True).indices
    weight = (torch.arange(size)[None, :] < sizes[:, None]).to(torch.float32)
    index = rows.gather(1, order[:, :size])
    return index, weight


def add_noise(
    net: StackedNet,
    grad: torch.Tensor,
    generators: Sequence[torch.Generator],
    std: float,
    buffer: torch.Tensor | None = None,
) -> None:
    """Add ``N(0, std^2)`` to every element of a flat gradient buffer.

    Model k's noise comes from its own generator, drawn parameter by parameter in the
    single module's order straight into a CPU buffer laid out like ``grad`` (pass
    ``buffer``, ``net.size`` floats, to reuse it across steps).
    """
    noise = torch.empty(net.size) if buffer is None else buffer
    for view in net.views(noise).values():
        rows = view.shape[0] // net.count  # model k owns rows k*rows .. k*rows + rows - 1
        for k, generator in enumerate(generators):
            part = view[k * rows : (k + 1) * rows]
            torch.randn(part.shape, generator=generator, out=part)
    grad.add_(noise.to(grad.device), alpha=std)


def private_epochs(
    *,
    net: StackedNet,
    flat: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    rows: torch.Tensor,
    generators: Sequence[torch.Generator],
    input_shape: tuple[int, ...],
    calibration: Calibration,
) -> None:
    """Run ``calibration.steps`` DP-SGD steps on the stacked parameters in ``flat``."""
    count, n = rows.shape
    weights, grads = net.views(flat), net.views(flat.grad)
    std = calibration.noise_multiplier * calibration.max_grad_norm
    scale = 1.0 / calibration.expected_batch_size(n)
    buffer = torch.empty(net.size)
    for _ in range(calibration.steps):
        index, weight = poisson_batches(rows, generators, calibration.sample_rate)
        size = index.shape[1]
        idx = index.reshape(-1).to(x.device)
        xb = x.index_select(0, idx).view(count, size, *input_shape)
        tape: list[Any] = []
        logits = net.forward(weights, xb, shared=False, tape=tape)
        per_record = cross_entropy_grad(logits, y.index_select(0, idx), weight.to(x.device))
        net.backward(weights, grads, tape, per_record, max_norm=calibration.max_grad_norm)
        add_noise(net, flat.grad, generators, std, buffer)
        flat.grad.mul_(scale)
        optimizer.step()
