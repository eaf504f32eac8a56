"""Spec of the membership study (Shokri et al. 2017; rules: ``membership.smk``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leakbench.estimators import is_family
from leakbench.names import CellId
from leakbench.studies.spec import DpAxis, DvcPlot, StudySpec, figure, metrics, table

KEYS = ("dataset", "variant")


def cells(config: Mapping[str, Any]) -> list[CellId]:
    """One cell per grid row that can train under DP-SGD, ``dataset/variant``, in grid
    order: the rows of a torch architecture (a scikit-learn family has no DP variant, so
    ``privacy.cells.membership`` cannot list its rows)."""
    return [
        CellId.of(KEYS, (row["dataset"], row["variant"]))
        for row in config["membership"]["grid"]
        if not is_family(row["arch"])
    ]


SPEC = StudySpec(
    name="membership",
    description="Membership inference with shadow models, and threshold baselines",
    reference=(
        "Shokri et al. 2017 (S&P), sections V-VI (V-C: shadow data), VIII (defences); "
        "Salem et al. 2019; "
        "Yeom et al. 2018"
    ),
    schema="membership.schema.yaml",
    rules="membership.smk",
    category="Membership inference",
    outputs=(
        table("csv", "results/tables/membership.csv", report=True),
        table("md", "results/tables/membership.md"),
        table(
            "defences_csv",
            "results/tables/membership_defences.csv",
            caption="membership_defences.rst",
        ),
        table("defences_md", "results/tables/membership_defences.md"),
        metrics("summary", "results/metrics/membership.json"),
        figure("png", "results/figures/membership_roc.png", caption="membership_roc.rst"),
        figure("pdf", "results/figures/membership_roc.pdf"),
        figure(
            "cdf_png",
            "results/figures/membership_precision_cdf.png",
            caption="membership_precision_cdf.rst",
        ),
        figure("cdf_pdf", "results/figures/membership_precision_cdf.pdf"),
        figure(
            "overfit_png",
            "results/figures/membership_overfitting.png",
            caption="membership_overfitting.rst",
        ),
        figure("overfit_pdf", "results/figures/membership_overfitting.pdf"),
    ),
    experiment="leakbench-membership",
    dp_axis=DpAxis(
        keys=KEYS,
        cells=cells,
        description=(
            "Grid rows as dataset/variant, of torch architectures only (scikit-learn "
            "families train no DP variant); null means every such row."
        ),
    ),
    plots=(
        DvcPlot(
            path="results/plots/membership",
            x="fpr",
            y="tpr",
            x_label="false-positive rate",
            y_label="true-positive rate",
            title="Membership inference ROC (one curve per dataset/variant/attack)",
        ),
    ),
    artifacts=("results/models/membership", "results/attacks/membership"),
    required=True,
)
