"""DVC for real, on config/test.yaml: a fresh clone runs the workflow through ``dvc repro``,
records the reference (``make reference``) and pushes to a directory remote; a second
fresh clone pulls and restores (``make restore``) and Snakemake has nothing left to do,
with the first clone's bytes; ``dvc metrics diff`` and ``dvc plots diff`` between two
commits show a changed config value.

One workflow run (the first clone's) and one incremental rerun (after the config change),
shared by every test here through the module fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BIN, copy_repository, digests

pytestmark = pytest.mark.workflow
TEST_CONFIG = "config/test.yaml"
MAKE = ("make", "-o", "setup", f"VENV={BIN.parent}", f"SNAKEFLAGS=--configfile {TEST_CONFIG}")


def run(cmd: list[str] | tuple[str, ...], cwd: Path) -> str:
    """Run ``cmd`` in ``cwd`` with this venv first on PATH and MLflow in ``cwd``; return
    its output, failing the test with it on a non-zero exit."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}",
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, (cmd, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout + proc.stderr


def use_remote(clone: Path, remote: Path) -> None:
    """Point the committed default remote at ``remote`` for this clone only."""
    run(["dvc", "remote", "modify", "--local", "local", "url", str(remote)], clone)


def commit(clone: Path, message: str) -> None:
    run(["git", "add", "-A"], clone)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message], clone)


@pytest.fixture(scope="module")
def round_trip(repo_root, tmp_path_factory):
    """The first clone (run, recorded, pushed), the second (pulled, restored), the
    remote, and the seconds each DVC step took."""
    root = tmp_path_factory.mktemp("dvc")
    first, second, remote = root / "first", root / "second", root / "remote"
    first.mkdir()
    copy_repository(repo_root, first)
    dvc_yaml = first / "dvc.yaml"  # the test config instead of the default one
    dvc_yaml.write_text(
        dvc_yaml.read_text()
        .replace("snakemake --cores all", f"snakemake --cores all --configfile {TEST_CONFIG}")
        .replace("config/config.yaml", TEST_CONFIG)
    )
    run(["git", "init", "-q"], first)
    commit(first, "leakbench")
    use_remote(first, remote)
    seconds = {}
    for name, cmd in (
        ("repro", ["dvc", "repro"]),
        ("reference", [*MAKE, "reference"]),
        ("push", ["dvc", "push"]),
    ):
        start = time.monotonic()
        run(cmd, first)
        seconds[name] = time.monotonic() - start
    commit(first, "reference run")
    run(["git", "clone", "-q", str(first), str(second)], root)
    use_remote(second, remote)
    start = time.monotonic()
    run([*MAKE, "restore"], second)
    seconds["restore"] = time.monotonic() - start
    print(f"DVC round trip (s): {json.dumps({k: round(v, 1) for k, v in seconds.items()})}")
    return first, second, remote


def test_committed_dvc_config_has_a_default_remote_in_the_user_cache_and_no_analytics(
    repo_root,
):
    config = (repo_root / ".dvc/config").read_text()
    assert "analytics = false" in config and "remote = local" in config
    assert "url = ~/.cache/" in config
    assert "/config.local" in (repo_root / ".dvc/.gitignore").read_text().split()


def test_pulled_clone_restores_the_first_clones_bytes_with_nothing_left_to_do(round_trip):
    first, second, remote = round_trip
    assert any(remote.rglob("*")), "dvc push wrote nothing to the remote"
    assert (second / "dvc.lock").read_bytes() == (first / "dvc.lock").read_bytes()
    ours, theirs = digests(first), digests(second)
    assert len(ours) > 20 and ours == theirs
    dry = run([str(BIN / "snakemake"), "-n", "--cores", "1", "--configfile", TEST_CONFIG], second)
    assert "Nothing to be done" in dry, dry[-3000:]
    status = run(["dvc", "status"], second)
    assert "up to date" in status, status


def test_reference_is_recorded_and_verify_passes_on_the_same_run(round_trip):
    first, _, _ = round_trip
    tables = sorted(p.name for p in (first / "reference/tables").glob("*.csv"))
    assert tables == sorted(p.name for p in (first / "results/tables").glob("*.csv"))
    out = run([str(BIN / "leakbench"), "verify"], first)
    assert all(f"{name}: identical" in out for name in tables), out
    assert "verify: passed" in out


def test_metrics_and_plots_diff_show_a_changed_config_value(round_trip):
    first, _, _ = round_trip
    config_path = first / TEST_CONFIG
    # edited as text: a YAML round trip would reorder keys, which Snakemake's params
    # trigger takes for a change of every job's parameters
    text = config_path.read_text()
    membership = text.index("\nmembership:\n")  # the membership study's section only
    head, section = text[:membership], text[membership:]
    assert "shokri: {attack_model: logreg}" in section.split("\nmembership_lira:")[0]
    config_path.write_text(head + section.replace("attack_model: logreg", "attack_model: gbdt", 1))
    run(["dvc", "repro"], first)  # the stage depends on the config: the shokri jobs rerun
    commit(first, "shokri with a gbdt attack model")
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD~1", "HEAD", "--json"], first))
    changed = diff["results/metrics/membership.json"]
    shokri = {k: v for k, v in changed.items() if ".shokri." in k}
    assert shokri and all(v["old"] != v["new"] for v in shokri.values()), changed
    assert not any(".confidence." in k for k in changed), "an unchanged attack moved"
    plots = json.loads(run(["dvc", "plots", "diff", "HEAD~1", "HEAD", "--json"], first))
    text = json.dumps(plots)
    assert "HEAD~1" in text and "shokri" in text
