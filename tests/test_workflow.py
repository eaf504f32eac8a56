"""The Snakemake workflow end to end on config/test.yaml: lint, dry run, real runs.

Two clean runs (``--cores 1`` and ``--cores 2``) must give byte-identical deterministic
outputs; a rerun must do nothing; MLflow must hold one run per grid cell; a bad config must
stop before any job runs. DVC (``dvc repro``, push, pull, metrics diff) is tests/test_dvc.py.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess

import pytest
import yaml
from conftest import BIN, digests, snakemake, workflow_env

from leakbench.attacks import get_attack
from leakbench.config import load_config
from leakbench.reporting.records import MetricsRecord
from leakbench.studies.specs import STUDIES

pytestmark = pytest.mark.workflow
# The rules files every config includes; each study's own comes from its spec.
SHARED_RULES = ("data.smk", "tracking.smk")


def rule_names(repo_root):
    """Every rule the workflow defines (``rule x:`` and ``use rule ... as x``), from the
    shared rules files and the rules file each study's spec names."""
    names = []
    for rules in (*SHARED_RULES, *(spec.rules for spec in STUDIES.values())):
        text = (repo_root / "workflow/rules" / rules).read_text()
        names += re.findall(r"^(?:rule|use rule \w+ as) (\w+)", text, flags=re.MULTILINE)
    return names


