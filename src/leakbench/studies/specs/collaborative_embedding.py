"""Spec of the embedding-gradient study (Melis et al. 2019): membership and batch-property
inference from the embedding updates of collaborative learning, and the vocabulary-size
defence (rules: ``collaborative_embedding.smk``)."""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, metrics, table

SPEC = StudySpec(
    name="collaborative_embedding",
    description="Membership and property inference from embedding-layer updates",
    reference="Melis et al. 2019 (Exploiting Unintended Feature Leakage in Collaborative "
    "Learning), sections IV-C, VI-A and VIII-B, Tables II and VI",
    schema="collaborative_embedding.schema.yaml",
    rules="collaborative_embedding.smk",
    category="Collaborative learning",
    outputs=(
        table(
            "batch_csv",
            "results/tables/collaborative_embedding.csv",
            caption="collaborative_embedding.rst",
        ),
        table("batch_md", "results/tables/collaborative_embedding.md"),
        table(
            "vocab_csv",
            "results/tables/collaborative_vocabulary.csv",
            caption="collaborative_vocabulary.rst",
        ),
        table("vocab_md", "results/tables/collaborative_vocabulary.md"),
        metrics("summary", "results/metrics/collaborative_embedding.json"),
    ),
    experiment="leakbench-collaborative_embedding",
    artifacts=("results/attacks/collaborative_embedding",),
    required=True,
)
