"""Tables and figure of the collaborative study's runs (Melis et al. 2019): AUC by the
property's fraction of a batch with whole-run inference (Fig. 4, Section IV-D), federated
averaging with a late joiner (Figs. 9 and 10), the classifier's score per round (Figs. 5
and 10), each run with the global model's main-task accuracy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakbench.reporting.figures import PANEL_INCHES, STYLE
from leakbench.reporting.records import MetricsRecord

RUN_COLUMNS = (
    "dataset", "variant", "task", "property", "correlation", "participants", "fraction",
    "join_round", "auc", "whole_run_auc", "accuracy",
)  # fmt: skip
ROUND_COLUMNS = ("dataset", "variant", "participants", "fraction", "round", "has_property",
                 "score")  # fmt: skip


def property_label(grid: dict[str, Any]) -> str:
    """``class 3``, ``class 3/8`` (a list of classes) or the record property's name."""
    if grid["property"] != "class":
        return grid["property"]
    value = grid["property_class"]
    return "class " + "/".join(str(c) for c in (value if isinstance(value, list) else [value]))


def _number(value: float | None) -> float:
    return math.nan if value is None else round(float(value), 4)


def runs_table(*, records: Sequence[MetricsRecord], algorithm: str) -> pd.DataFrame:
    """One row per (grid row of ``algorithm``, K, fraction): the task, property, Pearson r
    (Table III's "Corr."), K, the fraction, the target's join round (Fig. 10; 0: from the
    start), the run's AUC, the whole-run AUC (Section IV-D; NaN without trials) and
    the global model's main-task test accuracy (NaN without test records). No such row:
    the columns only."""
    rows = []
    for r in records:
        grid = r.grid
        if grid["algorithm"] != algorithm:
            continue
        for run in r.metrics["runs"]:
            rows.append(
                {
                    "dataset": r.dataset,
                    "variant": r.variant,
                    "task": grid["task"],
                    "property": property_label(grid),
                    "correlation": round(r.metrics["correlation"], 3),
                    "participants": run["participants"],
                    "fraction": run["fraction"],
                    "join_round": grid["join_round"] or 0,
                    "auc": _number(run["auc"]),
                    "whole_run_auc": _number(run["whole_run_auc"]),
                    "accuracy": _number(run["accuracy"]),
                }
            )
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def rounds_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """One row per (window or join grid row, K, fraction, round): the classifier's score
    and whether the target's update in that round had the property (Figs. 5 and 10). No
    such row: the columns only."""
    rows = [
        {
            "dataset": r.dataset,
            "variant": r.variant,
            "participants": run["participants"],
            "fraction": run["fraction"],
            "round": t,
            "has_property": bool(flag),
            "score": round(score, 4),
        }
        for r in records
        for run in r.metrics["rounds"]
        for t, (score, flag) in enumerate(zip(run["scores"], run["has_property"], strict=True))
    ]
    return pd.DataFrame(rows, columns=ROUND_COLUMNS)


def rounds_figure(*, records: Sequence[MetricsRecord]) -> Figure:
    """Melis et al. Figs. 5 and 10: the batch-property classifier's score per round, one
    panel per (window or join row, K, fraction), the rounds whose update had the property
    shaded. No such row: one empty panel that says so."""
    panels = [(r, run) for r in records for run in r.metrics["rounds"]]
    with matplotlib.style.context(["default", STYLE]):
        figure = Figure(figsize=(PANEL_INCHES * len(panels), PANEL_INCHES * 0.8))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        axes = figure.subplots(1, max(1, len(panels)), squeeze=False)[0]
        if not panels:
            axes[0].text(0.5, 0.5, "no grid row with a window or a join round", ha="center")
        for ax, (r, run) in zip(axes, panels, strict=False):
            flags = np.asarray(run["has_property"], bool)
            rounds = np.arange(flags.size)
            ax.fill_between(rounds, 0, 1, where=flags, step="mid", color="C1", alpha=0.2,
                            linewidth=0, label="property present")  # fmt: skip
            ax.plot(rounds, run["scores"], "-", color="C0", linewidth=0.8, label="score")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("round")
            ax.set_ylabel("P(batch has the property)")
            ax.set_title(
                f"{r.dataset}/{r.variant}, K = {run['participants']}, fraction {run['fraction']:g}",
                fontsize=7,
            )
            ax.legend(loc="lower right", fontsize=6)
    return figure


def runs_summary(record: MetricsRecord) -> dict[str, Any]:
    """``{K: {fraction: {auc, whole_run_auc, accuracy}}}`` rounded to 4 digits (the
    scorecard's paths; None where not computed)."""
    out: dict[str, Any] = {}
    for run in record.metrics["runs"]:
        out.setdefault(str(run["participants"]), {})[f"{run['fraction']:g}"] = {
            key: None if run[key] is None else round(run[key], 4)
            for key in ("auc", "whole_run_auc", "accuracy")
        }
    return out
