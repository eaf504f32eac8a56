"""Spec of the collaborative-learning study (Melis et al. 2019): simulated synchronised
SGD / federated averaging and passive batch-property inference (rules:
``collaborative.smk``)."""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, figure, metrics, table

SPEC = StudySpec(
    name="collaborative",
    description="Passive property inference from the updates of collaborative learning",
    reference="Melis et al. 2019 (Exploiting Unintended Feature Leakage in Collaborative "
    "Learning), sections IV-D, VI-B, VI-C, VII-A and VII-B, Table III and Figs. 4, 5, 8 "
    "and 10",
    schema="collaborative.schema.yaml",
    rules="collaborative.smk",
    category="Collaborative learning",
    outputs=(
        table("csv", "results/tables/collaborative.csv", report=True),
        table("md", "results/tables/collaborative.md"),
        metrics("summary", "results/metrics/collaborative.json"),
        figure("png", "results/figures/collaborative_k.png", caption="collaborative_k.rst"),
        figure("pdf", "results/figures/collaborative_k.pdf"),
        table(
            "fraction_csv",
            "results/tables/collaborative_fraction.csv",
            caption="collaborative_fraction.rst",
        ),
        table("fraction_md", "results/tables/collaborative_fraction.md"),
        table(
            "federated_csv",
            "results/tables/collaborative_federated.csv",
            caption="collaborative_federated.rst",
        ),
        table("federated_md", "results/tables/collaborative_federated.md"),
        table("rounds_csv", "results/tables/collaborative_rounds.csv"),
        table("rounds_md", "results/tables/collaborative_rounds.md"),
        figure(
            "rounds_png",
            "results/figures/collaborative_rounds.png",
            caption="collaborative_rounds.rst",
        ),
        figure("rounds_pdf", "results/figures/collaborative_rounds.pdf"),
    ),
    experiment="leakbench-collaborative",
    artifacts=("results/attacks/collaborative",),
    required=True,
)
