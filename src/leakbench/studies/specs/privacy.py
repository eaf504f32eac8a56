"""Spec of the DP study: the DP axis aggregated over the studies that take it, and the
empirical audit of the membership variants (rules: ``privacy.smk``)."""

from __future__ import annotations

from leakbench.studies.spec import StudySpec, figure, metrics, table

SPEC = StudySpec(
    name="privacy",
    description="DP-SGD variants: leakage and utility against epsilon; empirical DP audit",
    reference="Abadi et al. 2016; Jagielski et al. 2020; Nasr et al. 2021; "
    "Mahloujifar et al. 2022, section I; Melis et al. 2019, section VIII-D",
    schema="privacy.schema.yaml",
    rules="privacy.smk",
    category="Differential privacy",
    outputs=(
        table("csv", "results/tables/dp_tradeoff.csv", report=True),
        table("md", "results/tables/dp_tradeoff.md"),
        table("audit_csv", "results/tables/dp_audit.csv", report=True),
        table("audit_md", "results/tables/dp_audit.md"),
        metrics("summary", "results/metrics/privacy.json"),
        figure("png", "results/figures/dp_tradeoff.png", caption="dp_tradeoff.rst"),
        figure("pdf", "results/figures/dp_tradeoff.pdf"),
        figure("audit_png", "results/figures/dp_audit.png", caption="dp_audit.rst"),
        figure("audit_pdf", "results/figures/dp_audit.pdf"),
        table("whitebox_csv", "results/tables/dp_whitebox.csv", report=True),
        table("whitebox_md", "results/tables/dp_whitebox.md"),
        figure("whitebox_png", "results/figures/dp_whitebox.png", caption="dp_whitebox.rst"),
        figure("whitebox_pdf", "results/figures/dp_whitebox.pdf"),
        table("audits_csv", "results/tables/dp_audits.csv", report=True),
        table("audits_md", "results/tables/dp_audits.md"),
        figure("audits_png", "results/figures/dp_audits.png", caption="dp_audits.rst"),
        figure("audits_pdf", "results/figures/dp_audits.pdf"),
    ),
    experiment="leakbench-privacy",
    artifacts=("results/audit",),
    requires=("collaborative_defences", "membership", "property_poisoning"),
)
