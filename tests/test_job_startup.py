"""Each workflow job imports only what its step needs: torch, scikit-learn and matplotlib
cost a second each of start-up in every job that imports them (benchmarks/job_startup.py
measures it), so the jobs that need none of them must not pull them in by accident."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import loaded_modules

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow/scripts"
HEAVY = ("torch", "sklearn", "matplotlib")


def _heavy_imports(script: Path) -> set[str]:
    """The packages of :data:`HEAVY` a fresh interpreter loads running the adapter's imports."""
    lines = [line for line in script.read_text().splitlines() if re.match(r"(from|import) ", line)]
    return loaded_modules("\n".join(lines), HEAVY)


@pytest.mark.parametrize(
    "script",
    [
        "fetch_data.py",
        "prepare_data.py",
        "log_study.py",
        *sorted(p.name for p in SCRIPTS.glob("aggregate_*.py")),
    ],
)
def test_data_reporting_and_tracking_jobs_import_no_torch_or_sklearn(script):
    heavy = _heavy_imports(SCRIPTS / script)
    assert not heavy & {"torch", "sklearn"}, heavy
    if not script.startswith("aggregate_"):
        assert "matplotlib" not in heavy, heavy


@pytest.mark.parametrize("script", ["train_membership.py", "attack_membership.py"])
def test_training_and_attack_jobs_import_no_sklearn_or_matplotlib(script):
    assert not _heavy_imports(SCRIPTS / script) & {"sklearn", "matplotlib"}


def test_a_job_side_workflow_parse_imports_no_torch_or_scipy(tmp_path):
    """Inside a Slurm allocation every job parses the workflow once more (exec mode remote,
    as snakemake-executor-plugin-slurm starts it): that parse must not load torch or SciPy,
    which cost a second each per job (the planning parse, which checks the config across
    fields, may). The job is the test config's fetch of adult; ``-n`` stops before it runs."""
    command = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(ROOT / "config/test.yaml"),
        "--mode",
        "remote",
        "--target-jobs",
        "fetch_data:dataset=adult",
        "--allowed-rules",
        "fetch_data",
        "--cores",
        "1",
        "--dry-run",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", proc.stderr, re.M))
    assert "snakemake.workflow" in loaded, proc.stderr[-2000:]  # the probe reads imports
    assert not loaded & {"torch", "scipy"}, sorted(loaded & {"torch", "scipy"})
