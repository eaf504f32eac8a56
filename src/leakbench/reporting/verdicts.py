"""The scorecard's verdicts: how leakbench's value for a published number is judged, and
how two verdicts of one row are ordered.

The rules are written once, in :func:`judge`; the comparisons and trends a data row may
name are registries (:data:`COMPARISONS`, :data:`TRENDS`). This module imports nothing but
:mod:`leakbench.errors`, so ``leakbench scorecard --check`` reads verdicts without numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from leakbench.errors import UnknownNameError

DIGITS = 4  # the precision the scorecard reports, and judges, leakbench's value at


class Verdict(Enum):
    """A row's verdict, best first (:attr:`rank`: higher is better)."""

    REPRODUCED = "reproduced"
    TREND = "trend reproduced"
    NOT_REPRODUCED = "not reproduced"
    NOT_RUN = "not run in this config"

    @property
    def rank(self) -> int:
        """reproduced 3 > trend reproduced 2 > not reproduced 1 > not run in this config 0."""
        return len(Verdict) - 1 - list(Verdict).index(self)

    @property
    def key(self) -> str:
        """The verdict as a metric name (``trend_reproduced``, ``not_run``)."""
        return "not_run" if self is Verdict.NOT_RUN else self.value.replace(" ", "_")

    @classmethod
    def parse(cls, text: str, *, where: str) -> Verdict:
        """The verdict written ``text``.

        Raises:
            UnknownNameError: naming ``where`` and the verdicts.
        """
        for verdict in cls:
            if verdict.value == text:
                return verdict
        raise UnknownNameError(where, text, (v.value for v in cls))


# How leakbench's value must sit against the published one, given the tolerance, with the
# difference value - published rounded to DIGITS (so the verdict agrees with the table).
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "equal": lambda diff, tolerance: abs(diff) <= tolerance,
    "at_least": lambda diff, tolerance: diff >= -tolerance,
    "at_most": lambda diff, tolerance: diff <= tolerance,
}
COMPARISON_SYMBOLS = {"equal": "=", "at_least": ">=", "at_most": "<="}

# A trend: leakbench's value strictly beyond a threshold the data row justifies.
TRENDS: dict[str, Callable[[float, float], bool]] = {
    "above": lambda value, threshold: value > threshold,
    "below": lambda value, threshold: value < threshold,
}
TREND_SYMBOLS = {"above": ">", "below": "<"}


@dataclass(frozen=True)
class Trend:
    """How a trend is judged where the value itself is out of tolerance.

    Attributes:
        kind: a name in :data:`TRENDS` (``above``, ``below``).
        threshold: what the value must be beyond (the attack's chance level, say).
    """

    kind: str
    threshold: float

    def __post_init__(self) -> None:
        if self.kind not in TRENDS:
            raise UnknownNameError("trend", self.kind, TRENDS)

    def holds(self, value: float) -> bool:
        """Whether ``value`` is beyond the threshold."""
        return TRENDS[self.kind](value, self.threshold)

    def __str__(self) -> str:
        return f"{TREND_SYMBOLS[self.kind]} {self.threshold:g}"


def judge(
    *,
    value: float | None,
    published: float,
    compare: str,
    tolerance: float,
    trend: Trend | None,
) -> Verdict:
    """The verdict of one published number.

    In order:

    1. no value (the config runs no cell the row selects): *not run in this config*;
    2. the value, rounded to :data:`DIGITS`, sits against the published number as
       ``compare`` says within ``tolerance`` (``equal``: ``|v - p| <= tol``; ``at_least``:
       ``v >= p - tol``; ``at_most``: ``v <= p + tol``, the difference rounded to
       :data:`DIGITS` too): *reproduced*;
    3. the row names a trend and the rounded value shows it (``above`` / ``below`` its
       threshold, strictly): *trend reproduced*;
    4. otherwise: *not reproduced*.

    Args:
        value: leakbench's value, None if the run has none.
        published: the published number.
        compare: a name in :data:`COMPARISONS`.
        tolerance: the absolute tolerance (>= 0), in the metric's unit.
        trend: the trend judged when the value is out of tolerance, or None.

    Raises:
        UnknownNameError: if ``compare`` is not a comparison.
    """
    if compare not in COMPARISONS:
        raise UnknownNameError("compare", compare, COMPARISONS)
    if value is None:
        return Verdict.NOT_RUN
    rounded = round(value, DIGITS)
    if COMPARISONS[compare](round(rounded - published, DIGITS), tolerance):
        return Verdict.REPRODUCED
    if trend is not None and trend.holds(rounded):
        return Verdict.TREND
    return Verdict.NOT_REPRODUCED
