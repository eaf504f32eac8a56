"""Label poisoning of property records (Mahloujifar et al. 2022, IEEE S&P, sections IV-VI).

The adversary copies records that have the target property and sets their label to a
chosen target label. With few property records in the victim's clean data the poison
dominates what the model learns about property records, so it predicts the target label
for them more often; with many, the clean records outweigh the poison.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError


def poison_count(*, rate: float, clean: int) -> int:
    """The number m of poison records that make up a fraction ``rate`` of the training set.

    The poisoning rate p is the fraction of the final training set (n clean + m poison
    records) that the adversary contributed, as in Mahloujifar et al. 2022 ("2-3%
    poisoning"): p = m / (n + m), so m = round(p * n / (1 - p)). The victim's n clean
    records are fixed; the adversary adds to them.

    Args:
        rate: p, with 0 <= p < 1 (p = 1 would leave no clean data).
        clean: n >= 1.

    Raises:
        ConfigError: naming ``poison_rates`` if p is outside [0, 1).
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ConfigError(
            f"poison_rates: {rate!r} is not allowed; allowed: a number p with 0 <= p < 1 "
            "(the poison's fraction of the training set; p >= 1 leaves no clean data)"
        )
    if clean < 1:
        raise ConfigError(f"train_size: {clean!r} is not allowed; allowed: an integer >= 1")
    return math.floor(rate * clean / (1 - rate) + 0.5)


@dataclass(frozen=True)
class PoisonSet:
    """Poison records: pool rows to copy and the label each copy gets.

    Attributes:
        rows: int64 [m], indices into the pool's features.
        labels: int64 [m], the label of each copy.
    """

    rows: np.ndarray
    labels: np.ndarray


def make_poison(*, candidates: np.ndarray, count: int, label: int, num_classes: int) -> PoisonSet:
    """The first ``count`` candidates, each labelled ``label``.

    ``candidates`` are the adversary's property records in the order it will use them
    (already shuffled by the caller's seed); taking a prefix makes the poison sets of
    increasing rates nested, so a larger rate only adds records.

    Raises:
        ConfigError: if ``label`` is not a class or there are fewer candidates than
            ``count``.
    """
    if isinstance(label, bool) or not isinstance(label, numbers.Integral):
        raise ConfigError(f"target_label: {label!r} is not allowed; allowed: an integer class")
    if not 0 <= label < num_classes:
        raise ConfigError(f"target_label: {label} is not allowed; allowed: 0 .. {num_classes - 1}")
    if not 0 <= count <= len(candidates):
        raise ConfigError(
            f"poison_rates: {count} poison records are needed but the adversary holds "
            f"{len(candidates)} property records for poisoning; allowed: at most "
            f"{len(candidates)} (lower the largest poisoning rate or train_size)"
        )
    rows = np.asarray(candidates[:count], dtype=np.int64)
    return PoisonSet(rows=rows, labels=np.full(count, label, dtype=np.int64))
