"""Studies: each regenerates one family of a paper's figures and tables."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudySpec:
    """A study known to the workflow: its config key, what it reproduces and its outputs."""

    name: str
    description: str
    reference: str
    outputs: tuple[str, ...]


STUDIES: dict[str, StudySpec] = {
    "membership": StudySpec(
        name="membership",
        description="Membership inference with shadow models, and threshold baselines",
        reference="Shokri et al. 2017 (S&P), sections V-VI; Salem et al. 2019; Yeom et al. 2018",
        outputs=(
            "results/tables/membership.csv",
            "results/tables/membership.md",
            "results/metrics/membership.json",
            "results/figures/membership_roc.png",
            "results/figures/membership_roc.pdf",
        ),
    ),
    "property_poisoning": StudySpec(
        name="property_poisoning",
        description="Property inference from poisoning: label-only queries, shadow threshold",
        reference="Mahloujifar et al. 2022 (S&P), sections I and VI",
        outputs=(
            "results/tables/property_poisoning.csv",
            "results/tables/property_poisoning.md",
            "results/tables/property_regression.csv",
            "results/tables/property_regression.md",
            "results/metrics/property_poisoning.json",
            "results/figures/property_poisoning.png",
            "results/figures/property_poisoning.pdf",
        ),
    ),
    "privacy": StudySpec(
        name="privacy",
        description="DP-SGD variants: leakage and utility against epsilon; empirical DP audit",
        reference="Abadi et al. 2016; Jagielski et al. 2020; Nasr et al. 2021; "
        "Mahloujifar et al. 2022, section I",
        outputs=(
            "results/tables/dp_tradeoff.csv",
            "results/tables/dp_tradeoff.md",
            "results/tables/dp_audit.csv",
            "results/tables/dp_audit.md",
            "results/metrics/privacy.json",
            "results/figures/dp_tradeoff.png",
            "results/figures/dp_tradeoff.pdf",
            "results/figures/dp_audit.png",
            "results/figures/dp_audit.pdf",
        ),
    ),
}
