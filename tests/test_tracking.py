"""MLflow tracking: one run per cell, idempotent, clear failures, no result file touched.

MLflow's sqlite store takes seconds to create, so the module shares one store.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient

from leakbench.errors import ConfigError
from leakbench.io import dumps_json, read_json
from leakbench.reporting.records import MetricsRecord, RecordError
from leakbench.tracking import (
    TAG_CELL,
    TAG_RECORD,
    TrackingError,
    log_study,
    redact_uri,
    resolve_tracking_uri,
    run_metrics,
    run_params,
)

DATASETS = ("adult", "mnist5k")
ATTACKS = ("confidence", "loss", "shokri", "shokri_gbdt", "shokri_mlp")


def _record(study, dataset, attack, auc=0.6):
    return MetricsRecord.build(
        study=study,
        dataset=dataset,
        variant="default",
        attack=attack,
        grid={
            "dataset": dataset,
            "variant": "default",
            "arch": "mlp",
            "arch_params": {"hidden": [64, 32]},
            "lr": 0.001,
            "members": 500,
            "attack_params": {},
        },
        seeds={"config": 7, "attack": 123},
        metrics={
            "auc": auc,
            "precision": 0.55,
            "recall": 0.9,
            "balanced_accuracy": 0.58,
            "tpr_at_fpr_0.01": 0.02,
            "tpr_at_fpr_0.001": 0.0,
            "target_train_accuracy": 0.99,
            "target_test_accuracy": 0.8,
            "threshold": None,
        },
        provenance={"python": "3.11.7", "torch": "2.13.0"},
        leakbench_version="0.1.0",
        git_commit="a" * 40,
    )


def _cell(study, dataset, attack):
    return f"{study}/{dataset}/default/{attack}"


def _study_files(root, study, datasets=DATASETS, attacks=ATTACKS):
    """Records plus one ROC CSV per cell and one figure, as the workflow would have them."""
    records, artifacts = [], {}
    for dataset in datasets:
        for attack in attacks:
            records.append(_record(study, dataset, attack))
            roc = root / study / dataset / f"{attack}.roc.csv"
            roc.parent.mkdir(parents=True, exist_ok=True)
            roc.write_text("fpr,tpr\n0,0\n0.5,0.75\n1,1\n")
            artifacts[_cell(study, dataset, attack)] = [roc]
    figure = root / study / f"{study}_roc.png"
    figure.write_bytes(b"\x89PNG not really")
    return records, artifacts, figure


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A sqlite store holding the 10-cell study "membership", logged once."""
    root = tmp_path_factory.mktemp("tracking")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    records, artifacts, figure = _study_files(root, "membership")
    start = time.perf_counter()
    first = log_study(
        study="membership",
        records=records,
        artifacts=artifacts,
        shared_artifacts=[figure],
        tracking_uri=uri,
        receipt=root / "receipt.json",
    )
    seconds = time.perf_counter() - start
    return {
        "root": root,
        "uri": uri,
        "records": records,
        "artifacts": artifacts,
        "figure": figure,
        "first": first,
        "seconds": seconds,
    }


def _client(store):
    return MlflowClient(tracking_uri=store["uri"])


def _runs(store, study):
    client = _client(store)
    experiment = client.get_experiment_by_name(f"leakbench-{study}")
    return client.search_runs([experiment.experiment_id], max_results=1000)


def test_first_call_logs_one_finished_run_per_cell(store):
    first = store["first"]
    assert sorted(first) == sorted(_cell("membership", d, a) for d in DATASETS for a in ATTACKS)
    assert all(run.created for run in first.values())
    runs = _runs(store, "membership")
    assert len(runs) == 10
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert sorted(r.info.run_name for r in runs) == sorted(first)
    receipt = read_json(store["root"] / "receipt.json")
    assert receipt["experiment"]["name"] == "leakbench-membership"
    assert {c: r["run_id"] for c, r in receipt["runs"].items()} == {
        c: r.run_id for c, r in first.items()
    }
    # Artifacts land beside the database, not in the working directory.
    assert (store["root"] / "mlartifacts" / "leakbench-membership").is_dir()


def test_second_call_logs_nothing_and_returns_the_same_runs(store):
    again = log_study(
        study="membership",
        records=store["records"],
        artifacts=store["artifacts"],
        shared_artifacts=[store["figure"]],
        tracking_uri=store["uri"],
    )
    assert not any(run.created for run in again.values())
    assert {c: r.run_id for c, r in again.items()} == {
        c: r.run_id for c, r in store["first"].items()
    }
    assert len(_runs(store, "membership")) == 10


