"""Leakage against overfitting (Shokri et al. 2017, section VII and Fig. 11): one point per
membership grid row, x = the target's train - test accuracy, y = the attack's precision,
one series per model family; and whether precision grows with the gap within a family."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib.style
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakbench.names import REAL, parse_variant_label
from leakbench.reporting.figures import PANEL_INCHES, STYLE
from leakbench.reporting.records import MetricsRecord

ATTACK = "shokri"
"""The attack whose precision the figure plots (the paper's, section V)."""

COLUMNS = ("family", "dataset", "variant", "train_accuracy", "test_accuracy", "gap", "precision")


def family_label(grid: Mapping[str, Any]) -> str:
    """A grid row's model family: its architecture with its parameters, e.g.
    ``sklearn_logreg(C=100)`` or ``mlp(hidden=[128])`` (the paper's series are model
    configurations: Google, Amazon (10, 1e-6), Amazon (100, 1e-4), the neural network)."""
    params = grid.get("arch_params") or {}
    inside = ",".join(
        f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in sorted(params.items())
    )
    return f"{grid['arch']}({inside})" if inside else str(grid["arch"])


def overfitting_points(records: Iterable[MetricsRecord], *, attack: str = ATTACK) -> pd.DataFrame:
    """One row per membership grid row attacked by ``attack`` with real shadow data and
    without DP: its family, dataset, variant, the target's train and test accuracy, the
    gap train - test and the attack's precision; sorted by family, gap, dataset."""
    rows = []
    for r in records:
        variant, epsilon = parse_variant_label(r.variant)
        if r.attack != attack or r.grid.get("shadow_data", REAL) != REAL or math.isfinite(epsilon):
            continue
        train, test = (
            r.value("metrics", "target_train_accuracy"),
            r.value("metrics", "target_test_accuracy"),
        )
        rows.append(
            (
                family_label(r.grid),
                r.dataset,
                variant,
                train,
                test,
                train - test,
                r.value("metrics", "precision"),
            )
        )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.sort_values(["family", "gap", "dataset"], kind="stable").reset_index(drop=True)


def spearman(x: Iterable[float], y: Iterable[float]) -> float:
    """Spearman's rank correlation: Pearson's correlation of the average ranks of x and y
    (ties share their mean rank), rho = sum (r_i - r̄)(s_i - s̄) / sqrt(sum (r_i - r̄)^2
    sum (s_i - s̄)^2); 0 where either variable is constant. Two points give +1 or -1."""
    rx = pd.Series(list(x), dtype="float64").rank(method="average").to_numpy()
    ry = pd.Series(list(y), dtype="float64").rank(method="average").to_numpy()
    dx, dy = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float((dx**2).sum() * (dy**2).sum()))
    return 0.0 if denominator == 0 else float((dx * dy).sum() / denominator)


def family_trends(points: pd.DataFrame) -> dict[str, dict[str, float]]:
    """``{family: {"spearman": rho(gap, precision), "points": n}}`` for each family with at
    least two points: rho > 0 says leakage grows with the train-test gap within the family
    (Shokri et al. 2017, section VII, Fig. 11: "overfitting ... leaks more", for models of
    the same type)."""
    out: dict[str, dict[str, float]] = {}
    for family, group in points.groupby("family", sort=True):
        if len(group) >= 2:
            out[str(family)] = {
                "spearman": round(spearman(group["gap"], group["precision"]), 4),
                "points": len(group),
            }
    return out


def overfitting_figure(points: pd.DataFrame) -> Figure:
    """Attack precision against the target's train - test accuracy gap, one marker and
    line per family (points joined in gap order), each point labelled by its dataset.

    Returns:
        The figure, with an Agg canvas attached (an empty axis that says so when there are
        no points).
    """
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        figure = Figure(figsize=(PANEL_INCHES * 1.6, PANEL_INCHES + 0.2))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        ax = figure.subplots()
        for i, (family, group) in enumerate(points.groupby("family", sort=True)):
            ax.plot(
                group["gap"],
                group["precision"],
                marker="o",
                linewidth=0.8,
                color=colors[i % len(colors)],
                label=str(family),
            )
            for row in group.itertuples(index=False):
                ax.annotate(
                    row.dataset,
                    (row.gap, row.precision),
                    fontsize=5,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
        if points.empty:
            ax.text(0.5, 0.5, f"no {ATTACK} records", ha="center", transform=ax.transAxes)
        else:
            ax.legend(loc="lower right", fontsize=6)
        ax.axhline(0.5, color="grey", linewidth=0.5, linestyle="--")
        ax.grid(True, linewidth=0.3)
        ax.set_xlabel("target train - test accuracy")
        ax.set_ylabel(f"attack precision ({ATTACK})")
        ax.set_title("Leakage against overfitting")
    return figure
