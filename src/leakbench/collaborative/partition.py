"""The main task, the property and each participant's data (Melis et al. 2019, Sections
VI-B and VII-A).

Only the target and the adversary hold records with the property, split evenly between
them; the records without it are split evenly among all K participants. Participant 0 is
the adversary, participant 1 the target, the others are honest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from leakbench.errors import ConfigError


class Task(StrEnum):
    """The collaborative model's main task, from the class label."""

    PARITY = "parity"
    """class mod 2 (the MNIST / Fashion-MNIST stand-in: independent of one class)."""
    LABEL = "label"
    """the class itself."""


def task_labels(y: np.ndarray, task: str) -> np.ndarray:
    """The main-task label of every record (int64)."""
    return (y % 2 if Task(task) is Task.PARITY else y).astype(np.int64)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's correlation r = cov(a, b) / (sd(a) sd(b)) of two label vectors, the
    column "Corr." of Melis et al.'s Table III (for 0/1 labels, the phi coefficient).

    Raises:
        ConfigError: if either vector is constant (r undefined).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    da, db = a - a.mean(), b - b.mean()
    denominator = np.sqrt((da**2).sum() * (db**2).sum())
    if denominator == 0:
        raise ConfigError("pearson: a constant label is not allowed; allowed: two values or more")
    return float((da * db).sum() / denominator)


@dataclass(frozen=True)
class Partition:
    """Record indices of each participant's data.

    Attributes:
        prop: ``[2]`` the adversary's and the target's records with the property.
        nonprop: ``[K]`` each participant's records without it (0: adversary, 1: target).
    """

    prop: tuple[np.ndarray, np.ndarray]
    nonprop: tuple[np.ndarray, ...]

    def sizes(self) -> np.ndarray:
        """n^k, the records each participant holds."""
        sizes = np.array([len(part) for part in self.nonprop], dtype=np.int64)
        sizes[:2] += [len(self.prop[0]), len(self.prop[1])]
        return sizes


def split(
    *,
    has_property: np.ndarray,
    participants: int,
    batch_records: int,
    key: str,
    rng: np.random.Generator,
) -> Partition:
    """Shuffle and split the records (:class:`Partition`).

    Raises:
        ConfigError: naming ``key``'s entry, before any training, if K < 2, if the property
            matches fewer than 2 * ``batch_records`` records (a round's batches; none: it
            matches no record), or if there are more participants than rounds' batches of
            records without it.
    """
    if participants < 2:
        raise ConfigError(f"{key}.participants: {participants} is not allowed; allowed: >= 2")
    prop = rng.permutation(np.flatnonzero(has_property))
    nonprop = rng.permutation(np.flatnonzero(~has_property))
    if len(prop) < 2 * batch_records:
        raise ConfigError(
            f"{key}.property: matches {len(prop)} records is not allowed; allowed: a property "
            f"of at least 2 x {batch_records} records (a round's batches for the adversary "
            "and the target)"
        )
    most = len(nonprop) // batch_records
    if participants > most:
        raise ConfigError(
            f"{key}.participants: {participants} is not allowed with {len(nonprop)} records "
            f"without the property at {batch_records} per round; allowed: 2 .. {most}"
        )
    half = len(prop) // 2
    return Partition(
        prop=(prop[:half], prop[half : 2 * half]),
        nonprop=tuple(np.array_split(nonprop, participants)),
    )
