"""The regeneration check: a run's tables against the committed reference tables.

The reference (``reference/`` in the repository) holds the tables of the default config's
reference run (``tables/*.csv``), the platform they were made on (``platform.json``) and
the per-column tolerances (``tolerances.yaml``, data rather than code). On the reference's
platform a regenerated table must equal the reference byte for byte (the workflow is
deterministic for a fixed platform, see DESIGN.md "Determinism"); elsewhere floating-point
rounding differs (other BLAS kernels, another thread count), so each numeric cell must lie
within its column's tolerance of the reference, and every other cell must be equal.

The platform is what decides the bytes: the Python, numpy and torch versions, the CPU
architecture and the jobs' torch thread count (:func:`leakbench.seeding.job_threads`).
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from platform import machine, python_version

import yaml

from leakbench.errors import ConfigError
from leakbench.io import write_bytes, write_text
from leakbench.seeding import job_threads

PLATFORM_FILE = "platform.json"
TOLERANCES_FILE = "tolerances.yaml"
TABLES_DIR = "tables"


@dataclass(frozen=True)
class Platform:
    """What a table's bytes depend on besides the code and the config."""

    python: str
    numpy: str
    torch: str
    machine: str
    threads: int

    @classmethod
    def current(cls) -> Platform:
        """This process's platform."""
        return cls(
            python=python_version(),
            numpy=version("numpy"),
            torch=version("torch"),
            machine=machine(),
            threads=job_threads(),
        )

    @classmethod
    def from_json(cls, text: str) -> Platform:
        """The platform written by :meth:`to_json`."""
        return cls(**json.loads(text))

    def to_json(self) -> str:
        """The platform as JSON (sorted keys, one field a line)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def differences(self, other: Platform) -> list[str]:
        """``key: mine vs other`` for each field that differs."""
        mine, theirs = asdict(self), asdict(other)
        return [f"{k}: {mine[k]} vs {theirs[k]}" for k in mine if mine[k] != theirs[k]]


class Verdict(enum.Enum):
    """One table's verdict."""

    IDENTICAL = "identical"
    WITHIN = "within tolerance"
    FAILED = "FAILED"


@dataclass(frozen=True)
class TableCheck:
    """The verdict on one table and why."""

    table: str
    verdict: Verdict
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.table}: {self.verdict.value}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Verification:
    """Every table's verdict, and how the run's platform differs from the reference's."""

    checks: tuple[TableCheck, ...]
    platform_differences: tuple[str, ...]
    unreferenced: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when no table failed."""
        return all(c.verdict is not Verdict.FAILED for c in self.checks)

    def summary(self) -> str:
        """The report: one line per table, then the platform and the overall verdict."""
        lines = [str(c) for c in self.checks]
        lines += [f"{name}: not in the reference (not checked)" for name in self.unreferenced]
        counts = {v: sum(c.verdict is v for c in self.checks) for v in Verdict}
        where = (
            "same platform as the reference: bytes must be identical"
            if not self.platform_differences
            else "platform differs from the reference ("
            + "; ".join(self.platform_differences)
            + "): values must be within tolerance"
        )
        lines.append(where)
        lines.append(
            f"verify: {'passed' if self.passed else 'FAILED'}: "
            + ", ".join(f"{n} {v.value}" for v, n in counts.items())
        )
        return "\n".join(lines)


def load_tolerances(path: Path) -> dict[str, dict[str, float]]:
    """``{table: {column: absolute tolerance}}`` from the tolerances file.

    Raises:
        ConfigError: if a tolerance is not a number >= 0.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    tables = (data or {}).get("tables") or {}
    out: dict[str, dict[str, float]] = {}
    for table, columns in tables.items():
        out[table] = {}
        for column, tol in (columns or {}).items():
            if isinstance(tol, bool) or not isinstance(tol, int | float) or not tol >= 0:
                raise ConfigError(
                    f"{path}: {table}.{column}: {tol!r} is not allowed; allowed: a number >= 0"
                )
            out[table][column] = float(tol)
    return out


def _number(text: str) -> float | None:
    """``text`` as a number, or None for text that is not one (an empty cell, a name)."""
    try:
        return float(text)
    except ValueError:
        return None


