"""Spec of the collaborative-learning defences and active-attack study (Melis et al. 2019):
two-party synchronised SGD with an active multi-task adversary or under a defence (rules:
``collaborative_defences.smk``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leakbench.names import CellId
from leakbench.studies.spec import DpAxis, StudySpec, figure, metrics, table

KEYS = ("dataset", "variant")


def cells(config: Mapping[str, Any]) -> list[CellId]:
    """One cell per grid row, ``dataset/variant``, in grid order: each can run under
    participant-level DP (Section VIII-D)."""
    return [
        CellId.of(KEYS, (row["dataset"], row["variant"]))
        for row in config["collaborative_defences"]["grid"]
    ]


SPEC = StudySpec(
    name="collaborative_defences",
    description="Active property inference and defences in collaborative learning",
    reference="Melis et al. 2019 (Exploiting Unintended Feature Leakage in Collaborative "
    "Learning), sections IV-E, VI-E and VIII (VIII-D: participant-level DP), Fig. 7 and "
    "Tables V and VII",
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
        table(
            "dp_csv",
            "results/tables/collaborative_dp.csv",
            caption="collaborative_dp.rst",
        ),
        table("dp_md", "results/tables/collaborative_dp.md"),
    ),
    experiment="leakbench-collaborative_defences",
    dp_axis=DpAxis(
        keys=KEYS,
        cells=cells,
        description=(
            "Grid rows as dataset/variant, run again under participant-level DP (each "
            "update clipped to privacy.max_grad_norm, Gaussian noise on the sum) at every "
            "finite epsilon; null means every row."
        ),
    ),
    artifacts=("results/attacks/collaborative_defences",),
    required=True,
)
