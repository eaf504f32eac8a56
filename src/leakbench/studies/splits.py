"""Disjoint target/shadow membership splits of a data pool (Shokri et al. 2017, section V).

The pool is permuted once; the first half is the target's side, the second the shadows'.
The target trains on ``members`` records of its side and is evaluated on those and on as
many other records of its side (non-members). Each shadow draws its own ``members`` in- and
``members`` out-records from the shadow side, so shadows may overlap each other but never
touch the target's data: the paper's worst case for the attacker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError


@dataclass(frozen=True)
class MembershipSplits:
    """Boolean masks over the pool. ``shadow_in[k]`` is shadow k's training set."""

    target_in: np.ndarray  # bool [N]
    target_out: np.ndarray  # bool [N]
    shadow_in: np.ndarray  # bool [k, N]
    shadow_out: np.ndarray  # bool [k, N]

    def arrays(self) -> dict[str, np.ndarray]:
        """The masks by name, for :func:`leakbench.io.write_npz`."""
        return {
            "target_in": self.target_in,
            "target_out": self.target_out,
            "shadow_in": self.shadow_in,
            "shadow_out": self.shadow_out,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> MembershipSplits:
        """Inverse of :meth:`arrays`."""
        return cls(**{k: arrays[k].astype(bool) for k in cls.__dataclass_fields__})


def max_members(n_pool: int) -> int:
    """Largest ``members`` a pool of ``n_pool`` records supports (4 disjoint quarters)."""
    return n_pool // 4


def make_splits(*, n_pool: int, members: int, shadows: int, seed: int) -> MembershipSplits:
    """Draw the target and shadow masks; see the module docstring.

    Raises:
        ConfigError: if the pool cannot hold 2 * members records on each side.
    """
    if shadows < 1:
        raise ConfigError(f"membership.shadows: {shadows} is not allowed; allowed: an integer >= 1")
    if not 1 <= members <= max_members(n_pool):
        raise ConfigError(
            f"members: {members} is not allowed for a pool of {n_pool} records; "
            f"allowed: 1 to {max_members(n_pool)} (target and shadow sides each need "
            "members + as many non-members)"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_pool)
    half = n_pool // 2
    target_side, shadow_side = order[:half], order[half:]

    target_in = np.zeros(n_pool, dtype=bool)
    target_out = np.zeros(n_pool, dtype=bool)
    target_in[target_side[:members]] = True
    target_out[target_side[members : 2 * members]] = True

    shadow_in = np.zeros((shadows, n_pool), dtype=bool)
    shadow_out = np.zeros((shadows, n_pool), dtype=bool)
    for k in range(shadows):
        drawn = rng.choice(shadow_side, size=2 * members, replace=False)
        shadow_in[k, drawn[:members]] = True
        shadow_out[k, drawn[members:]] = True
    return MembershipSplits(target_in, target_out, shadow_in, shadow_out)
