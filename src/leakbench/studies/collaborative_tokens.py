"""Token inputs in the collaborative studies (Melis et al. 2019, Section V: the text CNN
on FourSquare and the CSI Corpus): a model whose inputs are token ids (the registry's
``inputs="tokens"``, e.g. ``textcnn``) reads a pool of token ids as int64, and its
embedding's vocabulary must cover the data's.

The passive attack's features need nothing of their own for such a model: the embedding
matrix ``[vocab, embed_dim]`` is a weight tensor, so it enters the features as every other
one (:mod:`leakbench.collaborative.features`): its absolute update, flattened row by row
and max-pooled over windows of consecutive values. Under synchronised SGD only the rows of
the words in a batch change (Section IV-B), so each pooled feature says how strongly the
words of one block of consecutive ids (a block of the frequency ranks, for a pool whose
ids are ranks) moved in the round.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from leakbench.errors import ConfigError
from leakbench.models import get_architecture


def takes_tokens(arch: str) -> bool:
    """Whether the architecture ``arch`` reads token ids (registry ``inputs="tokens"``)."""
    return get_architecture(arch).inputs == "tokens"


def records(x: np.ndarray, *, arch: str) -> Tensor:
    """The model's inputs from pool records ``x``: int64 token ids for a token model (the
    pool stores them as float32, exact below 2^24), the float records unchanged otherwise."""
    if takes_tokens(arch):
        return torch.from_numpy(x.astype(np.int64))
    return torch.from_numpy(x)


def check_tokens(row: Mapping[str, Any], *, key: str, vocabulary: int) -> None:
    """A token model's row fits its data: the data set holds token ids (``vocabulary`` >= 2,
    its registry entry's vocabulary) and ``arch_params.vocab`` covers them.

    Raises:
        ConfigError: naming the key, the value and the allowed values.
    """
    if not takes_tokens(row["arch"]):
        return
    if vocabulary < 2:
        raise ConfigError(
            f"{key}.dataset: {row['dataset']!r} is not allowed with arch {row['arch']!r}; "
            "allowed: a data set of token ids (checkin_synth, foursquare_tsmc)"
        )
    vocab = row["arch_params"].get("vocab")
    if isinstance(vocab, bool) or not isinstance(vocab, int) or vocab < vocabulary:
        raise ConfigError(
            f"{key}.arch_params.vocab: {vocab!r} is not allowed with {row['dataset']!r}; "
            f"allowed: an integer >= {vocabulary} (the data's vocabulary)"
        )


def check_ids(x: np.ndarray, row: Mapping[str, Any], *, key: str) -> None:
    """The pool's token ids lie in ``[0, arch_params.vocab)`` (checked on the records
    before any training, for a token model only).

    Raises:
        ConfigError: naming ``key``'s ``arch_params.vocab``, the largest id and the range.
    """
    if not takes_tokens(row["arch"]) or x.size == 0:
        return
    vocab = row["arch_params"]["vocab"]
    low, high = int(x.min()), int(x.max())
    if low < 0 or high >= vocab:
        raise ConfigError(
            f"{key}.arch_params.vocab: {vocab} is not allowed for token ids {low} .. {high}; "
            f"allowed: >= {high + 1}"
        )
