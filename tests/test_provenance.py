"""Provenance: the git commit (with -dirty) and package versions, never an exception."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import leakbench
from leakbench.provenance import REPO_ROOT, git_commit, leakbench_version, package_version


def _git(repo, *args):
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """A git repository with one commit, a tracked file and an ignored folder."""
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("results/\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "add", ".gitignore", "a.py")
    _git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def test_clean_checkout_gives_the_head_sha(repo):
    sha = _git(repo, "rev-parse", "HEAD")
    assert len(sha) == 40
    assert git_commit(repo) == sha
    (repo / "results").mkdir()
    (repo / "results" / "out.json").write_text("{}")
    assert git_commit(repo) == sha  # ignored outputs do not make it dirty


def test_changes_make_it_dirty(repo):
    sha = _git(repo, "rev-parse", "HEAD")
    (repo / "a.py").write_text("x = 2\n")
    assert git_commit(repo) == f"{sha}-dirty"
    _git(repo, "checkout", "-q", "a.py")
    (repo / "new_module.py").write_text("")
    assert git_commit(repo) == f"{sha}-dirty"


def test_outside_git_or_before_a_commit_it_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert git_commit(tmp_path / "missing") == "unknown"
    (tmp_path / "plain").mkdir()
    assert git_commit(tmp_path / "plain") == "unknown"
    _git(tmp_path / "plain", "init", "-q")
    assert git_commit(tmp_path / "plain") == "unknown"


def test_without_git_installed_it_is_unknown(repo, monkeypatch):
    monkeypatch.setenv("PATH", str(repo))
    assert git_commit(repo) == "unknown"


def test_versions():
    assert leakbench_version() == leakbench.__version__
    assert package_version("numpy") == np.__version__
    assert package_version("no-such-distribution-leakbench") == "unknown"


# Everything the workflow writes outside results/: the default MLflow store (log_* jobs),
# its flock file and SQLite's journals, its artifact folder, Snakemake's state folder.
RUN_WRITES = (
    "mlflow.db",
    "mlflow.db.lock",
    "mlflow.db-journal",
    "mlflow.db-wal",
    "mlflow.db-shm",
    "mlartifacts/leakbench-membership/1/artifacts/record.json",
    "mlruns/0/meta.yaml",
    ".snakemake/locks/0.input.lock",
    ".snakemake/metadata/cmVzdWx0cw==",
    "results/report.html",
    "results/attacks/membership/purchase_synth/mlp128/nodp/loss.json",
)


def test_files_a_run_writes_do_not_make_the_checkout_dirty(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--no-local", str(REPO_ROOT), str(clone)],
        check=True,
        capture_output=True,
    )
    sha = _git(clone, "rev-parse", "HEAD")
    assert git_commit(clone) == sha
    for name in RUN_WRITES:
        path = clone / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("written by a run\n")
    assert git_commit(clone) == sha
    (clone / "notes.txt").write_text("not ignored\n")
    assert git_commit(clone) == f"{sha}-dirty"
