"""Tables and figure of the collaborative defences and active-attack study (Melis et al.
2019, Fig. 7, Tables V and VII, and Section VIII-D's participant-level DP)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.style
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakbench.names import parse_variant_label
from leakbench.reporting.figures import PANEL_INCHES, STYLE
from leakbench.reporting.records import MetricsRecord, RecordError

ALPHA = "alpha"
DP_COLUMNS = (
    "dataset",
    "variant",
    "sweep",
    "value",
    "epsilon",
    "accountant_epsilon",
    "noise_multiplier",
    "clip_norm",
    "rounds",
    "auc",
    "accuracy",
)


def _values(record: MetricsRecord) -> list[str]:
    return sorted(record.metrics["auc"], key=float)


def sweep_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """One row per (grid row, sweep value): the sweep (alpha: Fig. 7, share_fraction:
    Table V, dropout: Table VII), its value, the task, the property with the task-property
    Pearson correlation, the attack's AUC and the joint model's main-task test accuracy
    (the utility beside it)."""
    if not records:
        raise RecordError("collaborative_defences: no records to tabulate")
    rows = []
    for r in records:
        grid = r.grid
        prop = grid["property"]
        if prop == "class":
            prop = f"class {grid['property_class']}"
        for value in _values(r):
            rows.append(
                {
                    "dataset": r.dataset,
                    "variant": r.variant,
                    "sweep": grid["sweep"],
                    "value": float(value),
                    "task": grid["task"],
                    "property": prop,
                    "correlation": round(r.metrics["correlation"], 3),
                    "auc": round(r.metrics["auc"][value], 4),
                    "accuracy": round(r.metrics["accuracy"][value], 4),
                }
            )
    return pd.DataFrame(rows)


def dp_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """Participant-level DP (Melis et al. 2019, Section VIII-D): one row per (DP cell, sweep
    value, privacy variant), the target epsilon (inf: the row's non-private run), the
    epsilon the accountant reports for the noise multiplier sigma at q = 1 over ``rounds``
    rounds, sigma, the clipping norm C, the attack's AUC and the joint model's main-task test
    accuracy. Sorted by cell and value, epsilon from inf down; no records, no rows."""
    rows = []
    for r in records:
        dp = r.metrics.get("dp")
        for value in _values(r):
            rows.append(
                {
                    "dataset": r.dataset,
                    "variant": parse_variant_label(r.variant)[0],
                    "sweep": r.grid["sweep"],
                    "value": float(value),
                    "epsilon": math.inf if dp is None else float(dp["target_epsilon"]),
                    "accountant_epsilon": math.nan if dp is None else round(dp["epsilon"], 4),
                    "noise_multiplier": 0.0 if dp is None else round(dp["noise_multiplier"], 4),
                    "clip_norm": math.nan if dp is None else float(dp["max_grad_norm"]),
                    "rounds": int(r.grid["rounds"]),
                    "auc": round(r.metrics["auc"][value], 4),
                    "accuracy": round(r.metrics["accuracy"][value], 4),
                }
            )
    table = pd.DataFrame(rows, columns=list(DP_COLUMNS))
    order = ["dataset", "variant", "value", "epsilon"]
    return table.sort_values(order, ascending=[True, True, True, False], kind="stable").reset_index(
        drop=True
    )


def summary(*, records: Sequence[MetricsRecord]) -> dict[str, Any]:
    """The DVC summary ``{dataset: {variant: {...}}}`` (the scorecard's paths): the
    sweep, ``correlation`` and ``auc`` and ``accuracy`` by sweep value, rounded to 4
    digits."""
    out: dict[str, Any] = {}
    for r in records:
        m = r.metrics
        out.setdefault(r.dataset, {})[r.variant] = {
            "sweep": r.grid["sweep"],
            "correlation": round(m["correlation"], 4),
            "auc": {k: round(v, 4) for k, v in m["auc"].items()},
            "accuracy": {k: round(v, 4) for k, v in m["accuracy"].items()},
        }
    return out


def alpha_figure(*, records: Sequence[MetricsRecord]) -> Figure:
    """Melis et al. Fig. 7a: the active attack's AUC against alpha (solid), with the joint
    model's main-task accuracy (dotted), one colour per alpha-sweep row; chance (0.5)
    dashed. Without an alpha sweep in the config the panel says so."""
    with matplotlib.style.context(["default", STYLE]):
        figure = Figure(figsize=(PANEL_INCHES, PANEL_INCHES))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        ax = figure.subplots()
        swept = [r for r in records if r.grid["sweep"] == ALPHA]
        for i, r in enumerate(swept):
            values = _values(r)
            alphas = [float(v) for v in values]
            colour = f"C{i}"
            name = f"{r.dataset}/{r.variant}"
            ax.plot(
                alphas,
                [r.metrics["auc"][v] for v in values],
                "o-",
                ms=3,
                color=colour,
                label=f"{name} AUC",
            )
            ax.plot(
                alphas,
                [r.metrics["accuracy"][v] for v in values],
                "s:",
                ms=3,
                color=colour,
                label=f"{name} accuracy",
            )
        if not swept:
            ax.text(0.5, 0.7, "no alpha sweep in this config", ha="center", fontsize=7)
        ax.axhline(0.5, linestyle="--", color="0.5", linewidth=0.8)
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(0.4, 1.02)
        ax.set_xlabel("alpha, weight of the property loss")
        ax.set_ylabel("AUC (attack) / accuracy (main task)")
        ax.set_title("Fig. 7a: AUC against alpha")
        ax.grid(True, linewidth=0.3)
        if swept:
            ax.legend(loc="lower left", fontsize=6)
    return figure
