"""Compare a run's scorecard with the expected verdicts (``leakbench scorecard --check``).

Both files are CSV with at least the columns ``id`` and ``verdict`` (the scorecard itself,
``results/tables/scorecard.csv``, and the committed ``workflow/scorecard/expected*.csv``).
A row whose verdict ranks lower than expected (:attr:`Verdict.rank`: reproduced > trend
reproduced > not reproduced > not run in this config) got worse, and so did an expected row
the scorecard lacks; a higher verdict got better. Only a worse row fails the check, so a
regression in fidelity is caught and an improvement is reported for the expected file to
follow.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from leakbench.errors import ConfigError
from leakbench.reporting.verdicts import Verdict

COLUMNS = ("id", "verdict")


def read_verdicts(path: str | os.PathLike[str]) -> dict[str, Verdict]:
    """``{row id: verdict}`` of a scorecard or expected-verdicts CSV file.

    Raises:
        ConfigError: if the file is missing, lacks a column, names a row twice or holds an unknown
            verdict (naming the file and the row).
    """
    if not Path(path).is_file():
        raise ConfigError(
            f"scorecard: {str(path)!r} is not allowed; allowed: an existing CSV file (a run's "
            "scorecard is written by the workflow)"
        )
    with Path(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ConfigError(
                f"{path}: columns {reader.fieldnames!r} is not allowed; allowed: columns "
                f"including {', '.join(COLUMNS)}"
            )
        verdicts: dict[str, Verdict] = {}
        for line in reader:
            row_id = line["id"]
            if row_id in verdicts:
                raise ConfigError(f"{path}: id {row_id!r} is not allowed; allowed: once")
            verdicts[row_id] = Verdict.parse(line["verdict"], where=f"{path}: {row_id}.verdict")
    return verdicts


@dataclass(frozen=True)
class Change:
    """One row whose verdict differs from the expected one (``actual`` None: row absent)."""

    id: str
    expected: Verdict
    actual: Verdict | None

    @property
    def worse(self) -> bool:
        """Whether the row lost rank (an absent row counts as worse)."""
        return self.actual is None or self.actual.rank < self.expected.rank

    def __str__(self) -> str:
        actual = "absent from the scorecard" if self.actual is None else self.actual.value
        return f"{self.id}: expected {self.expected.value}, got {actual}"


@dataclass(frozen=True)
class Comparison:
    """The rows that got worse, those that got better, and rows the expected file lacks."""

    worse: tuple[Change, ...]
    better: tuple[Change, ...]
    unexpected: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether no row got worse."""
        return not self.worse


def compare_verdicts(
    *, expected: Mapping[str, Verdict], actual: Mapping[str, Verdict]
) -> Comparison:
    """Compare a run's verdicts with the expected ones, row by row (in expected order).

    Args:
        expected: the committed expected verdicts.
        actual: the run's scorecard verdicts.
    """
    changes = [
        Change(id=row_id, expected=verdict, actual=actual.get(row_id))
        for row_id, verdict in expected.items()
        if actual.get(row_id) is not verdict
    ]
    return Comparison(
        worse=tuple(c for c in changes if c.worse),
        better=tuple(c for c in changes if not c.worse),
        unexpected=tuple(row_id for row_id in actual if row_id not in expected),
    )
