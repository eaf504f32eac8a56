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
own training set. The steps run in the one training loop (:mod:`~leakbench.training.loop`)
with a :class:`~leakbench.training.samplers.PoissonSampler` and a :class:`PrivateStep`,
on either engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from leakbench.privacy import Calibration


def poisson_batches(
    rows: torch.Tensor,
    generators: Sequence[torch.Generator],
    rate: float,
    present: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One Poisson-sampled batch per model, padded to a common size.

    Args:
        rows: int64 ``[K, n]``, model k's training rows.
        generators: model k's CPU generator; it draws the n uniforms of model k's batch.
        rate: q, each record's probability of being in the batch.
        present: bool ``[K, n]``, or None for all true: a record marked absent still
            draws its uniform (so every other record's draws, and the noise after them,
            are those of the run with it present) but is never sampled, so it enters
            the batch at most as padding of weight 0: the add/remove neighbour without
            it, under the same q, steps and scale.

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
    if present is not None:
        picked &= present
    sizes = picked.sum(dim=1)
    size = max(1, int(sizes.max()))
    # Sampled positions first (stable, so ascending), then the rest.
    order = torch.sort(picked.to(torch.int8), dim=1, descending=True, stable=True).indices
    weight = (torch.arange(size)[None, :] < sizes[:, None]).to(torch.float32)
    index = rows.gather(1, order[:, :size])
    return index, weight


class _Unpacks(Protocol):
    count: int
    size: int

    def unpack(self, flat: torch.Tensor) -> Mapping[str, torch.Tensor]: ...


def add_noise(
    net: _Unpacks,
    grad: torch.Tensor,
    generators: Sequence[torch.Generator],
    std: float,
    buffer: torch.Tensor | None = None,
) -> None:
    """Add ``N(0, std^2)`` to every element of a flat gradient buffer.

    Model k's noise comes from its own generator, drawn parameter by parameter in the
    single module's order straight into a CPU buffer laid out like ``grad`` (pass
    ``buffer``, ``net.size`` floats, to reuse it across steps). ``net`` is an engine
    (:mod:`~leakbench.training.engine`); model k's slice of each parameter is contiguous in
    either engine's layout, so both draw the same noise for model k.
    """
    noise = torch.empty(net.size) if buffer is None else buffer
    for view in net.unpack(noise).values():
        for k, generator in enumerate(generators):
            part = view[k]
            torch.randn(part.shape, generator=generator, out=part)
    grad.add_(noise.to(grad.device), alpha=std)


@dataclass(frozen=True)
class PrivateStep:
    """DP-SGD's changes to a step: clip each record's gradient to ``max_norm``, add
    ``N(0, std^2)`` per parameter from model k's generator, multiply by ``scale``.

    Attributes:
        max_norm: C.
        std: ``sigma * C``.
        scale: ``1 / (q n)``, the inverse expected batch size.
    """

    max_norm: float
    std: float
    scale: float

    @classmethod
    def from_calibration(cls, calibration: Calibration, records: int) -> PrivateStep:
        """The step of a model with ``records`` training records under ``calibration``."""
        return cls(
            max_norm=calibration.max_grad_norm,
            std=calibration.noise_multiplier * calibration.max_grad_norm,
            scale=1.0 / calibration.expected_batch_size(records),
        )
