"""Spec of the reference-model membership study: LiRA and RMIA on keep-matrix models
(Carlini et al. 2022; Zarifzadeh et al. 2024; rules: ``membership_lira.smk``)."""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, figure, metrics, table

SPEC = StudySpec(
    name="membership_lira",
    description="LiRA and RMIA on N keep-matrix reference models, TPR at low FPR",
    reference="Carlini et al. 2022 (S&P), sections IV and VI; Zarifzadeh et al. 2024 (ICML), "
    "sections 3 and 5",
    schema="membership_lira.schema.yaml",
    rules="membership_lira.smk",
    category="Membership inference with reference models",
    outputs=(
        table("csv", "results/tables/membership_lira.csv", report=True),
        table("md", "results/tables/membership_lira.md"),
        metrics("summary", "results/metrics/membership_lira.json"),
        figure("png", "results/figures/membership_lira_roc.png", caption="membership_lira_roc.rst"),
        figure("pdf", "results/figures/membership_lira_roc.pdf"),
        figure(
            "refs_png",
            "results/figures/membership_lira_references.png",
            caption="membership_lira_references.rst",
        ),
        figure("refs_pdf", "results/figures/membership_lira_references.pdf"),
    ),
    experiment="leakbench-membership_lira",
    artifacts=("results/models/membership_lira", "results/attacks/membership_lira"),
    required=True,
)
