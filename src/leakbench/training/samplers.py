"""The batch samplers of the training loop: shuffled epochs and Poisson sampling.

A sampler yields rounds, each an iterator of batches; a batch holds model k's pool rows
in row k. Every draw comes from model k's own generator, so model k's batches depend on
its seed alone, whichever stack it trains in.

Models with different numbers of records (the LiRA keep matrix of Carlini et al. 2022,
Sec. VI-A: each record in exactly half the models, so the models' counts differ) train
with :class:`RaggedEpochSampler`: model k runs the very steps it would run alone, and a
stack step is every model's next step.
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
        weight: float32 ``[K, B]`` per-record loss weights (0 for padding), or None for
            each model's mean loss over its B records.
        active: bool ``[K]``, the models that take this step, or None for all; the loop
            leaves the parameters of the others as they were.
    """

    index: torch.Tensor
    weight: torch.Tensor | None
    active: torch.Tensor | None = None


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
class RaggedEpochSampler:
    """Ordinary training of models with different record counts ``counts[k]`` = n_k.

    Model k's own training is exactly the :class:`EpochSampler`'s for it alone: each
    epoch a fresh permutation of its n_k rows (:func:`~leakbench.training.batches.
    epoch_order`, drawn from its generator when its epoch starts), cut into batches of
    ``batch_size`` with the remainder last, ``epochs`` epochs back to back: s_k =
    ``epochs * ceil(n_k / batch_size)`` steps. Stack step t is step t of every model
    with t < s_k; a model past its last step is inactive (its batch is padding and the
    loop keeps its parameters). A batch is as wide as the widest model's batch at that
    step; model k's real records carry loss weight 1 / b_k (its mean over its b_k
    records, as alone) and its padding (its first row repeated) weight 0. A round is
    ``ceil(max n_k / batch_size)`` steps, an epoch of the largest model, so there are
    ``epochs`` rounds in all.
    """

    epochs: int
    batch_size: int
    counts: tuple[int, ...]

    @property
    def steps(self) -> tuple[int, ...]:
        """s_k, the steps model k takes: ``epochs * ceil(n_k / batch_size)``."""
        return tuple(self.epochs * len(batch_bounds(n, self.batch_size)) for n in self.counts)

    def rounds(
        self, rows: torch.Tensor, generators: Sequence[torch.Generator]
    ) -> Iterator[Iterator[Batch]]:
        streams = [
            self._stream(r[:n], g) for r, n, g in zip(rows, self.counts, generators, strict=True)
        ]
        per_round = len(batch_bounds(max(self.counts), self.batch_size))
        for _ in range(self.epochs):
            yield self._round(rows, streams, per_round)

    def _stream(self, rows: torch.Tensor, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Model k's batches, epoch after epoch, each epoch drawn when it starts."""
        for _ in range(self.epochs):
            order = epoch_order(rows, generator)
            for start, stop in batch_bounds(len(order), self.batch_size):
                yield order[start:stop]

    def _round(
        self, rows: torch.Tensor, streams: list[Iterator[torch.Tensor]], steps: int
    ) -> Iterator[Batch]:
        for _ in range(steps):
            parts = [next(stream, None) for stream in streams]
            width = max(len(p) for p in parts if p is not None)
            index = rows[:, :1].repeat(1, width)
            weight = torch.zeros(len(parts), width)
            for k, part in enumerate(parts):
                if part is not None:
                    index[k, : len(part)] = part
                    weight[k, : len(part)] = 1.0 / len(part)
            active = torch.tensor([p is not None for p in parts])
            yield Batch(index, weight, active)


@dataclass(frozen=True)
class PoissonSampler:
    """DP-SGD: ``steps`` Poisson batches (each record in with probability ``rate``,
    :func:`~leakbench.training.private.poisson_batches`), ``steps_per_round`` to a round;
    ``present`` (bool ``[K, n]`` over ``rows``, or None) marks the records held absent."""

    rate: float
    steps: int
    steps_per_round: int
    present: torch.Tensor | None = None

    def rounds(
        self, rows: torch.Tensor, generators: Sequence[torch.Generator]
    ) -> Iterator[Iterator[Batch]]:
        for first in range(0, self.steps, self.steps_per_round):
            yield self._round(rows, generators, min(self.steps_per_round, self.steps - first))

    def _round(
        self, rows: torch.Tensor, generators: Sequence[torch.Generator], steps: int
    ) -> Iterator[Batch]:
        for _ in range(steps):
            yield Batch(*poisson_batches(rows, generators, self.rate, self.present))
