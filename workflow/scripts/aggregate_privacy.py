"""Adapter: the DP axis' trade-off and audit tables, figures and DVC summary."""

from leakbench.runlog import log_to
from leakbench.steps import privacy

log_to(snakemake.log[0])
privacy.aggregate(
    membership=list(snakemake.input.membership),
    audits=list(snakemake.input.audits),
    property_poisoning=list(snakemake.input.property_poisoning),
    tradeoff_csv=snakemake.output.csv,
    tradeoff_md=snakemake.output.md,
    audit_csv=snakemake.output.audit_csv,
    audit_md=snakemake.output.audit_md,
    summary_out=snakemake.output.summary,
    tradeoff_stem=snakemake.output.png.removesuffix(".png"),
    audit_stem=snakemake.output.audit_png.removesuffix(".png"),
)
