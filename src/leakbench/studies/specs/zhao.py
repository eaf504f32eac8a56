"""Spec of the Zhao et al. study: membership AUC by Hamming distance, strong membership
inference and approximate attribute inference (rules: ``zhao.smk``)."""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, figure, metrics, table

SPEC = StudySpec(
    name="zhao",
    description="Strong membership and approximate attribute inference on binary records",
    reference="Zhao et al. 2019 (On Inferring Training Data Attributes in Machine Learning "
    "Models), sections 2-3, Figs. 1-3 and 5",
    schema="zhao.schema.yaml",
    rules="zhao.smk",
    category="Strong membership and attribute inference",
    outputs=(
        table("csv", "results/tables/zhao.csv", report=True),
        table("md", "results/tables/zhao.md"),
        metrics("summary", "results/metrics/zhao.json"),
        figure("distance_png", "results/figures/zhao_distance.png", caption="zhao_distance.rst"),
        figure("distance_pdf", "results/figures/zhao_distance.pdf"),
        figure("strong_png", "results/figures/zhao_strong.png", caption="zhao_strong.rst"),
        figure("strong_pdf", "results/figures/zhao_strong.pdf"),
        figure("attribute_png", "results/figures/zhao_attribute.png", caption="zhao_attribute.rst"),
        figure("attribute_pdf", "results/figures/zhao_attribute.pdf"),
    ),
    experiment="leakbench-zhao",
    artifacts=("results/models/zhao", "results/attacks/zhao"),
    required=True,
)
