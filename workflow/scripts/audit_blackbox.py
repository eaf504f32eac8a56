"""Adapter: the black-box multi-run audit (canary loss) at one epsilon."""

from leakbench.runlog import log_to
from leakbench.steps import privacy
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
privacy.audit_blackbox(job=job, files=files)
