"""Features of the batch-property classifier (Melis et al. 2019, Section IV-D).

The paper's classifier reads the observed update itself, down-sampled by max pooling over
non-overlapping regions. Following the brief's account of their released code, the
features are the absolute values of the weight tensors' updates (biases left out), each
tensor larger than ``max_features`` max-pooled over non-overlapping windows of its
flattened values; the rows are then L2-normalised and standardised with the training
rows' mean and standard deviation. An embedding matrix ``[vocab, embed_dim]`` is a weight
tensor like any other: its pooled windows are blocks of consecutive token rows, of which
only the batch's words' rows are non-zero (:mod:`leakbench.studies.collaborative_tokens`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

from leakbench.errors import ConfigError


def pooled(values: Tensor, *, max_features: int) -> Tensor:
    """``|values|`` flattened, max-pooled over windows of w = ceil(n / max_features)
    consecutive values when n > ``max_features`` (the last window zero-padded, which
    changes no maximum of absolute values): ceil(n / w) features."""
    if max_features < 1:
        raise ConfigError(f"max_features: {max_features} is not allowed; allowed: >= 1")
    flat = values.detach().abs().flatten()
    if flat.numel() <= max_features:
        return flat
    window = -(-flat.numel() // max_features)
    pad = -flat.numel() % window
    return torch.nn.functional.pad(flat, (0, pad)).reshape(-1, window).amax(dim=1)


def update_features(update: Mapping[str, Tensor], *, max_features: int) -> np.ndarray:
    """One feature row from an update ``{name: tensor}``: :func:`pooled` of every weight
    tensor (two or more dimensions), in the update's order, concatenated (float64)."""
    parts = [pooled(v, max_features=max_features) for v in update.values() if v.ndim >= 2]
    if not parts:
        raise ConfigError("update: no weight tensor is not allowed; allowed: a model with weights")
    return torch.cat(parts).to(torch.float64).numpy()


def normalise_rows(rows: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (a zero row stays zero)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x - mean) / std per column with the ``train`` rows' mean and (population) standard
    deviation; a constant column is only centred."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std
