"""Canaries for the DP audit: mislabelled copies of pool records, each inserted into a
model's training set by a fair coin (Jagielski et al. 2020, section 4; Nasr et al. 2021,
section 4, "canary" inputs). A mislabelled record is far from what the rest of the data
teaches, so its loss reveals its membership more than a natural record's does, and the
audit's lower bound on epsilon is tighter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError


@dataclass(frozen=True)
class Canaries:
    """Attributes:
    rows: int64 [m], the pool rows the canaries copy the features of.
    labels: int64 [m], each canary's label, never its row's true label.
    inserted: bool [m], whether the canary is in the training set (coin flip).
    """

    rows: np.ndarray
    labels: np.ndarray
    inserted: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {"rows": self.rows, "labels": self.labels, "inserted": self.inserted}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Canaries:
        return cls(
            rows=arrays["rows"].astype(np.int64),
            labels=arrays["labels"].astype(np.int64),
            inserted=arrays["inserted"].astype(bool),
        )


def make_canaries(
    *, y: np.ndarray, num_classes: int, candidates: np.ndarray, count: int, seed: int
) -> Canaries:
    """``count`` canaries from distinct ``candidates`` rows, each relabelled to one of the
    other ``num_classes - 1`` labels uniformly, each inserted with probability 1/2.

    Raises:
        ConfigError: if there are fewer candidates than ``count`` or fewer than 2 classes.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    if count > candidates.size or num_classes < 2:
        raise ConfigError(
            f"privacy.canaries: {count} is not allowed; allowed: at most {candidates.size} "
            f"(pool records outside the target's training set), with >= 2 classes"
        )
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(candidates, size=count, replace=False))
    shift = rng.integers(1, num_classes, size=count)
    labels = (np.asarray(y, dtype=np.int64)[rows] + shift) % num_classes
    return Canaries(rows=rows, labels=labels, inserted=rng.random(count) < 0.5)
