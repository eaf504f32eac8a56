"""Shared fixtures, and the helpers that run Snakemake on config/test.yaml."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from leakbench.seeding import configure_torch

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The result folders whose bytes a run must reproduce (not logs, timings or receipts).
DETERMINISTIC = ("tables", "figures", "metrics", "attacks", "plots", "models", "data", "audit")


# The model shapes and random data of the training and privacy tests.
ARCHS = {
    "logreg": ({}, (7,)),
    "mlp": ({"hidden": [9, 5]}, (7,)),
    "cnn": ({"channels": [3, 4]}, (1, 8, 8)),
}
CLASSES = 3


def loaded_modules(code: str, modules: tuple[str, ...]) -> set[str]:
    """Those of ``modules`` a fresh interpreter has loaded after running ``code`` (with
    this checkout's ``src`` on its path)."""
    probe = "\n".join([code, "import sys", f"print(*(m for m in {modules!r} if m in sys.modules))"])
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def random_data(shape: tuple[int, ...], n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` records of ``shape`` uniform in [0, 1) (float32) and labels in range(CLASSES)."""
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape), dtype=np.float32), rng.integers(0, CLASSES, n)


def opacus_clipped_sums(model, x, y, clip: float) -> dict:
    """The reference for DP-SGD's clipping: Opacus's ``DPOptimizer`` with the noise off,
    ``{name: sum_i clip(g_i)}`` of ``model``'s per-record cross-entropy gradients on
    ``(x, y)`` (tensors), each clipped to ``clip``."""
    from opacus import GradSampleModule
    from opacus.optimizers import DPOptimizer

    sampled = GradSampleModule(model, loss_reduction="sum")
    optimizer = DPOptimizer(
        torch.optim.SGD(sampled.parameters(), lr=0.1),
        noise_multiplier=0.0,
        max_grad_norm=clip,
        expected_batch_size=len(y),
        loss_reduction="sum",
    )
    torch.nn.functional.cross_entropy(sampled(x), y, reduction="sum").backward()
    optimizer.clip_and_accumulate()
    return {name: p.summed_grad for name, p in model.named_parameters()}


@pytest.fixture
def deterministic_torch():
    """One thread and deterministic algorithms, as the workflow's jobs run torch."""
    configure_torch(1)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where the Snakefile is)."""
    return ROOT


def snakemake_command(workdir: Path, *args: str, config: Path | None = None) -> list[str]:
    """The command line of a Snakemake run of this workflow in ``workdir``."""
    return [
        str(BIN / "snakemake"),
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(config or ROOT / "config/test.yaml"),
        *args,
    ]


def workflow_env(workdir: Path) -> dict[str, str]:
    """The environment of a run: this venv first on PATH, MLflow in the run's folder."""
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }


def snakemake(
    repo_root: Path,
    workdir: Path,
    *args: str,
    config: Path | None = None,
    env: dict[str, str] | None = None,
):
    """Run Snakemake to the end; return the finished process (output captured).

    ``env`` adds to (or overrides) :func:`workflow_env`.
    """
    return subprocess.run(
        snakemake_command(workdir, *args, config=config),
        capture_output=True,
        text=True,
        env={**workflow_env(workdir), **(env or {})},
        check=False,
    )


def copy_repository(repo_root: Path, dest: Path) -> None:
    """Copy the checkout's files (tracked, and untracked but not ignored; no results) to
    ``dest``."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (repo_root / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo_root / name, dest / name)


def digests(workdir: Path) -> dict[str, str]:
    """sha256 of every file in the deterministic result folders, by relative path."""
    out = {}
    for top in DETERMINISTIC:
        for path in sorted((workdir / "results" / top).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(workdir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="session")
def run_seconds() -> dict[str, float]:
    """Wall seconds of each run of :func:`runs`, by its ``--cores`` (filled by ``runs``)."""
    return {}


@pytest.fixture(scope="session")
def runs(repo_root, tmp_path_factory, run_seconds):
    """Two clean, uninterrupted runs of the test config, with 1 and with 2 cores."""
    done = {}
    for cores in ("1", "2"):
        workdir = tmp_path_factory.mktemp(f"cores{cores}")
        started = time.monotonic()
        proc = snakemake(repo_root, workdir, "--cores", cores)
        run_seconds[cores] = time.monotonic() - started
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
        done[cores] = workdir
    return done


def pytest_terminal_summary(terminalreporter):
    """Print what tests measured (``record_property``): wall times and their ratios, which
    are reported, never asserted."""
    measured = [
        (report.nodeid, report.user_properties)
        for report in terminalreporter.stats.get("passed", [])
        if report.when == "call" and report.user_properties
    ]
    if measured:
        terminalreporter.section("measured")
        for nodeid, properties in measured:
            values = ", ".join(f"{key} {value}" for key, value in properties)
            terminalreporter.write_line(f"{nodeid}: {values}")
