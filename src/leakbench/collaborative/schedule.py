"""Which rounds the target takes part in and how many property records its batches hold
(Melis et al. 2019, Sections VI-B, VI-C and VII-B).

A :class:`Schedule` says, per round t, whether the target participant is present and how
many of its batch records have the property; the round's label (what the attack's AUC is
over) is whether the target's update in it was computed on property records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError


@dataclass(frozen=True)
class Schedule:
    """Per round: the target's presence and its batches' property records.

    Attributes:
        present: ``[T]`` whether the target sends an update in round t.
        property_records: ``[T]`` records with the property among the target's round's
            records (0: none; the rest are drawn from its records without it).
    """

    present: np.ndarray
    property_records: np.ndarray

    @property
    def has_property(self) -> np.ndarray:
        """``[T]`` the round's label: the target is present and holds property records."""
        return self.present & (self.property_records > 0)


def property_count(*, fraction: float, records: int) -> int:
    """Property records in a batch of ``records`` at ``fraction`` (Section VI-B,
    "Fractional properties"): round(fraction x records), at least 1, at most ``records``.

    Raises:
        ConfigError: if ``fraction`` is outside (0, 1].
    """
    if not 0 < fraction <= 1:
        raise ConfigError(f"fraction: {fraction} is not allowed; allowed: (0, 1]")
    return int(min(records, max(1, round(fraction * records))))


def alternating(*, rounds: int, count: int, rng: np.random.Generator) -> Schedule:
    """Section VI-B (m = 2): the target is present in every round; a random half of its
    rounds (the even positions of a permutation) hold ``count`` property records."""
    half = rng.permutation(np.arange(rounds) % 2 == 0)
    return Schedule(present=np.ones(rounds, bool), property_records=np.where(half, count, 0))


def window(*, rounds: int, start: int, end: int, count: int) -> Schedule:
    """Section VI-C (Fig. 5): the target's batches hold ``count`` property records in
    rounds ``start`` .. ``end - 1`` only."""
    inside = (np.arange(rounds) >= start) & (np.arange(rounds) < end)
    return Schedule(present=np.ones(rounds, bool), property_records=np.where(inside, count, 0))


def late_join(*, rounds: int, join_round: int, count: int) -> Schedule:
    """Section VII-B (Fig. 10): the target, whose data has the property, joins at round
    ``join_round``; every batch of it from then on holds ``count`` property records."""
    present = np.arange(rounds) >= join_round
    return Schedule(present=present, property_records=np.where(present, count, 0))


def control(*, rounds: int, join_round: int = 0) -> Schedule:
    """The target present from round ``join_round`` on (0: every round) and never holding
    the property (the control runs of whole-run inference, Section IV-D)."""
    return Schedule(
        present=np.arange(rounds) >= join_round, property_records=np.zeros(rounds, np.int64)
    )


def check_window(value: Sequence[int], *, rounds: int, key: str) -> None:
    """A window [start, end) of rounds with rounds on both sides of the label.

    Raises:
        ConfigError: naming ``key``, unless 0 <= start < end <= rounds and the window
            leaves at least one round outside it.
    """
    start, end = value
    if not (0 <= start < end <= rounds) or end - start == rounds:
        raise ConfigError(
            f"{key}: {list(value)} is not allowed with {rounds} rounds; allowed: [start, end] "
            f"with 0 <= start < end <= {rounds}, not all the rounds"
        )


def check_join_round(value: int, *, rounds: int, key: str) -> None:
    """Raises :class:`ConfigError` naming ``key`` unless 1 <= value <= rounds - 1."""
    if not 1 <= value <= rounds - 1:
        raise ConfigError(f"{key}: {value} is not allowed; allowed: 1 .. {rounds - 1}")