def _close(ref: str, run: str, tol: float) -> bool:
    """Whether cell ``run`` passes against ``ref``: both finite numbers within ``tol``,
    else equal text (``inf``, ``nan`` and non-numbers must match exactly)."""
    a, b = _number(ref), _number(run)
    if a is None or b is None:
        return ref == run
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return ref == run or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= tol


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def compare_table(
    *, name: str, reference: str, run: str, tolerances: Mapping[str, float], same_platform: bool
) -> TableCheck:
    """The verdict on one table (CSV text): identical bytes, else (on another platform)
    every cell within its column's tolerance (0, i.e. equal, for a column not listed)."""
    if reference == run:
        return TableCheck(name, Verdict.IDENTICAL)
    ref_rows, run_rows = _rows(reference), _rows(run)
    if not ref_rows or not run_rows or ref_rows[0] != run_rows[0]:
        header = ",".join(run_rows[0]) if run_rows else "(empty)"
        return TableCheck(name, Verdict.FAILED, f"columns differ: {header}")
    if len(ref_rows) != len(run_rows):
        return TableCheck(
            name, Verdict.FAILED, f"{len(run_rows) - 1} rows, the reference has {len(ref_rows) - 1}"
        )
    header, beyond, differing = ref_rows[0], [], 0
    for number, (ref_row, run_row) in enumerate(zip(ref_rows[1:], run_rows[1:], strict=True), 1):
        for column, ref, value in zip(header, ref_row, run_row, strict=True):
            if ref == value:
                continue
            differing += 1
            tol = tolerances.get(column, 0.0)
            if not _close(ref, value, tol):
                beyond.append(f"row {number} {column}: {value} vs {ref}, tolerance {tol:g}")
    if beyond:
        more = f" and {len(beyond) - 3} more" if len(beyond) > 3 else ""
        return TableCheck(name, Verdict.FAILED, "; ".join(beyond[:3]) + more)
    if same_platform:
        return TableCheck(
            name,
            Verdict.FAILED,
            f"{differing} values differ within tolerance, but the platform is the "
            "reference's: the bytes must be identical",
        )
    return TableCheck(name, Verdict.WITHIN, f"{differing} values differ, all within tolerance")


def verify(*, tables: Path, reference: Path, platform: Platform | None = None) -> Verification:
    """Compare every reference table with the run's table of the same name in ``tables``.

    Args:
        tables: the run's ``results/tables``.
        reference: the reference folder (``tables/``, ``platform.json``, ``tolerances.yaml``).
        platform: the run's platform; None for this process's.

    Raises:
        ConfigError: if ``reference`` holds no tables or no platform file.
    """
    ref_tables = sorted((reference / TABLES_DIR).glob("*.csv"))
    platform_file = reference / PLATFORM_FILE
    if not ref_tables or not platform_file.is_file():
        raise ConfigError(
            f"reference: {str(reference)!r} is not allowed; allowed: a folder with "
            f"{TABLES_DIR}/*.csv and {PLATFORM_FILE} (written by `make reference`)"
        )
    differences = (platform or Platform.current()).differences(
        Platform.from_json(platform_file.read_text(encoding="utf-8"))
    )
    tolerances = load_tolerances(reference / TOLERANCES_FILE)
    checks = []
    for ref in ref_tables:
        run = tables / ref.name
        if not run.is_file():
            checks.append(TableCheck(ref.name, Verdict.FAILED, f"missing: {run}"))
            continue
        checks.append(
            compare_table(
                name=ref.name,
                reference=ref.read_bytes().decode("utf-8"),
                run=run.read_bytes().decode("utf-8"),
                tolerances=tolerances.get(ref.stem, {}),
                same_platform=not differences,
            )
        )
    known = {ref.name for ref in ref_tables}
    extra = tuple(sorted(p.name for p in tables.glob("*.csv") if p.name not in known))
    return Verification(tuple(checks), tuple(differences), extra)


def write_reference(*, tables: Path, reference: Path) -> list[Path]:
    """Make the run's tables the reference: copy ``tables/*.csv`` into
    ``reference/tables/`` (replacing the old ones) and record this platform.

    Returns:
        The files written.

    Raises:
        ConfigError: if ``tables`` holds no CSV table.
    """
    sources = sorted(tables.glob("*.csv"))
    if not sources:
        raise ConfigError(
            f"tables: {str(tables)!r} is not allowed; allowed: a folder with the run's *.csv"
        )
    target = reference / TABLES_DIR
    if target.is_dir():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written = []
    for source in sources:
        write_bytes(target / source.name, source.read_bytes())
        written.append(target / source.name)
    write_text(reference / PLATFORM_FILE, Platform.current().to_json())
    return [*written, reference / PLATFORM_FILE]
