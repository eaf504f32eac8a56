"""What the embedding layer's updates reveal (Melis et al. 2019, Sections IV-B, IV-C, VI-A
and VIII-B).

The gradient of an embedding matrix W_emb ∈ R^{|V| x d} is zero in the rows of the words a
batch does not contain, so the rows the others' aggregated update changes are the batch's
bag of words (BoW) V_t. The membership rule of Section IV-C then calls a record r a member
when its words V_r are a subset of some observed V_t. A smaller vocabulary (Section VIII-B,
Table VI) maps the rare words onto one shared id.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

from leakbench.errors import ConfigError


def revealed_words(*, before: Tensor, after: Tensor, own: Tensor, own_weight: float) -> np.ndarray:
    """The batch BoW V_t of the other participants: the embedding rows their update
    changed (Section IV-B), boolean ``[|V|]``.

    The adversary sees θ_{t-1} (``before``) and θ_t (``after``) and knows its own update
    Δθ^adv (``own``, weighted ``own_weight`` by the server). A row is in V_t when θ_t differs
    from θ_{t-1} + w_adv Δθ^adv in any entry. Compared this way the rule is exact in floating
    point: where the others' rows are zero the server's sum is the adversary's row itself, so
    θ_t is bit for bit what the adversary computes; the paper's "non-zero rows of
    Δθ_t - Δθ_t^adv" would instead flag the adversary's own words through rounding
    ((θ + u) - θ ≠ u in floating point).
    """
    if not before.shape == after.shape == own.shape or before.ndim != 2:
        raise ConfigError(
            f"embedding: shapes {tuple(before.shape)}, {tuple(after.shape)}, "
            f"{tuple(own.shape)} are not allowed; allowed: one [|V|, d] shape"
        )
    expected = before + own_weight * own
    return (after != expected).any(dim=1).numpy()


def update_words(update: Mapping[str, Tensor], *, name: str) -> np.ndarray:
    """The BoW of one participant's own update: the non-zero rows of its embedding
    gradient ``update[name]`` (exactly zero for the words its batch lacks)."""
    return (update[name] != 0).any(dim=1).numpy()


def bag_of_words(tokens: np.ndarray, *, vocab: int) -> np.ndarray:
    """Each record's BoW V_r: boolean ``[n, vocab]``, True where the word occurs in the
    record's token ids ``tokens`` ``[n, L]``."""
    tokens = np.asarray(tokens, dtype=np.int64)
    bags = np.zeros((len(tokens), vocab), dtype=bool)
    np.put_along_axis(bags, tokens, True, axis=1)
    return bags


def infer_members(*, records: np.ndarray, batches: np.ndarray) -> np.ndarray:
    """Section IV-C's rule: record r is a member iff V_r ⊆ V_t for some observed batch BoW
    V_t, i.e. iff min_t |V_r \\ V_t| = 0.

    Args:
        records: the candidates' BoWs, boolean ``[n, |V|]``.
        batches: the observed batch BoWs [V_1, ..., V_T], boolean ``[T, |V|]``.

    Returns:
        boolean ``[n]``, the records inferred to be members.
    """
    missing = records.astype(np.int64) @ (~batches).astype(np.int64).T  # |V_r \ V_t|
    return (missing == 0).any(axis=1)


def precision_recall(*, predicted: np.ndarray, member: np.ndarray) -> tuple[float, float]:
    """Precision TP / (TP + FP) and recall TP / (TP + FN) of the membership decisions
    (Section VI-A, Table II reports the precision; the rule's recall is 1 when every member
    went through an observed batch). Precision is 0 when nothing is predicted a member.

    Raises:
        ConfigError: if there is no member (recall undefined).
    """
    predicted, member = np.asarray(predicted, bool), np.asarray(member, bool)
    if not member.any():
        raise ConfigError("member: no member is not allowed; allowed: at least one member")
    true_positive = int((predicted & member).sum())
    flagged = int(predicted.sum())
    precision = true_positive / flagged if flagged else 0.0
    return precision, true_positive / int(member.sum())


def restrict_vocabulary(tokens: Tensor, *, vocab: int) -> Tensor:
    """The defence of Section VIII-B: only the ``vocab`` - 1 most frequent words keep their
    id (ids are frequency ranks, 0 the most frequent); every other word becomes the shared
    out-of-vocabulary id ``vocab`` - 1.

    Raises:
        ConfigError: if ``vocab`` < 2.
    """
    if vocab < 2:
        raise ConfigError(f"vocab_sizes: {vocab} is not allowed; allowed: >= 2")
    return torch.clamp(tokens, max=vocab - 1)