def test_a_run_holds_the_cells_params_metrics_tags_and_artifacts(store):
    cell = _cell("membership", "adult", "shokri")
    record = next(r for r in store["records"] if r.attack == "shokri" and r.dataset == "adult")
    client = _client(store)
    run = client.get_run(store["first"][cell].run_id)
    assert run.info.run_name == cell
    tags = run.data.tags
    assert tags[TAG_CELL] == cell
    assert tags[TAG_RECORD] == hashlib.sha256(record.to_json().encode()).hexdigest()
    assert tags["leakbench.git_commit"] == "a" * 40
    assert tags["leakbench.version"] == "0.1.0"
    params = run.data.params
    assert params["arch_params.hidden"] == "[64, 32]"
    assert params["lr"] == "0.001"
    assert params["members"] == "500"
    assert params["attack_params"] == "{}"
    assert params["attack"] == "shokri"
    assert params["seeds.attack"] == "123"
    expected = {k: v for k, v in record.metrics.items() if v is not None}
    assert run.data.metrics == pytest.approx(expected)
    names = sorted(a.path for a in client.list_artifacts(run.info.run_id))
    assert names == ["membership_roc.png", "record.json", "shokri.roc.csv"]
    stored = client.download_artifacts(run.info.run_id, "record.json", str(store["root"]))
    assert MetricsRecord.read(stored) == record


