"""What a study declares, in one place: :class:`StudySpec`.

A study regenerates one family of a paper's figures and tables. Its spec is the single
source of truth for everything outside its own rules and library code that must know about
it: the config section (a JSON-Schema fragment), the rules file, the final outputs (tables,
figures, metrics, DVC plots) with their report captions and category, the MLflow
experiment, and whether and how the study takes the DP axis. ``rule all``, the aggregate
rules' outputs, the report, ``dvc.yaml``, ``leakbench list`` and the workflow tests read the
specs (registered in :mod:`leakbench.studies.specs`); nothing lists a study's outputs twice.

This module imports nothing from leakbench but the leaf modules :mod:`leakbench.names` and
:mod:`leakbench.errors`, so reading the specs never imports numpy or torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from leakbench.errors import ConfigError
from leakbench.names import CellId

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class OutputKind(Enum):
    """What a study's final output is, which fixes its folder under ``results/``."""

    TABLE = "tables"
    FIGURE = "figures"
    METRICS = "metrics"


@dataclass(frozen=True)
class StudyOutput:
    """One final output of a study, written by its aggregate rule.

    Attributes:
        name: the aggregate rule's output name, which its adapter reads (``csv``, ``png``).
        path: the file, ``results/<kind folder>/<file>``.
        kind: table, figure or metrics (a metrics file is a DVC metric).
        report: whether ``snakemake --report`` shows it, under the study's category.
        caption: the report caption file in ``workflow/report/`` (shown outputs only).
    """

    name: str
    path: str
    kind: OutputKind
    report: bool = False
    caption: str | None = None

    def __post_init__(self) -> None:
        folder = f"results/{self.kind.value}/"
        if not self.path.startswith(folder) or "/" in self.path.removeprefix(folder):
            raise ConfigError(
                f"output.{self.name}: {self.path!r} is not allowed; allowed: {folder}<file>"
            )
        if self.caption is not None and not self.report:
            raise ConfigError(
                f"output.{self.name}: caption {self.caption!r} is not allowed; allowed: a "
                "caption only on an output the report shows (report=True)"
            )


def table(name: str, path: str, *, report: bool = False, caption: str | None = None) -> StudyOutput:
    """A table (``results/tables/``), shown in the report when ``report`` or captioned."""
    return StudyOutput(
        name=name,
        path=path,
        kind=OutputKind.TABLE,
        report=report or caption is not None,
        caption=caption,
    )


def figure(name: str, path: str, *, caption: str | None = None) -> StudyOutput:
    """A figure (``results/figures/``); with a caption file it is shown in the report."""
    return StudyOutput(
        name=name, path=path, kind=OutputKind.FIGURE, report=caption is not None, caption=caption
    )


def metrics(name: str, path: str) -> StudyOutput:
    """The study's summary metrics file (``results/metrics/``), a DVC metric."""
    return StudyOutput(name=name, path=path, kind=OutputKind.METRICS)


@dataclass(frozen=True)
class DvcPlot:
    """A folder of CSV files that ``dvc plots`` draws as one plot (x against y).

    The folder is a DVC output that is not cached (the CSVs are small and derived)."""

    path: str
    x: str
    y: str
    x_label: str
    y_label: str
    title: str


@dataclass(frozen=True)
class DpAxis:
    """How a study takes the DP axis (:mod:`leakbench.studies.dp_axis`).

    Attributes:
        keys: the wildcards that name a cell, in path order (``("dataset", "variant")``);
            every privacy variant of a cell is the path level after them.
        cells: every cell of the study under a validated config, in config order.
        description: the schema description of ``privacy.cells.<study>`` (the cell form).
    """

    keys: tuple[str, ...]
    cells: Callable[[Mapping[str, Any]], list[CellId]]
    description: str


@dataclass(frozen=True)
class StudySpec:
    """One study, declared once.

    Attributes:
        name: the config section and the path part of the study (``membership``).
        description: one line, for ``leakbench list``.
        reference: the paper(s) and section(s) it reproduces.
        schema: its config section's JSON-Schema fragment, a file in ``workflow/schemas/``.
        rules: its rules file in ``workflow/rules/``, included by the Snakefile.
        category: the report category of its shown outputs.
        outputs: its final outputs, the aggregate rule's outputs in order.
        experiment: its MLflow experiment (``leakbench-<name>``), None if it logs none;
            a logged study has a ``log_<name>`` rule writing :attr:`receipt`.
        dp_axis: how it takes the DP axis, None if it does not.
        plots: its DVC plots.
        artifacts: the folders of its intermediate results DVC versions
            (``results/models/<name>`` ...).
        requires: the studies whose config sections or rules it reads; it comes after them.
        required: whether every config must have its section.
    """

    name: str
    description: str
    reference: str
    schema: str
    rules: str
    category: str
    outputs: tuple[StudyOutput, ...]
    experiment: str | None
    dp_axis: DpAxis | None = None
    plots: tuple[DvcPlot, ...] = ()
    artifacts: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    required: bool = False

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ConfigError(
                f"study: {self.name!r} is not allowed; allowed: lower-case letters, digits "
                "and '_', starting with a letter"
            )
        for what in ("name", "path"):
            values = [getattr(o, what) for o in self.outputs]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ConfigError(
                    f"{self.name}.outputs: {what} {', '.join(repeated)} is not allowed; "
                    f"allowed: each output {what} once"
                )

    def of_kind(self, kind: OutputKind) -> tuple[StudyOutput, ...]:
        """The study's outputs of one kind, in declaration order."""
        return tuple(o for o in self.outputs if o.kind is kind)

    @property
    def receipt(self) -> str | None:
        """The tracking receipt its ``log_<name>`` rule writes (None if not logged)."""
        return None if self.experiment is None else f"results/tracking/{self.name}.json"

    @property
    def final_outputs(self) -> list[str]:
        """Every file ``rule all`` asks of the study: its outputs and its receipt."""
        receipt = [] if self.receipt is None else [self.receipt]
        return [o.path for o in self.outputs] + receipt
