"""Tables and figures of the Zhao et al. 2019 study (Figs. 1, 2, 3 and 5 of the paper)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import comb
from typing import Any

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakbench.data.registry import get_dataset
from leakbench.reporting.figures import PANEL_INCHES, STYLE
from leakbench.reporting.records import MetricsRecord, RecordError

SUMMARY_KEYS = (
    "auc",
    "target_train_accuracy",
    "target_test_accuracy",
    "median_distance",
    "attribute_mean_distance",
    "attribute_random_distance",
)


def _label(record: MetricsRecord) -> str:
    return f"{record.dataset}/{record.variant}"


def zhao_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """One row per grid row: data set (and whether it is a synthetic stand-in), target
    accuracies, membership AUC (Definition 1), median distance of non-members to the
    nearest member, AUC of the closest distance bin, strong-membership AUC at the
    smallest and largest r, and the attribute-inference mean distance beside m'/2."""
    if not records:
        raise RecordError("zhao: no records to tabulate")
    rows = []
    for r in records:
        m = r.metrics
        flips = sorted(m["strong_auc"], key=int)
        nearest = m["distance_bins"][0]
        rows.append(
            {
                "dataset": r.dataset,
                "variant": r.variant,
                "synthetic": get_dataset(r.dataset).synthetic,
                "train_accuracy": m["target_train_accuracy"],
                "test_accuracy": m["target_test_accuracy"],
                "auc": m["auc"],
                "median_distance": m["median_distance"],
                "nearest_bin": f"[{nearest['low']}, {nearest['high']})",
                "auc_nearest_bin": nearest["auc"],
                "r_min": int(flips[0]),
                "auc_r_min": m["strong_auc"][flips[0]],
                "r_max": int(flips[-1]),
                "auc_r_max": m["strong_auc"][flips[-1]],
                "unknown": len(m["unknown_features"]),
                "attribute_distance": m["attribute_mean_distance"],
                "random_distance": m["attribute_random_distance"],
            }
        )
    return pd.DataFrame(rows)


def summary(*, records: Sequence[MetricsRecord]) -> dict[str, Any]:
    """The DVC summary ``{dataset: {variant: {key: value}}}`` (the scorecard's paths),
    values rounded to 4 digits; ``strong_auc`` maps r to the AUC."""
    out: dict[str, Any] = {}
    for r in records:
        cell = {key: round(float(r.metrics[key]), 4) for key in SUMMARY_KEYS}
        cell["strong_auc"] = {k: round(v, 4) for k, v in r.metrics["strong_auc"].items()}
        out.setdefault(r.dataset, {})[r.variant] = cell
    return out


def _figure(panels: int) -> tuple[Figure, Any]:
    figure = Figure(figsize=(PANEL_INCHES * panels, PANEL_INCHES))
    FigureCanvasAgg(figure)
    figure.set_layout_engine("constrained")
    return figure, figure.subplots(1, panels, squeeze=False)[0]


def distance_figure(
    *, records: Sequence[MetricsRecord], arrays: Sequence[Mapping[str, np.ndarray]]
) -> Figure:
    """Zhao et al. Figs. 1 and 2: left, the histogram of non-members' Hamming distances to
    the nearest member; right, the AUC of members against the non-members of each
    distance bin, one line per grid row, chance (0.5) dashed."""
    with matplotlib.style.context(["default", STYLE]):
        figure, (hist, aucs) = _figure(2)
        for record, data in zip(records, arrays, strict=True):
            bins = record.metrics["distance_bins"]
            edges = [b["low"] for b in bins] + [bins[-1]["high"]]
            width = bins[0]["high"] - bins[0]["low"]
            full = np.arange(edges[0], edges[-1] + width, width)
            hist.hist(data["distances"], bins=full, histtype="step", label=_label(record))
            centres = [(b["low"] + b["high"]) / 2 for b in bins]
            aucs.plot(centres, [b["auc"] for b in bins], "o-", ms=3, label=_label(record))
        hist.set_xlabel("Hamming distance to the nearest member")
        hist.set_ylabel("non-members")
        hist.set_title("Fig. 2: non-member distances")
        aucs.axhline(0.5, linestyle="--", color="0.5", linewidth=0.8)
        aucs.set_xlabel("distance to the nearest member (bin centre)")
        aucs.set_ylabel("AUC, members vs the bin's non-members")
        aucs.set_title("Fig. 1: AUC by distance")
        for ax in (hist, aucs):
            ax.grid(True, linewidth=0.3)
        aucs.legend(loc="lower right", fontsize=6)
    return figure


def strong_figure(*, records: Sequence[MetricsRecord]) -> Figure:
    """Zhao et al. Fig. 3: AUC of members against their synthetic r-neighbours, against r,
    one line per grid row, chance (0.5) dashed."""
    with matplotlib.style.context(["default", STYLE]):
        figure, (ax,) = _figure(1)
        for record in records:
            strong = record.metrics["strong_auc"]
            flips = sorted(strong, key=int)
            ax.plot(
                [int(r) for r in flips],
                [strong[r] for r in flips],
                "o-",
                ms=3,
                label=_label(record),
            )
        ax.axhline(0.5, linestyle="--", color="0.5", linewidth=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("r, features flipped")
        ax.set_ylabel("AUC, members vs r-neighbours")
        ax.set_title("Fig. 3: strong membership inference")
        ax.grid(True, linewidth=0.3)
        ax.legend(loc="upper left", fontsize=6)
    return figure


def attribute_figure(
    *, records: Sequence[MetricsRecord], arrays: Sequence[Mapping[str, np.ndarray]]
) -> Figure:
    """Zhao et al. Fig. 5: the distribution of the Hamming distance of the guessed
    completion to the true record (tied guesses averaged), one panel per grid row, beside
    random guessing's Binomial(m', 1/2) (mean m'/2)."""
    with matplotlib.style.context(["default", STYLE]):
        figure, axes = _figure(len(records))
        for ax, record, data in zip(axes, records, arrays, strict=True):
            width = len(record.metrics["unknown_features"])
            found = data["attribute_distances"]
            edges = np.arange(width + 2) - 0.5
            ax.hist(found, bins=edges, density=True, alpha=0.6, label="max-confidence guess")
            k = np.arange(width + 1)
            ax.plot(
                k, [comb(width, int(i)) / 2**width for i in k], "k.--", ms=3, label="random guess"
            )
            ax.axvline(float(found.mean()), color="C0", linewidth=0.8)
            ax.axvline(width / 2, color="k", linewidth=0.8, linestyle=":")
            ax.set_title(f"Fig. 5: {_label(record)}, m'={width}")
            ax.set_xlabel("Hamming distance to the true record")
            ax.grid(True, linewidth=0.3)
        axes[0].set_ylabel("fraction of targets")
        axes[0].legend(loc="upper left", fontsize=6)
    return figure