@pytest.mark.parametrize("where", ["workdir", "repo_root"])
def test_lint_is_clean(repo_root, tmp_path, where):
    """Clean in a separate working directory (the test config) and where a user lints it,
    the repository root with the default config (paths given relative to the root differ
    there from the inputs' working-directory-relative form)."""
    if where == "workdir":
        proc = snakemake(repo_root, tmp_path, "--lint")
    else:
        proc = subprocess.run(
            [str(BIN / "snakemake"), "--lint"],
            cwd=repo_root,
            capture_output=True,
            text=True,
            env=workflow_env(tmp_path),
            check=False,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


def test_dry_run_plans_every_stage(repo_root, tmp_path):
    proc = snakemake(repo_root, tmp_path, "-n")
    assert proc.returncode == 0, proc.stderr
    rules = rule_names(repo_root)
    assert "aggregate_privacy" in rules and "train_property_regression" in rules
    for rule in rules:
        assert f"rule {rule}:" in proc.stdout, rule
    for spec in STUDIES.values():
        assert (f"log_{spec.name}" in rules) == (spec.experiment is not None), spec.name


def test_outputs_exist_and_are_byte_identical_across_runs_and_cores(runs):
    one, two = digests(runs["1"]), digests(runs["2"])
    for spec in STUDIES.values():
        for out in spec.outputs:
            assert out.path in one, out.path
    assert len(one) > 20
    assert one == two


def test_second_invocation_does_nothing(repo_root, runs):
    proc = snakemake(repo_root, runs["1"], "--cores", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Nothing to be done" in proc.stdout + proc.stderr


def _cells(repo_root):
    """The number of metrics records (grid cells) of each study of the test config."""
    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    private = len(config["privacy"]["epsilons"]) - 1  # variants beyond nodp
    dp_rows = len(config["privacy"]["cells"]["membership"])
    attacks = len(config["membership"]["attacks"])
    membership = (len(config["membership"]["grid"]) + private * dp_rows) * attacks
    # each non-real shadow-data variant of a row runs the attacks that train on shadows
    shadow_attacks = [a for a in config["membership"]["attacks"] if get_attack(a).needs_shadows]
    generated = sum(
        len([name for name in row.get("shadow_data", ["real"]) if name != "real"])
        for row in config["membership"]["grid"]
    )
    membership += generated * len(shadow_attacks)
    study = config["property_poisoning"]
    groups = len(study["properties"]) * len(study["models"])
    rates = len(study["poison_rates"])
    poisoning = groups * (len(study["ratio_pairs"]) * rates + 1)
    poisoning += private * len(config["privacy"]["cells"]["property_poisoning"]) * rates
    schema = repo_root / "workflow/schemas/config.schema.yaml"
    lira = load_config(repo_root / "config/test.yaml", schema)["membership_lira"]  # defaults
    return {
        "membership": membership,
        "membership_lira": len(lira["grid"]) * len(lira["attacks"]),
        "property_poisoning": poisoning,
        "privacy": (private + 1) * dp_rows,
        "scorecard": 1,  # one summary record of the whole scorecard
        "zhao": len(config["zhao"]["grid"]),  # one attack record per trained target
        "memorisation": len(config["memorisation"]["grid"]),  # one record per trained stack
        # one passive-attack record (all its K) per simulated grid row
        "collaborative": len(config["collaborative"]["grid"]),
        # one defended-attack record (all its sweep values) per grid row, and one per
        # participant-level DP variant of each listed DP row
        "collaborative_defences": len(config["collaborative_defences"]["grid"])
        + private * len(config["privacy"]["cells"]["collaborative_defences"]),
        # one embedding-attack record (all its batch and vocabulary sizes) per grid row
        "collaborative_embedding": len(config["collaborative_embedding"]["grid"]),
        # one output-defence record per membership row with defences (not in MLflow)
        "defences": sum(bool(row.get("defences")) for row in config["membership"]["grid"]),
        "whitebox": private,  # one white-box audit record per finite epsilon
        "blackbox": private,  # one black-box audit record per finite epsilon
        "one_run": private,  # one white-box one-run audit record per finite epsilon
    }


def test_every_record_is_compared_byte_for_byte_and_stamped_alike(repo_root, runs):
    """Each per-attack and audit record is among the digests the byte-identity tests compare
    (this module's two runs, the Slurm run, the kill -9 and tracking drills), and every
    record of a run carries one provenance (a file a job wrote into the checkout would turn
    the git commit of later records into ``-dirty``; tests/test_provenance.py creates every
    file the workflow writes outside results/ and checks that none does)."""
    one = digests(runs["1"])
    cells = _cells(repo_root)
    for folder, count in (
        (
            "attacks",
            cells["membership"]
            + cells["defences"]
            + cells["property_poisoning"]
            + cells["membership_lira"]
            + cells["zhao"]
            + cells["memorisation"]
            + cells["collaborative"]
            + cells["collaborative_defences"]
            + cells["collaborative_embedding"],
        ),
        ("audit", cells["privacy"] + cells["whitebox"] + cells["blackbox"] + cells["one_run"]),
    ):
        paths = sorted((runs["1"] / "results" / folder).rglob("*.json"))
        assert len(paths) == count, folder
        assert {str(p.relative_to(runs["1"])) for p in paths} <= set(one)
    records = [
        MetricsRecord.read(p) for folder in ("attacks", "audit")
        for p in (runs["1"] / "results" / folder).rglob("*.json")
    ]  # fmt: skip
    stamps = {
        (r.git_commit, r.leakbench_version, tuple(sorted(r.provenance.items()))) for r in records
    }
    assert len(stamps) == 1, stamps


def test_mlflow_holds_one_run_per_cell(repo_root, runs):
    cells = _cells(repo_root)
    query = (
        "SELECT r.name FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id "
        "WHERE e.name = ?"
    )
    with sqlite3.connect(runs["1"] / "mlflow.db") as db:
        logged = {row[0] for row in db.execute("SELECT name FROM experiments")}
        assert logged - {"Default"} == {s.experiment for s in STUDIES.values() if s.experiment}
        for name, spec in STUDIES.items():
            if spec.experiment is not None:
                names = [r[0] for r in db.execute(query, (spec.experiment,))]
                # log_privacy logs the white-box, black-box and one-run audit records
                # beside the membership audits
                audits = cells["whitebox"] + cells["blackbox"] + cells["one_run"]
                expected = cells[name] + (audits if name == "privacy" else 0)
                assert len(names) == expected == len(set(names)), spec.experiment


def test_dp_variants_share_seeds_and_stay_within_their_budget(runs):
    from leakbench.training import load_models

    base = runs["1"] / "results/models/membership/purchase_synth/tiny"
    plain, private = (
        load_models(base / "nodp/target.safetensors"),
        load_models(base / "eps2/target.safetensors"),
    )
    assert plain.seeds == private.seeds and plain.privacy is None
    assert private.privacy["target_epsilon"] == 2
    assert 1.98 <= private.privacy["epsilon"] <= 2
    table = (runs["1"] / "results/tables/dp_audit.csv").read_text().splitlines()
    assert table[0].split(",")[-1] == "within_budget" and len(table) == 3
    assert all(line.endswith(",True") for line in table[1:]), table


def test_no_audit_exceeds_the_accountant_at_any_epsilon(runs):
    import json

    summary = json.loads((runs["1"] / "results/metrics/privacy.json").read_text())["audit"]
    assert "adult/whitebox-every_iterate" in summary and "adult/whitebox-final_model" in summary
    assert "adult/blackbox" in summary and "adult/one_run" in summary
    finite = [
        point
        for cell in summary.values()
        for point in cell.values()
        if point["accountant_epsilon"] is not None
    ]
    assert len(finite) == 5  # the membership cell, both white-box auditors, the black-box and
    # the one-run audit at epsilon 2
    for point in finite:
        assert 0 <= point["epsilon_lower"] <= point["accountant_epsilon"], point
        assert (point["optimal"] or 0) <= point["accountant_epsilon"], point


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("dataset", "imagenet", "membership.grid.0.dataset: unknown value 'imagenet'; allowed:"),
        # A value with shell syntax never reaches a job (drill of issue 5).
        ("variant", "tiny; touch pwned", "membership.grid.0.variant: 'tiny; touch pwned' does"),
    ],
)
def test_bad_config_stops_before_any_job(repo_root, tmp_path, key, value, message):
    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    config["membership"]["grid"][0][key] = value
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = snakemake(repo_root, tmp_path, "--cores", "1", config=bad)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "results").exists() and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("models", 7, "membership_lira.grid.0.models: 7 is not allowed; allowed: an even"),
        ("references", 8, "membership_lira.grid.0.references: 8 is not allowed; allowed: 1 to 7"),
    ],
)
def test_bad_keep_matrix_config_stops_before_any_job(repo_root, tmp_path, key, value, message):
    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    config["membership_lira"]["grid"][0][key] = value
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = snakemake(repo_root, tmp_path, "--cores", "1", config=bad)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "results").exists()


