"""Table, summary, image grid and parameter histograms of the Song et al. 2017 encodings
(their Tables 2-5, Fig. 3 and Fig. 6, at small scale)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakbench.reporting.figures import STYLE
from leakbench.reporting.records import MetricsRecord, RecordError

COLUMNS = (
    "label",
    "encoding",
    "parameter",
    "countermeasure",
    "test_accuracy",
    "accuracy_drop",
    "images",
    "recovered",
    "mape",
    "ssim",
    "bits_flipped",
    "steps",
    "ks",
    "detected",
    "ks_matched",
    "detected_matched",
)
IMAGE_INCHES = 0.45


def memorisation_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """One row per grid row and encoding (and LSB countermeasure): benign and encoded
    test accuracy, images hidden and recovered, mean pixel error, SSIM, bits lost, the
    model's optimiser steps, the parameter-distribution statistic (KS against the benign
    reference) and whether it exceeds the benign models' threshold, and the same against
    the reference trained for as many steps as the model (``ks_matched``,
    ``detected_matched``: a capacity model's step-matched control, the benign reference
    for every other model)."""
    if not records:
        raise RecordError("memorisation: no records to tabulate")
    rows = []
    for r in records:
        for row in r.metrics["encodings"]:
            rows.append(
                {
                    "dataset": r.dataset,
                    "variant": r.variant,
                    "benign_accuracy": r.metrics["benign_test_accuracy"],
                    **{key: row[key] for key in COLUMNS},
                }
            )
    return pd.DataFrame(rows)


def summary(*, records: Sequence[MetricsRecord]) -> dict[str, Any]:
    """The DVC summary ``{dataset: {variant: {"benign_test_accuracy": a, label: {...}}}}``
    (the scorecard's paths), values rounded to 4 digits."""
    out: dict[str, Any] = {}
    for r in records:
        cell: dict[str, Any] = {"benign_test_accuracy": round(r.metrics["benign_test_accuracy"], 4)}
        for row in r.metrics["encodings"]:
            cell[row["label"]] = {
                key: (round(float(row[key]), 4) if row[key] is not None else None)
                for key in ("test_accuracy", "accuracy_drop", "recovered", "mape", "ssim")
            }
            cell[row["label"]]["recovered_fraction"] = round(row["recovered"] / row["images"], 4)
        cell["detection_rate"] = detection_rates(rows=r.metrics["encodings"])
        cell["detection_rate_matched"] = detection_rates(
            rows=r.metrics["encodings"], flag="detected_matched"
        )
        cell["benign_detected"] = r.metrics["detection"]["benign_detected"]
        out.setdefault(r.dataset, {})[r.variant] = cell
    return out


def detection_rates(
    *, rows: Sequence[Mapping[str, Any]], flag: str = "detected"
) -> dict[str, float]:
    """Per kind of model (the encoding, ``lsb-randomised`` for the countermeasure): the
    fraction of its models the parameter-distribution check flags (Song et al. 2017,
    section 7), ``#{flag} / #models``, rounded to 4 digits; ``flag`` names the check
    (``detected`` against the benign reference, ``detected_matched`` against the
    step-matched one)."""
    kinds: dict[str, list[bool]] = {}
    for row in rows:
        kind = row["encoding"] + ("-randomised" if row["countermeasure"] else "")
        kinds.setdefault(kind, []).append(bool(row[flag]))
    return {kind: round(sum(flags) / len(flags), 4) for kind, flags in kinds.items()}


def parameter_histograms(
    *, records: Sequence[MetricsRecord], arrays: Sequence[Mapping[str, np.ndarray]]
) -> Figure:
    """Song et al. Fig. 6 style: per grid row (a line of panels) and trained encoding (a
    panel), the distribution of the malicious model's parameters over the benign model's
    and, for capacity abuse, its step-matched benign reference's (fraction of parameters
    per bin; the bins span the benign model's central 99.8%, the values beyond it fall in
    the end bins)."""
    lines = []
    for r, data in zip(records, arrays, strict=True):
        labels = [row["label"] for row in r.metrics["encodings"] if f"hist_{row['label']}" in data]
        lines.append((r, data, labels))
    columns = max(len(labels) for _, _, labels in lines)
    if columns == 0:
        raise RecordError("memorisation: no trained encoding to draw parameter histograms of")
    with matplotlib.style.context(["default", STYLE]):
        figure = Figure(figsize=(2.2 * columns, 1.8 * len(lines)), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(len(lines), columns, squeeze=False)
        for (r, data, labels), line in zip(lines, axes, strict=True):
            centres = (data["hist_edges"][1:] + data["hist_edges"][:-1]) / 2
            for ax, label in zip(line, labels + [None] * (columns - len(labels)), strict=True):
                if label is None:
                    ax.axis("off")
                    continue
                ax.step(centres, data["hist_benign"], where="mid", color="0.4", label="benign")
                ax.step(centres, data[f"hist_{label}"], where="mid", color="C3", label=label)
                if f"hist_{label}-control" in data:
                    ax.step(
                        centres,
                        data[f"hist_{label}-control"],
                        where="mid",
                        color="C0",
                        linestyle="--",
                        label="benign, as many steps",
                    )
                ax.set_title(f"{r.dataset}/{r.variant}: {label}", fontsize=6)
                ax.set_xlabel("parameter value")
                ax.legend(fontsize=5, frameon=False)
            line[0].set_ylabel("fraction of parameters")
    return figure


def image_grid(
    *, records: Sequence[MetricsRecord], arrays: Sequence[Mapping[str, np.ndarray]]
) -> Figure:
    """Song et al. Fig. 3 style: per grid row, the original training images (top line)
    and what each encoding decoded from the parameters (one line each), grey levels."""
    lines = [
        (f"{r.dataset}/{r.variant}: original", data["original"], data["shape"])
        for r, data in zip(records, arrays, strict=True)
    ]
    for r, data in zip(records, arrays, strict=True):
        lines += [
            (row["label"], data[row["label"]], data["shape"]) for row in r.metrics["encodings"]
        ]
    columns = max(len(images) for _, images, _ in lines)
    with matplotlib.style.context(["default", STYLE]):
        figure = Figure(figsize=(IMAGE_INCHES * columns + 1.2, IMAGE_INCHES * len(lines)))
        FigureCanvasAgg(figure)
        axes = figure.subplots(len(lines), columns, squeeze=False)
        for (label, images, shape), line in zip(lines, axes, strict=True):
            for j, ax in enumerate(line):
                ax.set_xticks([])
                ax.set_yticks([])
                ax.axis("on" if j < len(images) else "off")
                if j < len(images):
                    ax.imshow(images[j].reshape(shape), cmap="gray", vmin=0, vmax=255)
            line[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=6)
        figure.subplots_adjust(
            left=1.1 / (IMAGE_INCHES * columns + 1.2),
            right=0.99,
            top=0.99,
            bottom=0.01,
            wspace=0.05,
            hspace=0.05,
        )
    return figure
