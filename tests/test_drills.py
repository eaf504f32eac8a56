"""Drills: the workflow under kills, damaged inputs, tracking outages and hostile names.

Each drill runs the real workflow on config/test.yaml and compares against the clean,
uninterrupted run of the ``runs`` fixture where bytes matter.
"""

from __future__ import annotations

import base64
import contextlib
import os
import pathlib
import pickle
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BIN, ROOT, digests, snakemake, snakemake_command, workflow_env

from leakbench.io import read_json
from leakbench.studies.specs import STUDIES

pytestmark = pytest.mark.workflow

TEMPORARY = re.compile(r"\..+\.tmp")


# -- kill -9 -----------------------------------------------------------------------------


def _job_running(session: int, script: str) -> bool:
    """Whether a process of ``session`` runs the workflow script ``script`` (a prefix)."""
    needle = f".{script}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session and needle in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def _kill_during(workdir: Path, script: str) -> None:
    """Start a run; SIGKILL Snakemake and its jobs (the whole session) mid-way through
    the first job whose script name starts with ``script``."""
    with (workdir / f"killed-in-{script}.log").open("w") as log:
        proc = subprocess.Popen(
            snakemake_command(workdir, "--cores", "2"),
            env=workflow_env(workdir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 900
        while not _job_running(proc.pid, script):
            assert proc.poll() is None, f"the run ended before a {script} job started"
            assert time.monotonic() < deadline, f"no {script} job within 900 s"
            time.sleep(0.02)
        time.sleep(0.5)  # inside the job, not at its start
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _incomplete(workdir: Path) -> set[str]:
    """The outputs Snakemake marked incomplete (jobs that started and never finished)."""
    root = workdir / ".snakemake/incomplete"
    found = set()
    for marker in root.rglob("*"):
        if marker.is_file() and marker.name != "migration_underway":
            encoded = "".join(p.removeprefix("@") for p in marker.relative_to(root).parts)
            found.add(base64.urlsafe_b64decode(encoded).decode())
    return found


def _state_after_kill(workdir: Path, reference: dict[str, str]) -> dict[str, int]:
    """Check that no artifact is partial; return the finished ones' mtimes."""
    incomplete = _incomplete(workdir)
    assert incomplete, "the kill landed between jobs; nothing was interrupted"
    present = {
        path: sha
        for path, sha in digests(workdir).items()
        if not TEMPORARY.fullmatch(Path(path).name)
    }
    # Atomic writes: whatever carries an artifact's name holds the final bytes.
    partial = [path for path, sha in present.items() if reference.get(path) != sha]
    assert not partial, partial
    return {path: (workdir / path).stat().st_mtime_ns for path in present if path not in incomplete}


def _unchanged(workdir: Path, finished: dict[str, int]) -> None:
    redone = [p for p, mtime in finished.items() if (workdir / p).stat().st_mtime_ns != mtime]
    assert not redone, f"finished jobs were redone: {redone}"


def test_kill_9_during_training_and_aggregation_then_rerun(repo_root, runs, tmp_path):
    reference = digests(runs["1"])
    _kill_during(tmp_path, "train_membership")
    finished = _state_after_kill(tmp_path, reference)
    assert any(path.endswith("pool.npz") for path in finished), sorted(finished)

    assert snakemake(repo_root, tmp_path, "--unlock").returncode == 0
    _kill_during(tmp_path, "aggregate_")
    _unchanged(tmp_path, finished)
    finished |= _state_after_kill(tmp_path, reference)
    assert any("/models/" in path for path in finished), sorted(finished)

    assert snakemake(repo_root, tmp_path, "--unlock").returncode == 0
    rerun = snakemake(repo_root, tmp_path, "--cores", "2")
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-6000:]
    _unchanged(tmp_path, finished)
    assert digests(tmp_path) == reference
    assert not [p for p in (tmp_path / "results").rglob("*") if TEMPORARY.fullmatch(p.name)]


# -- damaged inputs ----------------------------------------------------------------------


def test_raw_file_damaged_after_the_fetch_stops_preparation(repo_root, tmp_path):
    pool = "results/data/adult/pool.npz"
    first = snakemake(repo_root, tmp_path, "--cores", "1", pool)
    assert first.returncode == 0, first.stderr[-3000:]
    raw = tmp_path / "results/data/adult/raw/adult.data"
    raw.write_bytes(raw.read_bytes()[:-4096])  # truncated
    again = snakemake(repo_root, tmp_path, "--cores", "1", "--forcerun", "prepare_data", pool)
    assert again.returncode != 0
    output = again.stdout + again.stderr
    assert "adult.data (changed since it was fetched; delete it and run fetch_data again)" in output
    assert "sha256 mismatch: expected " in output
    assert not (tmp_path / pool).exists()


class _Payload:
    """Unpickling this creates the file ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def test_tampered_checkpoint_is_refused_and_never_unpickled(repo_root, tmp_path):
    outputs = "results/attacks/membership/purchase_synth/logreg/nodp/outputs.npz"
    first = snakemake(repo_root, tmp_path, "--cores", "2", outputs)
    assert first.returncode == 0, first.stderr[-3000:]
    checkpoint = (
        tmp_path / "results/models/membership/purchase_synth/logreg/nodp/target.safetensors"
    )
    marker = tmp_path / "unpickled"
    good = checkpoint.read_bytes()
    for tampered, message in (
        (pickle.dumps(_Payload(marker)), "not a readable leakbench checkpoint"),
        (good[: len(good) // 2], "not a readable leakbench checkpoint"),
    ):
        checkpoint.write_bytes(tampered)
        again = snakemake(repo_root, tmp_path, "--cores", "1", outputs)
        assert again.returncode != 0
        assert f"{checkpoint.name}: {message}" in again.stdout + again.stderr
        assert not marker.exists(), "a pickle was loaded"
        assert not (tmp_path / outputs).exists()


# -- MLflow outages and a real server ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _runs_by_name(uri: str) -> dict[str, dict[str, tuple]]:
    """``{experiment: {run name: (status, params, metrics)}}`` of a store."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = {}
    for experiment in client.search_experiments():
        if not experiment.name.startswith("leakbench-"):
            continue
        runs = client.search_runs([experiment.experiment_id], max_results=1000)
        names = [run.info.run_name for run in runs]
        assert len(names) == len(set(names)), f"{experiment.name}: a run logged twice"
        found[experiment.name] = {
            run.info.run_name: (
                run.info.status,
                sorted(run.data.params.items()),
                sorted(run.data.metrics.items()),
            )
            for run in runs
        }
    return found


def _run_ids(workdir: Path, *, created: bool) -> dict[str, str]:
    """``{cell: run id}`` from the ``log_*`` jobs' receipts; checks that every run was
    logged by this call (``created``) or found already logged."""
    runs = {}
    for path in (workdir / "results/tracking").glob("*.json"):
        for cell, run in read_json(path)["runs"].items():
            assert run["created"] is created, (cell, run)
            runs[cell] = run["run_id"]
    return runs


@pytest.fixture
def mlflow_server(tmp_path):
    """A real ``mlflow server`` on 127.0.0.1: sqlite backend, one worker."""
    port = _free_port()
    store = tmp_path / "server"
    store.mkdir()
    with (store / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{store / 'mlflow.db'}",
                "--artifacts-destination",
                str(store / "artifacts"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=store,
            start_new_session=True,
        )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (store / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server did not answer in 120 s"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        yield uri
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_tracking_outage_then_a_real_server_logs_each_run_once(
    repo_root, runs, tmp_path, mlflow_server
):
    workdir = tmp_path / "run"
    shutil.copytree(runs["1"], workdir, symlinks=True)
    for receipt in (workdir / "results/tracking").glob("*.json"):
        receipt.unlink()
    (workdir / "mlflow.db").unlink()
    reference = digests(runs["1"])
    fail_fast = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}

    down = f"http://127.0.0.1:{_free_port()}"
    outage = snakemake(
        repo_root, workdir, "--cores", "2", env={**fail_fast, "MLFLOW_TRACKING_URI": down}
    )
    assert outage.returncode != 0
    assert f"MLflow tracking store {down}: opening experiment 'leakbench-" in (
        outage.stdout + outage.stderr
    )
    assert digests(workdir) == reference
    assert not list((workdir / "results/tracking").glob("*.json"))

    up = {**fail_fast, "MLFLOW_TRACKING_URI": mlflow_server}
    recovered = snakemake(repo_root, workdir, "--cores", "2", env=up)
    assert recovered.returncode == 0, recovered.stdout[-3000:] + recovered.stderr[-3000:]
    assert digests(workdir) == reference
    logged = _runs_by_name(mlflow_server)
    assert logged == _runs_by_name(f"sqlite:///{runs['1'] / 'mlflow.db'}")
    assert {status for runs_ in logged.values() for status, *_ in runs_.values()} == {"FINISHED"}

    receipts = _run_ids(workdir, created=True)
    assert len(receipts) == sum(len(runs_) for runs_ in logged.values())
    rules = [f"log_{name}" for name, spec in STUDIES.items() if spec.experiment]
    again = snakemake(repo_root, workdir, "--cores", "2", "--forcerun", *rules, env=up)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _runs_by_name(mlflow_server) == logged
    assert _run_ids(workdir, created=False) == receipts


# -- nothing from the config or a wildcard reaches a shell -------------------------------

HOSTILE = [
    "a b",
    "a;b",
    "a/b",
    "a|b",
    "a&b",
    "$a",
    "`a`",
    "a'b",
    'a"b',
    "a\nb",
    "../a",
    "-a",
    ".a",
    "*",
    "",
]


@contextlib.contextmanager
def _workflow():
    """The parsed workflow (Snakemake's API) on the test config."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import (
        ConfigSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
    )

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        yield api.workflow(
            resource_settings=ResourceSettings(),
            config_settings=ConfigSettings(configfiles=[ROOT / "config/test.yaml"]),
            storage_settings=StorageSettings(),
            snakefile=ROOT / "Snakefile",
        )._workflow


def test_no_rule_runs_a_shell_and_every_wildcard_refuses_shell_syntax():
    with _workflow() as workflow:
        for rule in workflow.rules:
            assert not rule.shellcmd and not rule.is_run, f"{rule.name} runs code in a shell"
            assert rule.script or rule.name == "all", rule.name
            for name in rule.wildcard_names:
                pattern = rule.wildcard_constraints.get(name) or workflow.wildcard_constraints.get(
                    name
                )
                assert pattern, f"{rule.name}: wildcard {name!r} has no constraint"
                accepted = [v for v in HOSTILE if re.fullmatch(pattern, v)]
                assert not accepted, f"{rule.name}: {name}={pattern!r} accepts {accepted}"
    calls = re.compile(r"shell=True|os\.system|os\.popen|subprocess\.getoutput")
    for path in [*ROOT.glob("src/**/*.py"), *ROOT.glob("workflow/**/*.py")]:
        assert not calls.search(path.read_text()), f"{path} starts a shell"


def test_a_target_with_shell_syntax_matches_no_rule(repo_root, tmp_path):
    evil = "results/models/membership/purchase_synth/x;touch pwned/nodp/target.safetensors"
    proc = snakemake(repo_root, tmp_path, "--cores", "1", evil)
    assert proc.returncode != 0
    assert "MissingRuleException" in proc.stderr or "No rule to produce" in proc.stderr
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "results").exists()