def test_bad_zhao_config_stops_before_any_job(repo_root, tmp_path):
    config = yaml.safe_load((repo_root / "config/test.yaml").read_text())
    config["zhao"]["unknown"] = 700
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    proc = snakemake(repo_root, tmp_path, "--cores", "1", config=bad)
    assert proc.returncode != 0
    assert "zhao.unknown: 700 is not allowed; allowed: 1 .. 24" in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "results").exists()


def test_default_config_audits_stay_below_the_accountant(repo_root, tmp_path):
    """Acceptance of the DP variants: on the default config's audited cells, the empirical
    epsilon lower bound (95%) never exceeds the epsilon the accountant reports."""
    from leakbench.names import privacy_name

    config = yaml.safe_load((repo_root / "config/config.yaml").read_text())
    section = config["privacy"]
    targets = [
        f"results/audit/membership/{cell}/{privacy_name(epsilon)}.json"
        for cell in section["cells"]["membership"]
        for epsilon in section["epsilons"]
    ]
    proc = snakemake(
        repo_root, tmp_path, "--cores", "2", *targets, config=repo_root / "config/config.yaml"
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    finite = 0
    for target in targets:
        metrics = json.loads((tmp_path / target).read_text())["metrics"]
        if metrics["accountant_epsilon"] is not None:
            finite += 1
            assert metrics["epsilon_lower"] <= metrics["accountant_epsilon"], target
            assert 0 <= metrics["optimal"] <= metrics["accountant_epsilon"], target
    assert finite == sum(1 for e in section["epsilons"] if e != float("inf"))


def test_shadow_data_variants_record_their_cost_and_share_the_target(runs):
    """The tiny row's non-real shadow-data variants (Shokri et al. section V-C) run the
    shadow-model attack against the same target as its real shadows; model-based synthesis
    records its target queries per accepted record and its acceptance rate."""
    summary = json.loads((runs["1"] / "results/metrics/membership.json").read_text())
    cells = summary["purchase_synth"]
    for name in ("noisy0.1", "marginal", "synthetic"):
        shokri = cells[f"tiny+{name}"]["shokri"]
        real = cells["tiny"]["shokri"]
        assert shokri["target_test_accuracy"] == real["target_test_accuracy"], name
    synthetic = cells["tiny+synthetic"]["shokri"]
    assert synthetic["shadow_data.queries_per_record"] >= 1
    assert 0 < synthetic["shadow_data.acceptance_rate"] <= 1
    assert abs(cells["tiny+noisy0.1"]["shokri"]["shadow_data.changed_fraction"] - 0.1) < 0.02
    table = (runs["1"] / "results/tables/membership.csv").read_text()
    assert "purchase_synth,tiny,synthetic,shokri," in table
