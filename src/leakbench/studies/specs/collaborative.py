"""Spec of the collaborative-learning study (Melis et al. 2019): simulated synchronised
SGD / federated averaging and passive batch-property inference (rules:
``collaborative.smk``)."""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, figure, metrics, table

SPEC = StudySpec(
    name="collaborative",
    description="Passive property inference from the updates of collaborative learning",
    reference="Melis et al. 2019 (Exploiting Unintended Feature Leakage in Collaborative "
    "Learning), sections IV-D, VI-B and VII-A, Table III and Fig. 8",
    schema="collaborative.schema.yaml",
    rules="collaborative.smk",
    category="Collaborative learning",
    outputs=(
        table("csv", "results/tables/collaborative.csv", report=True),
        table("md", "results/tables/collaborative.md"),
        metrics("summary", "results/metrics/collaborative.json"),
        figure("png", "results/figures/collaborative_k.png", caption="collaborative_k.rst"),
        figure("pdf", "results/figures/collaborative_k.pdf"),
    ),
    experiment="leakbench-collaborative",
    artifacts=("results/attacks/collaborative",),
    required=True,
)
