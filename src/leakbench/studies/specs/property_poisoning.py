"""Spec of the property-poisoning study (Mahloujifar et al. 2022; rules:
``property_poisoning.smk``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leakbench.names import CellId, RatioPair
from leakbench.studies.spec import DpAxis, StudySpec, figure, metrics, table

KEYS = ("property", "group", "model")


def cells(config: Mapping[str, Any]) -> list[CellId]:
    """One cell per property, ratio pair and model, ``property/t0-t1/model``, in config
    order."""
    section = config["property_poisoning"]
    return [
        CellId.of(KEYS, (prop, RatioPair(t0, t1), row["variant"]))
        for prop in section["properties"]
        for t0, t1 in section["ratio_pairs"]
        for row in section["models"]
    ]


SPEC = StudySpec(
    name="property_poisoning",
    description="Property inference from poisoning: label-only queries, shadow threshold",
    reference="Mahloujifar et al. 2022 (S&P), sections I and VI",
    schema="property_poisoning.schema.yaml",
    rules="property_poisoning.smk",
    category="Property inference from poisoning",
    outputs=(
        table("csv", "results/tables/property_poisoning.csv", report=True),
        table("md", "results/tables/property_poisoning.md"),
        table("regression_csv", "results/tables/property_regression.csv"),
        table("regression_md", "results/tables/property_regression.md"),
        metrics("summary", "results/metrics/property_poisoning.json"),
        figure("png", "results/figures/property_poisoning.png", caption="property_poisoning.rst"),
        figure("pdf", "results/figures/property_poisoning.pdf"),
    ),
    experiment="leakbench-property_poisoning",
    dp_axis=DpAxis(
        keys=KEYS,
        cells=cells,
        description="Groups as property/t0-t1/model (e.g. sex/0.1-0.25/logreg); null means "
        "every group.",
    ),
    artifacts=("results/models/property_poisoning", "results/attacks/property_poisoning"),
    required=True,
)