def test_changed_record_logs_a_new_run_with_one_batch_and_keeps_the_old(store, monkeypatch):
    records, artifacts, _ = _study_files(store["root"], "rerun", attacks=("loss",))
    old = log_study(study="rerun", records=records, artifacts=artifacts, tracking_uri=store["uri"])

    calls = {"log_batch": 0, "log_metric": 0}
    for name in calls:
        original = getattr(MlflowClient, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(MlflowClient, name, counted)

    changed = copy.deepcopy(records)
    changed[0].metrics["auc"] = 0.61
    receipt = store["root"] / "rerun.json"
    new = log_study(
        study="rerun",
        records=changed,
        artifacts=artifacts,
        tracking_uri=store["uri"],
        receipt=receipt,
    )
    assert calls == {"log_batch": 1, "log_metric": 0}
    first_cell, second_cell = _cell("rerun", "adult", "loss"), _cell("rerun", "mnist5k", "loss")
    assert new[first_cell].created and new[first_cell].run_id != old[first_cell].run_id
    assert not new[second_cell].created
    runs = {r.info.run_id: r for r in _runs(store, "rerun")}
    assert len(runs) == 3
    assert runs[old[first_cell].run_id].data.metrics["auc"] == 0.6
    assert runs[new[first_cell].run_id].data.metrics["auc"] == 0.61
    assert read_json(receipt)["runs"][first_cell]["run_id"] == new[first_cell].run_id


def _hashes(paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_unreachable_store_fails_fast_naming_the_uri(store, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    files = [p for paths in store["artifacts"].values() for p in paths] + [store["figure"]]
    before = _hashes(files)
    receipt = store["root"] / "unreachable.json"
    start = time.perf_counter()
    with pytest.raises(TrackingError, match=r"http://127\.0\.0\.1:9: opening experiment"):
        log_study(
            study="membership",
            records=store["records"],
            artifacts=store["artifacts"],
            tracking_uri="http://127.0.0.1:9",
            receipt=receipt,
        )
    assert time.perf_counter() - start < 10
    assert not receipt.exists()
    assert _hashes(files) == before


def test_sqlite_store_that_cannot_be_created_fails_fast(store, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    uri = f"sqlite:///{blocker / 'mlflow.db'}"
    with pytest.raises(TrackingError, match=r"sqlite:///.*file/mlflow\.db: creating the database"):
        log_study(study="membership", records=store["records"][:1], tracking_uri=uri)


def test_inputs_are_checked_before_the_store_is_contacted(store, tmp_path):
    unreachable = "http://127.0.0.1:9"
    records = store["records"]
    with pytest.raises(RecordError, match=r"artifacts: unknown cell\(s\) membership/x/y/z"):
        log_study(
            study="membership",
            records=records,
            artifacts={"membership/x/y/z": []},
            tracking_uri=unreachable,
        )
    with pytest.raises(RecordError, match=r"study 'membership' is not allowed; allowed: 'other'"):
        log_study(study="other", records=records, tracking_uri=unreachable)
    cell = _cell("membership", "adult", "loss")
    with pytest.raises(RecordError, match="no such file"):
        log_study(
            study="membership",
            records=records,
            artifacts={cell: [tmp_path / "missing.csv"]},
            tracking_uri=unreachable,
        )
    contradicting = copy.deepcopy(records[0])
    contradicting.grid["attack"] = "loss"
    with pytest.raises(RecordError, match="grid: parameter 'attack' = 'loss' contradicts"):
        log_study(study="membership", records=[contradicting], tracking_uri=unreachable)
    crowded = copy.deepcopy(records[0])
    crowded.grid["many"] = {str(i): i for i in range(100)}
    with pytest.raises(RecordError, match="one MLflow batch allows at most 100"):
        log_study(study="membership", records=[crowded], tracking_uri=unreachable)
    with pytest.raises(RecordError, match="no records"):
        log_study(study="membership", records=[], tracking_uri=unreachable)
    with pytest.raises(RecordError, match="two records"):
        log_study(study="membership", records=[records[0], records[0]], tracking_uri=unreachable)


def test_tracking_uri_precedence(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://env:5000")
    assert resolve_tracking_uri(tracking_uri="sqlite:///a.db", default_uri="d") == "sqlite:///a.db"
    assert resolve_tracking_uri(tracking_uri=None, default_uri="sqlite:///d.db") == (
        "http://env:5000"
    )
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert resolve_tracking_uri(tracking_uri=None, default_uri="sqlite:///d.db") == (
        "sqlite:///d.db"
    )
    with pytest.raises(ConfigError, match="tracking_uri"):
        resolve_tracking_uri(tracking_uri=None, default_uri=None)


def test_redact_uri_hides_passwords_only():
    assert redact_uri("https://me:secret@host:5000/x") == "https://me:***@host:5000/x"
    assert redact_uri("sqlite:///mlflow.db") == "sqlite:///mlflow.db"


def test_params_and_metrics_of_a_record():
    record = _record("membership", "adult", "loss")
    record.metrics["per_class"] = {"precision": {"0": 0.5}, "note": "x"}
    record.metrics["flag"] = True
    params = run_params(record=record)
    assert params["study"] == "membership"
    assert params["seeds.config"] == "7"
    assert params["arch"] == "mlp"
    metrics = run_metrics(record=record)
    assert metrics["per_class.precision.0"] == 0.5
    assert "threshold" not in metrics and "flag" not in metrics and "per_class.note" not in metrics
    record.grid["empty"] = {}
    assert run_params(record=record)["empty"] == "{}"
    assert "" not in run_params(record=dataclasses.replace(record, grid={}, seeds={}))
    record.grid["dataset"] = "mnist5k"
    with pytest.raises(RecordError, match=r"grid: parameter 'dataset' = 'mnist5k' contradicts"):
        run_params(record=record)


_WORKER = """
import json, sys, time
from pathlib import Path
from leakbench.reporting.records import MetricsRecord
from leakbench.tracking import log_study
plan, go = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
records = [MetricsRecord.build(**r) for r in plan["records"]]
log_study(study=plan["study"], records=records, artifacts=plan["artifacts"],
          tracking_uri=plan["uri"])
"""


def test_concurrent_jobs_logging_to_one_new_sqlite_store_lose_no_record(tmp_path):
    """Three studies logged at the same instant by three processes into a database that
    does not exist yet: every run arrives, once, finished (issue 5 drill)."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    go = tmp_path / "go"
    workers, expected = [], {}
    for study in ("alpha", "beta", "gamma"):
        records, artifacts, _ = _study_files(tmp_path, study, datasets=("adult",))
        plan = tmp_path / f"{study}.json"
        artifacts = {cell: [str(p) for p in paths] for cell, paths in artifacts.items()}
        plan.write_text(
            dumps_json(
                {
                    "study": study,
                    "records": [r.as_dict() for r in records],
                    "artifacts": artifacts,
                    "uri": uri,
                }
            )
        )
        expected[study] = sorted(artifacts)
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(plan), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    time.sleep(2)  # every worker has imported MLflow and waits at the barrier
    go.touch()
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0, out[-3000:]
    client = MlflowClient(tracking_uri=uri)
    for study, cells in expected.items():
        experiment = client.get_experiment_by_name(f"leakbench-{study}")
        runs = client.search_runs([experiment.experiment_id])
        assert sorted(r.data.tags[TAG_CELL] for r in runs) == cells
        assert {r.info.status for r in runs} == {"FINISHED"}
