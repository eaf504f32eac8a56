"""Where a result came from: the git commit of the checkout, package versions, the platform.

Both lookups are best effort by design: a result computed outside a git checkout, or with a
package missing, still gets a provenance string ("unknown") rather than an exception.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from leakbench import __version__

UNKNOWN = "unknown"
_GIT_TIMEOUT_S = 10
# The checkout this library runs from (src/leakbench/provenance.py -> the repository root).
REPO_ROOT = Path(__file__).resolve().parents[2]
# The distributions whose versions decide a result's numbers (models, DP accounting, I/O).
NUMERIC_PACKAGES = ("numpy", "torch", "opacus")


def _git(repo_dir: Path, *args: str) -> str | None:
    """Stdout of ``git -C repo_dir args`` (stripped), or None when git fails or is absent."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo_dir), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit(repo_dir: str | os.PathLike[str]) -> str:
    """The HEAD commit of the checkout at ``repo_dir``, with ``-dirty`` if it has changes.

    "Changes" are what ``git status --porcelain`` reports: modified or staged tracked files
    and untracked files that ``.gitignore`` does not exclude (an uncommitted new module makes
    the commit alone insufficient to reproduce a result). Ignored outputs such as
    ``results/`` do not count.

    Args:
        repo_dir: A folder inside the checkout (normally its root).

    Returns:
        The 40-hex-digit sha, optionally suffixed ``-dirty``; ``"unknown"`` when
        ``repo_dir`` is not in a git work tree, has no commit yet, or git is not installed.
    """
    path = Path(repo_dir)
    if not path.is_dir():
        return UNKNOWN
    sha = _git(path, "rev-parse", "--verify", "HEAD")
    if not sha:
        return UNKNOWN
    status = _git(path, "status", "--porcelain")
    if status is None:
        return UNKNOWN
    return f"{sha}-dirty" if status else sha


def package_version(name: str) -> str:
    """The installed version of distribution ``name``, or ``"unknown"`` if it is not installed.

    Args:
        name: A distribution name as pip knows it (``"torch"``, ``"mlflow"``).
    """
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return UNKNOWN


def leakbench_version() -> str:
    """The version of the leakbench library that is running (``leakbench.__version__``)."""
    return __version__


def environment() -> dict[str, str]:
    """The software and platform a result was computed with, the same for every job of a run
    on one machine: the Python version, ``<system>-<machine>`` (``Linux-x86_64``) and the
    versions of :data:`NUMERIC_PACKAGES`.

    Runtime settings that differ between the jobs of one run (the torch device and thread
    count of a training job) are left out: a record is written by an attack job, not by the
    job that trained its models.
    """
    return {
        "python": platform.python_version(),
        "platform": f"{platform.system()}-{platform.machine()}",
        **{name: package_version(name) for name in NUMERIC_PACKAGES},
    }
