"""Step functions: the typed job and files contexts, and one step call checked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import leakbench
from leakbench.errors import ConfigError
from leakbench.io import dumps_json, write_npz
from leakbench.names import CellId
from leakbench.provenance import REPO_ROOT, environment, git_commit
from leakbench.seeding import derive_seed
from leakbench.steps import membership
from leakbench.steps.context import Files, Job, from_snakemake

MEMBERSHIP_CELL = ("dataset", "variant", "privacy", "attack")


class _Namedlist(list):
    """Snakemake's Namedlist as a workflow script sees it: a flat list of values, some of
    them (or slices of them) also reachable by name."""

    def __init__(self, *items):
        self._names = {}
        for item in items:
            name, value = item if isinstance(item, tuple) else (None, item)
            start = len(self)
            self.extend(value if isinstance(value, list) else [value])
            if name is not None:
                self._names[name] = (start, len(self))

    def items(self):
        for name, (start, end) in self._names.items():
            yield name, self[start] if end - start == 1 and start < len(self) else self[start:end]


def test_from_snakemake_builds_the_job_and_its_files():
    smk = type("Snakemake", (), {})()
    smk.rule = "train_property_poisoning"
    smk.wildcards = _Namedlist(("dataset", "adult"), ("property", "sex"), ("group", "0.1-0.25"))
    smk.params = _Namedlist(("row", {"variant": "logreg"}), ("study", {"queries": 3}), ("seed", 7))
    smk.input = _Namedlist("code.py", ("pool", "pool.npz"), ("models", ["a.st", "b.st"]))
    smk.output = _Namedlist("p0.st", "p0.05.st")
    job, files = from_snakemake(smk)
    assert job == Job(
        rule="train_property_poisoning",
        cell=CellId(("dataset", "property", "group"), ("adult", "sex", "0.1-0.25")),
        seed=7,
        row={"variant": "logreg"},
        settings={"study": {"queries": 3}},
    )
    assert job.wildcard("group") == "0.1-0.25"
    assert job.setting("study") == {"queries": 3}
    assert files.input("pool") == Path("pool.npz")
    assert files.input_list("models") == [Path("a.st"), Path("b.st")]
    assert files.input_list("cell_files") == []
    assert files.output_list == (Path("p0.st"), Path("p0.05.st"))


def test_contexts_name_what_is_missing_and_what_is_allowed():
    job = Job(rule="split_membership", cell=CellId.of(("dataset",), ("adult",)))
    with pytest.raises(ConfigError, match=r"split_membership: wildcard: 'role' is not allowed; "):
        job.wildcard("role")
    with pytest.raises(ConfigError, match=r"setting: 'members' is not allowed; allowed: none"):
        job.setting("members")
    with pytest.raises(ConfigError, match=r"split_membership: seed: None is not allowed"):
        _ = job.config_seed
    files = Files(
        inputs={"models": (Path("a"), Path("b"))},
        outputs={"png": (Path("out/fig.png"),)},
        output_list=(Path("out/fig.png"), Path("out/fig.pdf")),
    )
    with pytest.raises(ConfigError, match=r"input\.models: 2 files is not allowed; allowed: exa"):
        files.input("models")
    with pytest.raises(ConfigError, match=r"input: 'pool' is not allowed; allowed: models"):
        files.input("pool")
    with pytest.raises(ConfigError, match=r"output\.output: 2 files is not allowed"):
        files.output()
    assert files.stem("png") == Path("out/fig")


def test_membership_attack_writes_the_record_computed_by_hand(tmp_path):
    # Labels 0, logits (z0, z1): loss = log(1 + exp(z1 - z0)). Members A (4, 0) and
    # B (0, 0), non-members C (1, 0) and D (0, 3): losses 0.018, 0.693, 0.313, 3.049.
    # Scores (-loss) rank A > C > B > D: AUC = 3 of 4 member/non-member pairs = 0.75; at
    # FPR 0 the threshold at A's score finds 1 of 2 members (TPR 0.5). The loss attack
    # (Yeom et al. 2018) flags loss <= train loss 0.5: A and C, so TP = FP = FN = TN = 1.
    write_npz(
        tmp_path / "outputs.npz",
        eval_logits=np.array([[4, 0], [0, 0], [1, 0], [0, 3]], dtype=np.float32),
        eval_labels=np.zeros(4, dtype=np.int64),
        eval_member=np.array([True, True, False, False]),
        eval_index=np.arange(4),
        noise_logits=np.zeros((1, 2), dtype=np.float32),
        train_loss=np.array(0.5),
        target_train_accuracy=np.array(1.0),
        target_test_accuracy=np.array(0.5),
    )
    out = {name: tmp_path / name for name in ("loss.json", "loss.scores.npz", "loss.roc.csv")}
    row = {"dataset": "purchase_synth", "variant": "logreg", "arch": "logreg", "epochs": 2}
    job = Job(
        rule="attack_membership",
        cell=CellId.of(MEMBERSHIP_CELL, ("purchase_synth", "logreg", "nodp", "loss")),
        seed=7,
        row=row,
        settings={"attack_params": {}, "shadows": 2},
    )
    files = Files(
        inputs={"outputs": (tmp_path / "outputs.npz",)},
        outputs={
            "metrics": (out["loss.json"],),
            "scores": (out["loss.scores.npz"],),
            "roc": (out["loss.roc.csv"],),
        },
        output_list=tuple(out.values()),
    )
    membership.attack(job=job, files=files)

    attack_seed = derive_seed(7, "membership", "purchase_synth", "logreg", "loss")
    expected = {
        "study": "membership",
        "dataset": "purchase_synth",
        "variant": "logreg",
        "attack": "loss",
        "grid": {**row, "shadow_data": "real", "shadows": 2, "attack_params": {}},
        "seeds": {"config": 7, "attack": attack_seed},
        "metrics": {
            "auc": 0.75,
            "balanced_accuracy": 0.5,
            "precision": 0.5,
            "recall": 0.5,
            "tpr_at_fpr_0.001": 0.5,
            "tpr_at_fpr_0.01": 0.5,
            "threshold": -0.5,
            "target_train_accuracy": 1.0,
            "target_test_accuracy": 0.5,
        },
        "provenance": environment(),
        "leakbench_version": leakbench.__version__,
        "git_commit": git_commit(REPO_ROOT),
    }  # fmt: skip
    written = out["loss.json"].read_text()
    assert json.loads(written) == expected
    assert written == dumps_json(expected)
    assert out["loss.roc.csv"].read_text() == "fpr,tpr\n0,0\n0,0.5\n0.5,0.5\n0.5,1\n1,1\n"


def test_log_refuses_cell_files_that_do_not_pair_with_the_records(tmp_path):
    from leakbench.reporting.records import MetricsRecord
    from leakbench.steps import tracking

    record = MetricsRecord.build(
        study="membership", dataset="adult", variant="mlp", attack="loss",
        grid={}, seeds={"config": 1}, metrics={"auc": 0.5},
    )  # fmt: skip
    record.write(tmp_path / "loss.json")
    files = Files(
        inputs={
            "metrics": (tmp_path / "loss.json",),
            "cell_files": (tmp_path / "a.csv", tmp_path / "b.csv"),
            "figure": (tmp_path / "fig.png",),
        },
        output_list=(tmp_path / "receipt.json",),
    )
    job = Job(rule="log_membership", settings={"default_uri": f"sqlite:///{tmp_path}/m.db"})
    with pytest.raises(ConfigError, match=r"log_membership: input\.cell_files: 2 files is not"):
        tracking.log(job=job, files=files)
    assert not (tmp_path / "m.db").exists()
    assert not (tmp_path / "receipt.json").exists()
