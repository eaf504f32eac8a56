"""Table, summary and image grid of the Song et al. 2017 white-box encodings (their
Tables 2-5 and Fig. 3, at small scale)."""

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
)
IMAGE_INCHES = 0.45


def memorisation_table(*, records: Sequence[MetricsRecord]) -> pd.DataFrame:
    """One row per grid row and encoding (and LSB countermeasure): benign and encoded
    test accuracy, images hidden and recovered, mean pixel error, SSIM, bits lost."""
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
        out.setdefault(r.dataset, {})[r.variant] = cell
    return out


def image_grid(
    *, records: Sequence[MetricsRecord], arrays: Sequence[Mapping[str, np.ndarray]]
) -> Figure:
    """Song et al. Fig. 3 style: per grid row, the original training images (top line)
    and what each encoding decoded from the parameters (one line each), grey levels."""
    lines = [
        (f"{r.variant}: original", data["original"], data["shape"])
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
