"""The batch samplers of the training loop: shuffled epochs and Poisson sampling.

A sampler yields rounds, each an iterator of batches; a batch holds model k's pool rows
in row k. Every draw comes from model k's own generator, so model k's batches depend on
its seed alone, whichever stack it trains in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from leakbench.training.batches import batch_bounds, epoch_order
from leakbench.training.private import poisson_batches


@dataclass(frozen=True)
class Batch:
    """One step's records.

    Attributes:
        index: int64 ``[K, B]``, model k's pool rows.
        weight: float32 ``[K, B]`` per-record loss weights (1 for a sampled record, 0 for
            padding), or None for each model's mean loss over its B records.
    """

    index: torch.Tensor
    weight: torch.Tensor | None


class Sampler(Protocol):
    """Yields the rounds of training, each an iterator of batches."""

    def rounds(
        self, rows: torch.Tensor, generators: Sequence[torch.Generator]
    ) -> Iterator[Iterator[Batch]]:
        """Rounds over model k's rows ``rows[k]``, drawing from ``generators[k]``."""
        ...


@dataclass(frozen=True)
class EpochSampler:
    """Ordinary training: each epoch (a round) visits model k's rows in a fresh random
    order (:func:`~leakbench.training.batches.epoch_order`), in batches of ``batch_size``;
    the last batch keeps the remainder."""

    epochs: int
    batch_size: int

    def rounds(
        self, rows: torch.Tensor, generators: Sequence[torch.Generator]
    ) -> Iterator[Iterator[Batch]]:
        for _ in range(self.epochs):
            yield self._epoch(rows, generators)

    def _epoch(self, rows: torch.Tensor, generators: Sequence[torch.Generator]) -> Iterator[Batch]:
        order = torch.stack([epoch_order(r, g) for r, g in zip(rows, generators, strict=True)])
        for start, stop in batch_bounds(rows.shape[1], self.batch_size):
            yield Batch(order[:, start:stop], None)


@dataclass(frozen=True)
class PoissonSampler:
    """DP-SGD: ``steps`` Poisson batches (each record in with probability ``rate``,
    :func:`~leakbench.training.private.poisson_batches`), ``steps_per_round`` to a round."""

    rate: float
    steps: int
    steps_per_round: int

    def rounds(
        self, rows: torch.Tensor, generators: Sequence[torch.Generator]
    ) -> Iterator[Iterator[Batch]]:
        for first in range(0, self.steps, self.steps_per_round):
            yield self._round(rows, generators, min(self.steps_per_round, self.steps - first))

    def _round(
        self, rows: torch.Tensor, generators: Sequence[torch.Generator], steps: int
    ) -> Iterator[Batch]:
        for _ in range(steps):
            yield Batch(*poisson_batches(rows, generators, self.rate))
