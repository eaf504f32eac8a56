"""Adapter: train one Song et al. grid row's benign and malicious models, decode, measure."""

from leakbench.runlog import log_to
from leakbench.steps import memorisation
from leakbench.steps.context import from_snakemake

log_to(snakemake.log[0])
job, files = from_snakemake(snakemake)
memorisation.encode(job=job, files=files)
