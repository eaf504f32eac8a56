"""Victim and adversary data for property inference, and exact-fraction sampling.

The pool is permuted once by the seed and cut in two halves: the victims' side and the
adversary's side, so the adversary's own data (shadow training, poison, queries) never
touches the victims' (Mahloujifar et al. 2022 assume the adversary draws from the same
distribution, not from the victims' records). The victims' side keeps a clean test set
that no model trains on. The adversary's property records are split into query candidates
and poison candidates; its remaining records train its shadow models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError


@dataclass(frozen=True)
class PropertySides:
    """Disjoint sets of pool rows (int64 arrays), each in a seeded random order.

    Attributes:
        victim: rows the targets' clean training sets are drawn from.
        test: victim-side rows no model trains on (clean test accuracy).
        shadow: adversary rows its shadow models' clean training sets are drawn from.
        poison: adversary property rows, in the order poison sets take them.
        queries: adversary property rows the queries are chosen from.
    """

    victim: np.ndarray
    test: np.ndarray
    shadow: np.ndarray
    poison: np.ndarray
    queries: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The row sets by name, for :func:`leakbench.io.write_npz`."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PropertySides:
        """Inverse of :meth:`arrays`."""
        return cls(**{name: arrays[name] for name in cls.__dataclass_fields__})


def make_sides(
    *, prop: np.ndarray, test_size: int, query_candidates: int, poison_max: int, seed: int
) -> PropertySides:
    """Cut the pool into the sets of :class:`PropertySides`.

    Args:
        prop: bool [N], the property of every pool record.
        test_size: victim-side records kept for the clean test set.
        query_candidates: adversary property records reserved for queries.
        poison_max: adversary property records reserved for the largest poison set.
        seed: the permutation's seed.

    Raises:
        ConfigError: naming the key whose demand the pool cannot meet.
    """
    prop = np.asarray(prop, dtype=bool)
    order = np.random.default_rng(seed).permutation(prop.size)
    half = prop.size // 2
    victim, adversary = order[:half], order[half:]
    if not 1 <= test_size < victim.size:
        raise ConfigError(
            f"test_size: {test_size} is not allowed; allowed: 1 .. {victim.size - 1} (the "
            f"victims' side holds {victim.size} records)"
        )
    owned = adversary[prop[adversary]]
    if query_candidates + poison_max > owned.size:
        raise ConfigError(
            f"queries: {query_candidates} query candidates and {poison_max} poison records "
            f"need {query_candidates + poison_max} property records, but the adversary holds "
            f"{owned.size}; allowed: at most {owned.size - poison_max} query candidates"
        )
    reserved = owned[: query_candidates + poison_max]
    return PropertySides(
        victim=victim[test_size:].astype(np.int64),
        test=victim[:test_size].astype(np.int64),
        shadow=adversary[~np.isin(adversary, reserved)].astype(np.int64),
        poison=owned[query_candidates : query_candidates + poison_max].astype(np.int64),
        queries=owned[:query_candidates].astype(np.int64),
    )


def sample_fraction(
    *, rows: np.ndarray, prop: np.ndarray, size: int, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """``size`` distinct rows of ``rows`` of which exactly round(fraction * size) have the
    property (ties round half up), drawn uniformly within each group; sorted.

    Raises:
        ConfigError: naming ``ratios`` when ``rows`` holds too few records of either kind.
    """
    wanted = check_fraction(rows=rows, prop=prop, size=size, fraction=fraction)
    rows = np.asarray(rows)
    has = rows[np.asarray(prop, dtype=bool)[rows]]
    lacks = rows[~np.asarray(prop, dtype=bool)[rows]]
    picked = np.concatenate(
        [
            rng.choice(has, size=wanted, replace=False),
            rng.choice(lacks, size=size - wanted, replace=False),
        ]
    )
    return np.sort(picked).astype(np.int64)


def check_fraction(*, rows: np.ndarray, prop: np.ndarray, size: int, fraction: float) -> int:
    """The number of property records a sample of ``size`` at ``fraction`` takes, after
    checking that ``rows`` holds enough records with and without the property.

    Raises:
        ConfigError: naming ``ratios`` and the counts needed and held.
    """
    if not 0 <= fraction <= 1:
        raise ConfigError(f"ratios: {fraction!r} is not allowed; allowed: a number in [0, 1]")
    wanted = int(np.floor(fraction * size + 0.5))
    held = int(np.asarray(prop, dtype=bool)[np.asarray(rows)].sum())
    if wanted > held or size - wanted > len(rows) - held:
        raise ConfigError(
            f"ratios: {fraction} of {size} records needs {wanted} records with the property "
            f"and {size - wanted} without, but the side holds {held} and {len(rows) - held}; "
            "allowed: a smaller train_size or a ratio the data can meet"
        )
    return wanted
