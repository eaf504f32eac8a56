"""The reference-model membership study: reference counts, leave-one-model-out evaluation,
config refusals before any job, and its table and figures."""

from __future__ import annotations

import copy
import json
import re

import numpy as np
import pytest
import yaml

from leakbench.attacks.reference import ReferenceSignals
from leakbench.config import load_config
from leakbench.errors import ConfigError
from leakbench.reporting.lira import (
    lira_references_figure,
    lira_roc_figure,
    lira_summary,
    lira_table,
)
from leakbench.reporting.records import MetricsRecord
from leakbench.studies import membership_lira as study
from leakbench.studies.lira_splits import keep_matrix, parts


@pytest.mark.parametrize(
    ("attack", "references", "expected"),
    [
        ("lira_online", 15, [2, 4, 8, 14]),  # k/2 IN + k/2 OUT, at most N - 2
        ("rmia_online", 15, [2, 4, 8, 14]),
        ("lira_offline", 15, [1, 2, 4, 7]),  # k OUT, at most N/2 - 1
        ("rmia_offline", 15, [1, 2, 4, 7]),
        ("shokri", 15, [15]),  # whole models as shadows, at most N - 1, once
        ("shokri", 4, [4]),
        ("global_threshold", 15, [0]),
        ("loss", 15, [0]),
        ("lira_online", 5, [2, 4]),
        ("lira_offline", 3, [1, 2, 3]),
    ],
)
def test_reference_counts_per_attack(attack, references, expected):
    assert study.counts_for(attack=attack, models=16, references=references) == expected


def test_shokri_shadows_are_the_models_after_the_target_cyclically():
    assert study.shadow_models(target=6, count=3, models=8) == [7, 0, 1]
    assert 0 not in study.shadow_models(target=0, count=7, models=8)


def test_parts_cover_every_model_once():
    assert parts(models=16, stack=6) == [range(0, 6), range(6, 12), range(12, 16)]
    assert parts(models=16, stack=64) == [range(0, 16)]


def _separable(models=8, records=120, seed=0):
    """phi = +2 on a model's own records, -2 elsewhere, plus noise: every attack that reads
    the target's signal separates its members perfectly."""
    keep = keep_matrix(models=models, records=records, seed=seed)
    noise = np.random.default_rng(seed).normal(scale=0.1, size=keep.shape)
    phi = np.where(keep, 2.0, -2.0) + noise
    labels = np.zeros(records, dtype=np.int64)
    return keep, phi, labels


@pytest.mark.parametrize("attack", ["global_threshold", "lira_offline", "lira_online"])
def test_evaluation_is_leave_one_model_out_against_each_targets_keep_row(attack):
    keep, phi, labels = _separable()
    data = ReferenceSignals(signals={"phi": phi[..., None]}, keep=keep, population=np.arange(10))
    result = study.evaluate(
        attack=attack,
        data=data,
        logits=np.zeros((*keep.shape, 2), dtype=np.float32),
        labels=labels,
        params={},
        targets=4,
        references=7,
        seed=0,
    )
    assert list(result.by_count) == study.counts_for(attack=attack, models=8, references=7)
    for values in result.by_count.values():
        assert len(values["auc"]) == len(values["tpr_at_fpr_0.001"]) == 4  # one per target
    largest = result.by_count[max(result.by_count)]
    assert min(largest["auc"]) > 0.999  # each target's own members, separated
    assert min(largest["tpr_at_fpr_0.01"]) > 0.9
    summary = result.summary()[str(max(result.by_count))]
    assert summary["auc_mean"] == pytest.approx(np.mean(largest["auc"]))
    assert summary["auc_std"] == pytest.approx(np.std(largest["auc"]))
    assert result.scores.shape == (keep.shape[1],)
    assert result.roc[1][-1] == 1.0


def test_evaluation_on_flipped_membership_is_perfectly_wrong():
    keep, phi, labels = _separable()
    data = ReferenceSignals(signals={"phi": -phi[..., None]}, keep=keep, population=np.arange(10))
    result = study.evaluate(
        attack="global_threshold",
        data=data,
        logits=np.zeros((*keep.shape, 2), dtype=np.float32),
        labels=labels,
        params={},
        targets=2,
        references=7,
        seed=0,
    )
    assert result.by_count[0]["auc"] == [0.0, 0.0]
    assert result.by_count[0]["balanced_accuracy"] == [0.5, 0.5]


# -- config refusals before any job -------------------------------------------------------


