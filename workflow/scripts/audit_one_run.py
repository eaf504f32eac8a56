"""Adapter: the white-box one-run audit (m Dirac canaries in one run) at one epsilon."""

from leakbench.runlog import log_to
from leakbench.steps import privacy
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
privacy.audit_one_run(job=job, files=files)
