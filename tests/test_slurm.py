"""The workflow on a real single-node Slurm cluster through ``profiles/slurm``.

The fixture starts Debian's munged, slurmctld and slurmd in the foreground (there is no
systemd), with their state, sockets and logs in a temporary folder, and stops them by
their process ids. The cluster's slurm.conf goes to /etc/slurm/slurm.conf: Slurm's job
steps read it from there (the jobstep executor drops SLURM_CONF from srun's environment).
A slurm.conf that this fixture did not write is never touched. `make system` installs the
packages.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import digests, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# written by leakbench tests/test_slurm.py"
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")


def _conf(state: Path) -> str:
    host = socket.gethostname().split(".")[0]
    return f"""{MARKER}
ClusterName=leakbench
SlurmctldHost={host}
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={state}/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/spool
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
NodeName={host} CPUs={os.cpu_count()} RealMemory=8000 State=UNKNOWN
PartitionName=leakbench Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop the daemons by pid: SIGTERM, then SIGKILL after 15 s."""
    for proc in reversed(procs):
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
    for proc in reversed(procs):
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def slurm(tmp_path_factory) -> Iterator[Path]:
    """A running single-node Slurm cluster; yields its state folder."""
    missing = [name for name in DAEMONS if shutil.which(name) is None]
    assert not missing, f"Slurm is not installed (missing {missing}); run `make system`"
    if SLURM_CONF.exists() and MARKER not in SLURM_CONF.read_text():
        pytest.fail(f"{SLURM_CONF} belongs to another cluster; not overwriting it")
    state = tmp_path_factory.mktemp("slurm")
    for sub in ("ctld", "spool"):
        (state / sub).mkdir()
    key = state / "munge.key"
    key.write_bytes(secrets.token_bytes(1024))
    key.chmod(0o600)
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SLURM_CONF.write_text(_conf(state))
    commands = [
        [
            "munged",
            "--foreground",
            "--force",
            f"--key-file={key}",
            f"--socket={state}/munge.socket",
            f"--pid-file={state}/munged.pid",
            f"--log-file={state}/munged.log",
            f"--seed-file={state}/munged.seed",
        ],
        ["slurmctld", "-D", "-f", str(SLURM_CONF)],
        ["slurmd", "-D", "-f", str(SLURM_CONF)],
    ]
    procs: list[subprocess.Popen] = []
    try:
        for command in commands:
            with (state / f"{command[0]}.out").open("w") as out:
                procs.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT))
            time.sleep(1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = subprocess.run(
                ["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True
            ).stdout.split()
            if states == ["idle"]:
                break
            time.sleep(1)
        else:
            logs = {p.name: p.read_text()[-2000:] for p in state.glob("*.out")}
            pytest.fail(f"the Slurm node never became idle (sinfo: {states}); {logs}")
        yield state
    finally:
        _stop(procs)
        SLURM_CONF.unlink(missing_ok=True)


def _profile_groups(repo_root: Path) -> dict[str, str]:
    """The profile's job groups: rule name -> group name."""
    profile = yaml.safe_load((repo_root / "profiles/slurm/config.yaml").read_text())
    return profile["groups"]


def test_slurm_profile_gives_the_bytes_of_a_local_run(
    repo_root, runs, run_seconds, slurm, tmp_path, record_property
):
    started = time.monotonic()
    proc = snakemake(
        repo_root,
        tmp_path,
        "--profile",
        str(repo_root / "profiles/slurm"),
        # Poll a test cluster often; the profile's interval suits a shared controller.
        "--slurm-init-seconds-before-status-checks",
        "1",
    )
    wall = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    output = proc.stdout + proc.stderr
    submitted = output.count("has been submitted with SLURM jobid")
    groups = _profile_groups(repo_root)
    # Every Slurm job is a group job: one header per group job, naming its group.
    submitted_groups = re.findall(r"Group job (\w+) \(jobs in", output)
    assert len(submitted_groups) == submitted, (submitted_groups, submitted)
    assert set(submitted_groups) == set(groups.values())
    # Every rule of the test config ran, each either in a group or on this host (the
    # tracking rules): no job went to Slurm on its own.
    finished = re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", output)
    local = set(re.findall(r"^localrule (\w+):", output, flags=re.MULTILINE))
    assert set(finished) == set(groups) | local, (sorted(finished), sorted(local))
    # Grouping bundles: far fewer allocations than jobs.
    assert submitted * 4 < len(finished), (submitted, len(finished))
    assert digests(tmp_path) == digests(runs["1"])
    # Measured, not asserted (no timed tests): the session's summary prints them.
    record_property("slurm_seconds", round(wall))
    record_property("slurm_jobs", f"{submitted} for {len(finished)} jobs")
    record_property("local_2_cores_seconds", round(run_seconds["2"]))
    record_property("slurm_over_local", round(wall / run_seconds["2"], 2))


def _rules(repo_root: Path) -> tuple[set[str], set[str]]:
    """(every rule of workflow/rules/, the local rules) read from the rule files."""
    rules, local = set(), set()
    for path in (repo_root / "workflow/rules").glob("*.smk"):
        text = path.read_text()
        rules |= set(re.findall(r"^rule (\w+):", text, flags=re.M))
        rules |= set(re.findall(r"^use rule \w+ as (\w+)", text, flags=re.M))
        for block in re.findall(r"^localrules:\n((?:    \w+,?\n)+)", text, flags=re.M):
            local |= set(re.findall(r"\w+", block))
    return rules, local


def test_the_profile_groups_every_cluster_rule(repo_root):
    """A rule left out of the profile's ``groups`` would go to Slurm as a job of its own:
    this catches it without a cluster (the Slurm run above checks it too)."""
    rules, local = _rules(repo_root)
    groups = yaml.safe_load((repo_root / "profiles/slurm/config.yaml").read_text())["groups"]
    assert local, "no localrules found"
    assert sorted(rules - local - set(groups)) == []
    assert sorted(set(groups) - rules) == [], "the profile groups a rule that does not exist"