@pytest.fixture(scope="module")
def test_config(repo_root):
    return yaml.safe_load((repo_root / "config/test.yaml").read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"models": 7},
            "membership_lira.grid.0.models: 7 is not allowed; allowed: an even integer",
        ),
        (
            {"models": 0},
            "membership_lira.grid.0.models: 0 is not allowed; allowed: an even integer",
        ),
        ({"targets": 9}, "membership_lira.grid.0.targets: 9 is not allowed; allowed: 1 to 8"),
        ({"references": 8}, "membership_lira.grid.0.references: 8 is not allowed; allowed: 1 to 7"),
        ({"population": 201}, "membership_lira.grid.0.population: 201 is not allowed"),
        ({"queries": ["plain", "flip"]}, "membership_lira.grid.0.queries: ['plain', 'flip'] is"),
        (
            {"queries": ["plain", "rot"]},
            "queries: unknown value 'rot'; allowed: flip, plain, shift",
        ),
        ({"models": 4}, "membership_lira.grid.0.models: 4 is not allowed for rmia_offline without"),
        ({"momentum": 0.9}, "membership_lira.grid.0.momentum: 0.9 is not allowed; allowed:"),
        (
            {"augment": ["flip", "crop"]},
            "membership_lira.grid.0.augment: ['flip', 'crop'] is not allowed for records of "
            "shape [600]; allowed: [] (augmentation is for images",
        ),
        (
            {"augment": ["rotate"]},
            "membership_lira.grid.0.augment.0: 'rotate' is not one of ['flip', 'crop']",
        ),
    ],
)
def test_bad_rows_are_refused_with_key_and_allowed_values(
    repo_root, tmp_path, test_config, change, message
):
    config = copy.deepcopy(test_config)
    config["membership_lira"]["grid"][0].update(change)
    _refused(repo_root, tmp_path, config, message)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"rmia_offline": {"a": 1.5}},
            "attack_params.rmia_offline.a: 1.5 is not allowed; allowed: a number in [0, 1]",
        ),
        (
            {"rmia_online": {"gamma": 0}},
            "attack_params.rmia_online.gamma: 0 is not allowed; allowed: a finite number > 0",
        ),
        (
            {"rmia_online": {"temperature": -1}},
            "attack_params.rmia_online.temperature: -1 is not allowed",
        ),
        (
            {"lira_online": {"signal": "logit"}},
            "attack_params.lira_online.signal: 'logit' is not allowed; allowed: phi, loss",
        ),
        (
            {"lira_offline": {"gamma": 2}},
            "attack_params.lira_offline.gamma: unknown parameter 'gamma'",
        ),
        ({"nope": {}}, "membership_lira.attack_params: unknown value 'nope'; allowed:"),
    ],
)
def test_bad_attack_params_are_refused(repo_root, tmp_path, test_config, params, message):
    config = copy.deepcopy(test_config)
    config["membership_lira"]["attack_params"] = params
    _refused(repo_root, tmp_path, config, message)


def test_unknown_attack_is_refused_naming_both_registries(repo_root, tmp_path, test_config):
    config = copy.deepcopy(test_config)
    config["membership_lira"]["attacks"] = ["lira_online", "lira"]
    _refused(repo_root, tmp_path, config, "attacks: unknown value 'lira'; allowed: confidence,")


def _refused(repo_root, tmp_path, config, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path, repo_root / "workflow/schemas/config.schema.yaml")


# -- table and figures ---------------------------------------------------------------------


def _record(attack, by_count):
    metrics = {
        "references": {
            str(k): {f"{m}_{s}": v for m in study.METRICS for s in ("mean", "std")}
            for k, v in by_count.items()
        },
        "max_references": max(by_count),
        **{m: by_count[max(by_count)] for m in study.METRICS},
        "calibrated": {},
    }
    return MetricsRecord.build(
        study="membership_lira",
        dataset="purchase_synth",
        variant="tiny",
        attack=attack,
        grid={},
        seeds={"config": 1},
        metrics=metrics,
        provenance={},
        leakbench_version="0",
        git_commit="x",
    )


def test_table_has_one_row_per_attack_and_reference_count_and_figures_draw_them():
    records = [
        _record("lira_online", {2: 0.1, 4: 0.2}),
        _record("rmia_offline", {1: 0.3}),
        _record("loss", {0: 0.05}),
    ]
    table = lira_table(records=records)
    assert list(table["attack"]) == ["lira_online", "lira_online", "loss", "rmia_offline"]
    assert list(table["references"]) == [2, 4, 0, 1]
    assert table.loc[1, "tpr_at_fpr_0.001_mean"] == 0.2
    figure = lira_references_figure(table=table)
    (ax,) = figure.axes
    assert ax.get_legend_handles_labels()[1] == ["lira_online", "rmia_offline"]
    curve = (np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.8, 1.0]))
    roc = lira_roc_figure(rocs={("purchase_synth", "tiny", a): curve for a in ("loss", "shokri")})
    assert len(roc.axes) == 1 and len(roc.axes[0].get_lines()) == 3  # two curves and chance


def test_summary_sets_attacks_side_by_side_per_metric_and_reference_count():
    records = [_record("lira_online", {2: 0.1, 4: 0.2}), _record("loss", {0: 0.05})]
    summary = json.loads(lira_summary(records=records))["purchase_synth"]["tiny"]
    assert summary["auc"] == {"lira_online": 0.2, "loss": 0.05}
    assert summary["max_references"] == {"lira_online": 4, "loss": 0}
    assert summary["by_references"]["2"]["tpr_at_fpr_0.001"] == {"lira_online": 0.1}
