"""Table and figure of the collaborative-learning study (Melis et al. 2019, Table III and
Fig. 8)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.style
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakbench.reporting.collaborative_runs import property_label, runs_summary
from leakbench.reporting.figures import PANEL_INCHES, STYLE
from leakbench.reporting.records import MetricsRecord, RecordError


def _participants(record: MetricsRecord) -> list[str]:
    return sorted(record.metrics["auc"], key=int)


def auc_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """One row per (grid row, K): the algorithm, task, property, the task-property
    Pearson correlation (Table III's "Corr."), K and the attack's AUC; ``single_batch``
    marks the row's smallest K (Table III at K = 2)."""
    if not records:
        raise RecordError("collaborative: no records to tabulate")
    rows = []
    for r in records:
        grid, first = r.grid, _participants(r)[0]
        prop = property_label(grid)
        for k in _participants(r):
            rows.append(
                {
                    "dataset": r.dataset,
                    "variant": r.variant,
                    "algorithm": grid["algorithm"],
                    "task": grid["task"],
                    "property": prop,
                    "correlation": round(r.metrics["correlation"], 3),
                    "participants": int(k),
                    "single_batch": k == first,
                    "auc": round(r.metrics["auc"][k], 4),
                }
            )
    return pd.DataFrame(rows)


def summary(*, records: Sequence[MetricsRecord]) -> dict[str, Any]:
    """The DVC summary ``{dataset: {variant: {...}}}`` (the scorecard's paths):
    ``single_batch_auc``, ``correlation`` and ``auc`` by K, rounded to 4 digits, and
    ``runs`` (:func:`collaborative_runs.runs_summary`)."""
    out: dict[str, Any] = {}
    for r in records:
        m = r.metrics
        out.setdefault(r.dataset, {})[r.variant] = {
            "single_batch_auc": round(m["single_batch_auc"], 4),
            "correlation": round(m["correlation"], 4),
            "auc": {k: round(v, 4) for k, v in m["auc"].items()},
            "runs": runs_summary(r),
        }
    return out


def auc_figure(*, records: Sequence[MetricsRecord]) -> Figure:
    """Melis et al. Fig. 8: the passive attack's AUC against the number of participants K,
    one line per grid row with two K or more (a row at one K, such as a fraction, window or
    join row, is in the runs' tables), chance (0.5) dashed."""
    with matplotlib.style.context(["default", STYLE]):
        figure = Figure(figsize=(PANEL_INCHES, PANEL_INCHES))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        ax = figure.subplots()
        for r in records:
            ks = _participants(r)
            if len(ks) < 2:
                continue
            ax.plot(
                [int(k) for k in ks],
                [r.metrics["auc"][k] for k in ks],
                "o-",
                ms=3,
                label=f"{r.dataset}/{r.variant}",
            )
        ax.axhline(0.5, linestyle="--", color="0.5", linewidth=0.8)
        ax.set_ylim(0.4, 1.02)
        ax.set_xlabel("participants K")
        ax.set_ylabel("AUC, batch-property inference")
        ax.set_title("Fig. 8: AUC against K")
        ax.grid(True, linewidth=0.3)
        ax.legend(loc="lower left", fontsize=6)
    return figure
