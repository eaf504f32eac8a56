"""Each model's training rows and its per-epoch batch order, shared by both trainers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from leakbench.errors import ConfigError


def member_rows(
    *, x: np.ndarray, y: np.ndarray, num_classes: int, keep: np.ndarray, seeds: Sequence[int]
) -> list[np.ndarray]:
    """Check the training inputs and return model k's pool rows (int64, ascending).

    The models may hold different numbers of records (the LiRA keep matrix gives each
    model its own count); :func:`padded_rows` stacks them for the trainer.

    Raises:
        ConfigError: naming the argument, if ``keep`` is not a boolean [K, N] mask over the
            N records of ``x`` and ``y``, if a row holds no record, if there is not one
            integer seed per model, or if a label is outside [0, num_classes).
    """
    keep = np.asarray(keep)
    if keep.ndim != 2 or keep.dtype != np.bool_ or keep.shape[0] < 1:
        raise ConfigError(
            f"keep: dtype {keep.dtype} shape {list(keep.shape)} is not allowed; "
            "allowed: a boolean mask [models >= 1, records]"
        )
    if not (len(x) == len(y) == keep.shape[1]):
        raise ConfigError(
            f"x, y, keep: {len(x)} inputs, {len(y)} labels and keep over {keep.shape[1]} "
            "records are not allowed; allowed: the same number of records"
        )
    counts = keep.sum(axis=1)
    if counts.min() < 1:
        raise ConfigError(
            f"keep: member counts {sorted(set(counts.tolist()))} are not allowed; "
            "allowed: at least one record for every model"
        )
    if len(seeds) != keep.shape[0]:
        raise ConfigError(
            f"seeds: {len(seeds)} seeds for {keep.shape[0]} models are not allowed; "
            "allowed: one integer seed per model (row of keep)"
        )
    for seed in seeds:
        is_int = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
        if not (is_int and 0 <= seed < 2**63):
            raise ConfigError(f"seeds: {seed!r} is not allowed; allowed: integers in [0, 2**63)")
    labels = np.asarray(y)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(
            f"y: dtype {labels.dtype} shape {list(labels.shape)} is not allowed; "
            "allowed: integer class labels [records]"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ConfigError(
            f"y: labels in [{labels.min()}, {labels.max()}] are not allowed; "
            f"allowed: 0 .. {num_classes - 1} (num_classes={num_classes})"
        )
    return [np.flatnonzero(row).astype(np.int64) for row in keep]


def padded_rows(rows: Sequence[np.ndarray]) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Model k's rows in row k of one int64 ``[K, max n_k]`` tensor, and the counts n_k.

    A row shorter than the longest repeats its first record to fill the tail; the
    samplers never draw a position at or past ``n_k`` (:func:`epoch_order`).
    """
    counts = tuple(len(r) for r in rows)
    width = max(counts)
    return torch.from_numpy(
        np.stack([np.concatenate([r, np.full(width - len(r), r[0])]) for r in rows])
    ), counts


def epoch_order(rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One model's rows in this epoch's order: ``rows[randperm(n, generator)]``.

    ``rows`` holds exactly the model's own n records. ``generator`` is the model's own
    CPU generator seeded with its seed, so model k's batch order depends on its seed
    alone, whichever trainer runs it.
    """
    return rows[torch.randperm(rows.shape[-1], generator=generator)]


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each batch of an epoch of ``n`` records; the last keeps the rest."""
    return [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
