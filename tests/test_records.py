"""Metrics records: one type, built and checked in one place, written and read in one form."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import leakbench
from leakbench.io import dumps_json
from leakbench.provenance import REPO_ROOT, environment, git_commit
from leakbench.reporting.records import RECORD_KEYS, MetricsRecord, RecordError, load_records

PROVENANCE = {"numpy": "2.0", "opacus": "1.5", "platform": "Linux-x86_64", "python": "3.11.7"}


def _values(**changes):
    values = {
        "study": "membership",
        "dataset": "adult",
        "variant": "mlp.eps8",
        "attack": "loss",
        "grid": {"dataset": "adult", "variant": "mlp", "hidden": (64, 32), "lr": 0.001},
        "seeds": {"config": 7, "attack": np.int64(12)},
        "metrics": {"auc": np.float64(0.625), "threshold": None, "counts": np.arange(3)},
        "provenance": PROVENANCE,
        "leakbench_version": "0.1.0",
        "git_commit": "a" * 40,
    }
    return {**values, **changes}


@pytest.fixture
def record():
    return MetricsRecord.build(**_values())


def test_build_turns_values_into_json_builtins(record):
    assert record.grid["hidden"] == [64, 32]
    assert type(record.seeds["attack"]) is int
    assert type(record.metrics["auc"]) is float
    assert record.metrics["counts"] == [0, 1, 2]


def test_round_trip_gives_an_equal_record_and_identical_bytes(record, tmp_path):
    text = record.to_json()
    again = MetricsRecord.from_json(text)
    assert again == record
    assert again.to_json() == text
    assert text == dumps_json(record.as_dict())  # canonical: sorted keys, indent 2, newline
    assert list(json.loads(text)) == sorted(RECORD_KEYS)
    record.write(tmp_path / "r.json")
    assert (tmp_path / "r.json").read_text() == text
    assert MetricsRecord.read(tmp_path / "r.json") == record


def test_build_stamps_the_running_code_and_platform():
    values = _values()
    for key in ("provenance", "leakbench_version", "git_commit"):
        del values[key]
    fresh = MetricsRecord.build(**values)
    assert fresh.leakbench_version == leakbench.__version__
    assert fresh.git_commit == git_commit(REPO_ROOT)
    assert fresh.provenance == environment()
    assert set(fresh.provenance) == {"python", "platform", "numpy", "torch", "opacus"}
    assert fresh.provenance["numpy"] == np.__version__
    # Deterministic: a second record of the same cell has the same bytes.
    assert MetricsRecord.build(**values).to_json() == fresh.to_json()


def test_cell_and_hash(record):
    assert record.cell_id == "membership/adult/mlp.eps8/loss"
    assert record.cell.wildcards["variant"] == "mlp.eps8"
    changed = MetricsRecord.build(**_values(metrics={"auc": 0.626}))
    assert changed.sha256() != record.sha256()
    assert MetricsRecord.from_json(record.to_json()).sha256() == record.sha256()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"variant": "a/b"}, r"cell\.variant: 'a/b' is not allowed; allowed: letters"),
        ({"study": ""}, r"cell\.study: '' is not allowed; allowed: letters"),
        ({"grid": []}, r"grid: \[\] is not allowed; allowed: a JSON object"),
        ({"seeds": {"config": 1.5}}, r"seeds\.config: 1\.5 is not allowed; allowed: an integer"),
        ({"seeds": {"config": True}}, r"seeds\.config: True is not allowed; allowed: an integer"),
        ({"git_commit": ""}, r"git_commit: '' is not allowed; allowed: a non-empty string"),
        ({"provenance": {"torch": 2}}, r"provenance\.torch: 2 is not allowed; allowed: a string"),
        ({"metrics": {"auc": float("nan")}}, r"Out of range.*allowed: finite JSON values"),
    ],
)
def test_build_names_the_key_the_value_and_what_is_allowed(changes, message):
    with pytest.raises(RecordError, match=message):
        MetricsRecord.build(**_values(**changes), source="r.json")


def test_from_json_refuses_missing_and_unknown_keys_and_non_objects(record):
    values = record.as_dict()
    del values["seeds"]
    values["extra"] = 1
    with pytest.raises(
        RecordError,
        match=r"f\.json: keys: missing \['seeds'\], unknown \['extra'\] is not allowed; "
        r"allowed: study, dataset",
    ):
        MetricsRecord.from_json(json.dumps(values), source="f.json")
    with pytest.raises(RecordError, match=r"f\.json: \[1\] is not allowed; allowed: a JSON"):
        MetricsRecord.from_json("[1]", source="f.json")
    with pytest.raises(RecordError, match=r"f\.json: not JSON"):
        MetricsRecord.from_json("{", source="f.json")


def test_value_names_the_cell_and_the_missing_key(record):
    assert record.value("grid", "lr") == 0.001
    with pytest.raises(RecordError, match=r"membership/adult/mlp.eps8/loss: metrics\.recall"):
        record.value("metrics", "recall")


def test_load_records_reads_files_and_refuses_duplicate_cells(record, tmp_path):
    other = MetricsRecord.build(**_values(attack="confidence"))
    paths = [tmp_path / "0.json", tmp_path / "1.json"]
    record.write(paths[0])
    other.write(paths[1])
    assert load_records(paths=paths) == [record, other]
    with pytest.raises(RecordError, match=r"0\.json: cell membership/adult/mlp.eps8/loss"):
        load_records(paths=[*paths, paths[0]])
    broken = copy.deepcopy(record.as_dict())
    broken["grid"] = "row"
    (tmp_path / "bad.json").write_text(json.dumps(broken))
    with pytest.raises(RecordError, match=r"bad\.json: grid: 'row' is not allowed"):
        load_records(paths=[tmp_path / "bad.json"])
