"""Strong membership inference (Zhao et al. 2019, Definition 2 and section 3): how well the
max-confidence attack tells members from non-members at a given Hamming distance.

Records are binary vectors; ``d(a, b)`` is the Hamming distance, and a record's distance
from a data set is its distance to the nearest record of it (section 2, "Distance,
Neighbors and Portions").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakbench import metrics
from leakbench.errors import ConfigError, DataError


def _binary(name: str, x: np.ndarray) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2 or not np.isin(arr, (0, 1)).all():
        raise DataError(f"{name}: shape {arr.shape}; allowed: [n, m] of 0/1 values")
    return arr.astype(bool)


def nearest_distances(*, queries: np.ndarray, members: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Hamming distance of each query to its nearest member (Zhao et al., section 2).

    ``d(a, b) = |a| + |b| - 2 a.b`` for 0/1 vectors, computed in chunks of ``chunk``
    queries as an exact integer matrix product; the result is ``min_b d(a, b)``.

    Returns:
        int64 ``[len(queries)]``.
    """
    q = _binary("queries", queries).astype(np.int32)
    mem = _binary("members", members).astype(np.int32)
    if q.shape[1] != mem.shape[1]:
        raise DataError(f"queries: {q.shape[1]} features; allowed: {mem.shape[1]} (members)")
    member_ones = mem.sum(axis=1)
    out = np.empty(len(q), dtype=np.int64)
    for start in range(0, len(q), chunk):
        block = q[start : start + chunk]
        dist = block.sum(axis=1)[:, None] + member_ones[None, :] - 2 * (block @ mem.T)
        out[start : start + len(block)] = dist.min(axis=1)
    return out


def flip_neighbours(
    *, members: np.ndarray, r: int, per_member: int, rng: np.random.Generator, max_rounds: int = 100
) -> np.ndarray:
    """``per_member`` distinct r-neighbours of every member that are not members
    (Zhao et al. section 3, "MIA Performance on Synthetic Vectors Close to Members": select
    features at random and invert them; a vector that collides with a member is discarded).

    Each neighbour flips exactly ``r`` distinct features of its member, chosen uniformly;
    candidates equal to a member or to an earlier neighbour of the same member are drawn
    again, up to ``max_rounds`` rounds.

    Returns:
        bool ``[len(members), per_member, m]``.

    Raises:
        ConfigError: if ``r`` is not in 1 .. m or ``per_member`` < 1.
        DataError: if some member still lacks neighbours after ``max_rounds`` rounds.
    """
    mem = _binary("members", members)
    n, m = mem.shape
    if not 1 <= r <= m:
        raise ConfigError(f"zhao.flips: {r} is not allowed; allowed: 1 .. {m} (the features)")
    if per_member < 1:
        raise ConfigError(f"zhao.neighbours: {per_member} is not allowed; allowed: >= 1")
    taken = {row.tobytes() for row in np.packbits(mem, axis=1)}
    seen: list[set[bytes]] = [set() for _ in range(n)]
    out = np.zeros((n, per_member, m), dtype=bool)
    filled = np.zeros(n, dtype=np.int64)
    for _ in range(max_rounds):
        pending = np.flatnonzero(filled < per_member)
        if pending.size == 0:
            return out
        want = per_member - filled[pending]
        owners = np.repeat(pending, want)
        flips = np.argsort(rng.random((owners.size, m)), axis=1)[:, :r]
        candidates = mem[owners].copy()
        np.logical_not.at(candidates, (np.arange(owners.size)[:, None], flips))
        keys = np.packbits(candidates, axis=1)
        for owner, key, candidate in zip(owners, keys, candidates, strict=True):
            raw = key.tobytes()
            if raw in taken or raw in seen[owner] or filled[owner] == per_member:
                continue
            seen[owner].add(raw)
            out[owner, filled[owner]] = candidate
            filled[owner] += 1
    if (filled < per_member).any():
        raise DataError(
            f"zhao.flips: r={r} left {int((filled < per_member).sum())} members with fewer "
            f"than {per_member} distinct non-member neighbours after {max_rounds} rounds"
        )
    return out


@dataclass(frozen=True)
class DistanceBin:
    """The attack's AUC against the non-members in one Hamming-distance bin.

    Attributes:
        low, high: the bin ``[low, high)`` of distances to the nearest member.
        count: the non-members in it.
        auc: AUC of all members against them (:func:`leakbench.metrics.auc`).
    """

    low: int
    high: int
    count: int
    auc: float


def auc_by_distance(
    *,
    member_scores: np.ndarray,
    other_scores: np.ndarray,
    other_distances: np.ndarray,
    width: int,
) -> list[DistanceBin]:
    """AUC of members against the non-members grouped by distance to the nearest member
    (Zhao et al. section 3, "MIA Performance on the Testing Set", Fig. 1): bins
    ``[k * width, (k + 1) * width)``; each non-empty bin's AUC is the Mann-Whitney AUC of
    every member score against the scores of the non-members in the bin.

    Raises:
        ConfigError: if ``width`` < 1.
    """
    if width < 1:
        raise ConfigError(f"zhao.bin_width: {width} is not allowed; allowed: >= 1")
    members = np.asarray(member_scores, dtype=np.float64)
    others = np.asarray(other_scores, dtype=np.float64)
    bins = np.asarray(other_distances, dtype=np.int64) // width
    out = []
    for k in np.unique(bins):
        chosen = others[bins == k]
        scores = np.concatenate([members, chosen])
        member = np.concatenate([np.ones(members.size, bool), np.zeros(chosen.size, bool)])
        out.append(
            DistanceBin(
                low=int(k * width),
                high=int((k + 1) * width),
                count=int(chosen.size),
                auc=metrics.auc(scores=scores, member=member),
            )
        )
    return out
