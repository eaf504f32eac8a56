"""Spec of the collaborative-learning defences and active-attack study (Melis et al. 2019):
two-party synchronised SGD with an active multi-task adversary or under a defence (rules:
``collaborative_defences.smk``)."""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, figure, metrics, table

SPEC = StudySpec(
    name="collaborative_defences",
    description="Active property inference and defences in collaborative learning",
    reference="Melis et al. 2019 (Exploiting Unintended Feature Leakage in Collaborative "
    "Learning), sections IV-E, VI-E and VIII, Fig. 7 and Tables V and VII",
    schema="collaborative_defences.schema.yaml",
    rules="collaborative_defences.smk",
    category="Collaborative learning",
    outputs=(
        table(
            "csv",
            "results/tables/collaborative_defences.csv",
            caption="collaborative_defences.rst",
        ),
        table("md", "results/tables/collaborative_defences.md"),
        metrics("summary", "results/metrics/collaborative_defences.json"),
        figure(
            "png",
            "results/figures/collaborative_alpha.png",
            caption="collaborative_alpha.rst",
        ),
        figure("pdf", "results/figures/collaborative_alpha.pdf"),
    ),
    experiment="leakbench-collaborative_defences",
    artifacts=("results/attacks/collaborative_defences",),
    required=True,
)
