"""Adapter: the white-box Dirac-canary audits of the audit cell at one epsilon."""

from leakbench.runlog import log_to
from leakbench.steps import privacy
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
privacy.audit_whitebox(job=job, files=files)
