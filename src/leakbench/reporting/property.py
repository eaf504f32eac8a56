"""Tables and the figure of the property-poisoning study (Mahloujifar et al. 2022)."""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.style
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakbench.reporting.figures import PANEL_INCHES, STYLE
from leakbench.reporting.records import MetricsRecord, RecordError

ATTACK_COLUMNS = (
    "property",
    "t0",
    "t1",
    "model",
    "poison_rate",
    "attack_accuracy",
    "ci_low",
    "ci_high",
    "clean_test_accuracy",
)
REGRESSION_COLUMNS = ("property", "model", "poison_rate", "mae", "clean_test_accuracy")


def attack_table(*, records: Iterable[MetricsRecord]) -> pd.DataFrame:
    """One row per (property, t0, t1, model, p): the attack's accuracy over target models
    with its Clopper-Pearson 95% interval, and the poisoned targets' clean test accuracy."""
    rows = []
    for r in records:
        rows.append(
            {
                "property": r.value("grid", "property"),
                "t0": float(r.value("grid", "t0")),
                "t1": float(r.value("grid", "t1")),
                "model": r.value("grid", "model"),
                "poison_rate": float(r.value("grid", "poison_rate")),
                "attack_accuracy": float(r.value("metrics", "attack_accuracy")),
                "ci_low": float(r.value("metrics", "attack_accuracy_ci_low")),
                "ci_high": float(r.value("metrics", "attack_accuracy_ci_high")),
                "clean_test_accuracy": float(r.value("metrics", "clean_test_accuracy")),
            }
        )
    table = pd.DataFrame(rows, columns=list(ATTACK_COLUMNS))
    order = ["property", "t0", "t1", "model", "poison_rate"]
    return table.sort_values(order, kind="stable").reset_index(drop=True)


def regression_table(*, records: Iterable[MetricsRecord]) -> pd.DataFrame:
    """One row per (property, model): mean absolute error of the estimated ratio."""
    rows = [
        {
            "property": r.value("grid", "property"),
            "model": r.value("grid", "model"),
            "poison_rate": float(r.value("grid", "poison_rate")),
            "mae": float(r.value("metrics", "mae")),
            "clean_test_accuracy": float(r.value("metrics", "clean_test_accuracy")),
        }
        for r in records
    ]
    table = pd.DataFrame(rows, columns=list(REGRESSION_COLUMNS))
    return table.sort_values(["property", "model"], kind="stable").reset_index(drop=True)


def attack_figure(*, table: pd.DataFrame) -> Figure:
    """Attack accuracy against the poisoning rate (Mahloujifar et al. 2022, Fig. 2 style):
    one panel per (ratio pair, model), one line per property, the 95% interval shaded, and
    chance (0.5) dashed."""
    if table.empty:
        raise RecordError("property_poisoning: no records to plot")
    panels = table[["t0", "t1", "model"]].drop_duplicates().itertuples(index=False)
    panels = sorted(panels)
    properties = sorted(table["property"].unique())
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        figure = Figure(figsize=(PANEL_INCHES * len(panels), PANEL_INCHES))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        axes = figure.subplots(1, len(panels), squeeze=False, sharey=True)[0]
        for ax, (t0, t1, model) in zip(axes, panels, strict=True):
            cell = table[(table.t0 == t0) & (table.t1 == t1) & (table.model == model)]
            for i, name in enumerate(properties):
                line = cell[cell.property == name].sort_values("poison_rate")
                color = colors[i % len(colors)]
                ax.plot(line.poison_rate, line.attack_accuracy, "o-", ms=3, color=color, label=name)
                ax.fill_between(
                    line.poison_rate, line.ci_low, line.ci_high, color=color, alpha=0.15
                )
            ax.axhline(0.5, linestyle="--", color="0.5", linewidth=0.8)
            ax.set_ylim(0.3, 1.02)
            ax.set_title(f"{model}: t0={t0:g} vs t1={t1:g}")
            ax.set_xlabel("poisoning rate p")
            ax.grid(True, linewidth=0.3)
        axes[0].set_ylabel("attack accuracy (targets)")
        axes[0].legend(loc="lower right", fontsize=6)
    return figure
