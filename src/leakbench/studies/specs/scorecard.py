"""Spec of the reproduction scorecard: every published number the other studies target,
leakbench's value beside it and a verdict (rules: ``scorecard.smk``; the numbers:
``workflow/scorecard/published.yaml``)."""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, metrics, table

SPEC = StudySpec(
    name="scorecard",
    description="Reproduction scorecard: each published number, leakbench's value, verdict",
    reference="Shokri et al. 2017; Mahloujifar et al. 2022, section I; Jagielski et al. 2020",
    schema="scorecard.schema.yaml",
    rules="scorecard.smk",
    category="Reproduction scorecard",
    outputs=(
        table("csv", "results/tables/scorecard.csv", caption="scorecard.rst"),
        table("md", "results/tables/scorecard.md"),
        metrics("summary", "results/metrics/scorecard.json"),
    ),
    experiment="leakbench-scorecard",
)
