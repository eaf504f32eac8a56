"""Membership ROC and per-class precision figures, saved as PNG and PDF whose bytes depend
only on the data.

Determinism: figures are drawn and saved under matplotlib's built-in default style plus
:data:`STYLE` (a bundled font, a fixed dpi), so a user's ``matplotlibrc`` cannot change
the bytes; PNG and PDF metadata that carry a date or the matplotlib version are dropped,
so ``SOURCE_DATE_EPOCH`` and the wall clock play no part. Bytes are stable for a fixed
matplotlib and FreeType build, not across them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import matplotlib.style
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from leakbench.io import atomic_path
from leakbench.reporting.records import RecordError
from leakbench.reporting.roc import check_curve, roc_auc

DPI = 150
DEFAULT_MIN_RATE = 1e-3
PANEL_INCHES = 3.0
STYLE: dict[str, object] = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: no system font lookup
    "font.size": 8,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "pdf.fonttype": 3,
}
PNG_METADATA: dict[str, str | None] = {"Software": None}
PDF_METADATA: dict[str, str | None] = {"Creator": None, "Producer": None, "CreationDate": None}


def membership_roc_figure(
    *,
    rocs: Mapping[str, Mapping[str, tuple[ArrayLike, ArrayLike]]],
    min_rate: float | None = None,
) -> Figure:
    """ROC curves on log-log axes, one panel per dataset, as in Carlini et al. 2022.

    Log scales show the low false-positive region where an attack is useful (Carlini et
    al. 2022, "Membership Inference Attacks From First Principles", S&P, Sec. III).
    Points with a zero rate are clipped to the axis edge. Each panel has the chance
    diagonal and a legend with each curve's AUC (:func:`roc_auc`).

    Args:
        rocs: ``{dataset: {label: (fpr, tpr)}}``; a label is normally the attack name (or
            ``variant/attack`` when a dataset has several variants). Panels are ordered by
            dataset name and curves by label; a label has the same colour in every panel.
        min_rate: The lower limit of both axes. By default 1e-3, or the smallest positive
            false-positive rate of any curve (1/n for n non-members) when that is smaller.

    Returns:
        The figure, with an Agg canvas attached.
    """
    if not rocs or any(not curves for curves in rocs.values()):
        raise RecordError("rocs: expected at least one dataset, each with at least one curve")
    panels = {
        dataset: {
            label: check_curve(f"{dataset}/{label}", *rocs[dataset][label])
            for label in sorted(rocs[dataset])
        }
        for dataset in sorted(rocs)
    }
    if min_rate is None:
        positive = [
            float(x[x > 0].min()) for c in panels.values() for x, _ in c.values() if x.max() > 0
        ]
        min_rate = min([DEFAULT_MIN_RATE, *positive])
    elif not 0 < min_rate < 1:
        raise ValueError(f"min_rate: {min_rate!r} is not allowed; expected 0 < min_rate < 1")

    labels = sorted({label for curves in panels.values() for label in curves})
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        color = {label: colors[i % len(colors)] for i, label in enumerate(labels)}
        figure = Figure(figsize=(PANEL_INCHES * len(panels), PANEL_INCHES + 0.2))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        axes = figure.subplots(1, len(panels), squeeze=False)[0]
        for ax, (dataset, curves) in zip(axes, panels.items(), strict=True):
            for label, (fpr, tpr) in curves.items():
                auc = roc_auc(fpr=fpr, tpr=tpr)
                ax.plot(
                    fpr, tpr, color=color[label], linewidth=1.2, label=f"{label} (AUC {auc:.3f})"
                )
            ax.plot([min_rate, 1], [min_rate, 1], "--", color="0.5", linewidth=0.8, label="chance")
            ax.set_xscale("log", nonpositive="clip")
            ax.set_yscale("log", nonpositive="clip")
            ax.set_xlim(min_rate, 1)
            ax.set_ylim(min_rate, 1)
            ax.set_aspect("equal")
            ax.grid(True, which="major", linewidth=0.3)
            ax.set_title(dataset)
            ax.set_xlabel("false-positive rate")
            ax.legend(loc="lower right", fontsize=6)
        axes[0].set_ylabel("true-positive rate")
    return figure


def precision_cdf_figure(*, precisions: Mapping[str, Mapping[str, ArrayLike]]) -> Figure:
    """Cumulative fraction of classes against per-class attack precision, one panel per
    grid row and one step curve per shadow-data variant, as Shokri et al. 2017 (IEEE S&P)
    Figs. 8 and 9: a point (x, y) says that a fraction y of the classes have precision at
    most x (the empirical CDF, F(x) = #{c : p_c <= x} / #classes).

    Args:
        precisions: ``{panel: {label: per-class precisions}}`` (a panel is normally
            ``dataset/variant``, a label the shadow-data variant); panels and curves are
            ordered by name, and a label has the same colour in every panel.

    Returns:
        The figure, with an Agg canvas attached.
    """
    if not precisions or any(not curves for curves in precisions.values()):
        raise RecordError("precisions: expected at least one panel, each with one curve")
    labels = sorted({label for curves in precisions.values() for label in curves})
    with matplotlib.style.context(["default", STYLE]):
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        color = {label: colors[i % len(colors)] for i, label in enumerate(labels)}
        figure = Figure(figsize=(PANEL_INCHES * len(precisions), PANEL_INCHES + 0.2))
        FigureCanvasAgg(figure)
        figure.set_layout_engine("constrained")
        axes = figure.subplots(1, len(precisions), squeeze=False)[0]
        for ax, panel in zip(axes, sorted(precisions), strict=True):
            for label in sorted(precisions[panel]):
                values = np.sort(np.asarray(precisions[panel][label], dtype=np.float64))
                if values.size == 0:
                    continue
                steps = np.arange(1, values.size + 1) / values.size
                ax.step(
                    np.concatenate([[0.0], values, [1.0]]),
                    np.concatenate([[0.0], steps, [1.0]]),
                    where="post",
                    color=color[label],
                    linewidth=1.2,
                    label=f"{label} (mean {values.mean():.3f})",
                )
            ax.set_xlim(0, 1.02)
            ax.set_ylim(0, 1.02)
            ax.grid(True, linewidth=0.3)
            ax.set_title(panel)
            ax.set_xlabel("attack precision")
            ax.legend(loc="upper left", fontsize=6)
        axes[0].set_ylabel("cumulative fraction of classes")
    return figure


def save_figure(*, figure: Figure, stem: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``<stem>.png`` and ``<stem>.pdf`` atomically and byte-deterministically.

    Args:
        figure: The figure to save.
        stem: The output path without suffix (``results/figures/membership_roc``).

    Returns:
        The PNG and PDF paths.
    """
    base = Path(stem)
    png = base.with_name(f"{base.name}.png")
    pdf = base.with_name(f"{base.name}.pdf")
    with matplotlib.style.context(["default", STYLE]):
        for path, fmt, metadata in ((png, "png", PNG_METADATA), (pdf, "pdf", PDF_METADATA)):
            with atomic_path(path) as tmp:
                figure.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
    return png, pdf
