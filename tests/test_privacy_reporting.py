"""The DP axis' tables and figures on hand-built records."""

from __future__ import annotations

import math

import pytest

from leakbench.reporting.privacy import (
    _ticks,
    audit_figure,
    audit_table,
    tradeoff_figure,
    tradeoff_table,
)
from leakbench.reporting.records import MetricsRecord, RecordError

DP = {"epsilon": 1.0, "delta": 1e-5, "max_grad_norm": 1.0, "accountant": "rdp"}


def _base(study, variant, attack, grid, metrics, dataset="purchase_synth"):
    return MetricsRecord.build(
        study=study,
        dataset=dataset,
        variant=variant,
        attack=attack,
        grid=grid,
        seeds={"config": 1},
        metrics=metrics,
        provenance={},
        leakbench_version="0",
        git_commit="unknown",
    )


def _membership(privacy, auc, test):
    variant = "mlp" if privacy is None else "mlp.eps1"
    grid = {"variant": variant, **({"privacy": privacy} if privacy else {})}
    metrics = {"auc": auc, "tpr_at_fpr_0.01": auc / 10, "target_test_accuracy": test}
    return _base("membership", variant, "loss", grid, metrics)


def _audit(privacy, spent, lower):
    variant = "mlp" if privacy is None else "mlp.eps1"
    grid = {"variant": variant, **({"privacy": privacy} if privacy else {})}
    metrics = {
        "accountant_epsilon": spent,
        "noise_multiplier": None if spent is None else 2.0,
        "epsilon_lower": lower,
        "ceiling": 3.1,
        "tp": 60,
        "fn": 40,
        "fp": 30,
        "tn": 70,
    }
    return _base("privacy", variant, "loss", grid, metrics)


def _poisoning(privacy, rate, accuracy):
    model = {"variant": "logreg", **({"privacy": privacy} if privacy else {})}
    grid = {"property": "sex", "t0": 0.1, "t1": 0.25, "model": "logreg"}
    grid |= {"poison_rate": rate, "model_params": model}
    metrics = {"attack_accuracy": accuracy, "clean_test_accuracy": 0.8}
    if privacy:
        metrics["accountant_epsilon"] = 0.99
    name = f"sex.0.1-0.25.logreg{'.eps1' if privacy else ''}.p{rate:g}"
    return _base("property_poisoning", name, "threshold", grid, metrics, dataset="adult")


def _collaborative(privacy, auc, accuracy):
    grid = {"variant": "dp", "sweep": "alpha", "rounds": 10}
    grid |= {"privacy": privacy} if privacy else {}
    metrics = {"auc": {"0": auc}, "accuracy": {"0": accuracy}}
    if privacy:
        metrics["dp"] = {"epsilon": 0.98, "target_epsilon": 1.0, "noise_multiplier": 5.0}
    variant = "dp.eps1" if privacy else "dp"
    return _base("collaborative_defences", variant, "defended_property", grid, metrics, "mnist5k")


def test_audit_table_flags_a_bound_above_the_accountant():
    table = audit_table(
        records=[_audit(None, None, 2.5), _audit(DP, 0.99, 0.3), _audit(DP, 0.99, 1.2)]
    )
    assert list(table.epsilon) == [math.inf, 1.0, 1.0]
    assert list(table.cell) == ["mlp"] * 3
    assert list(table.within_budget) == [True, True, False]  # 1.2 > 0.99 is a bug signal
    assert list(table.ceiling) == [3.1] * 3 and table.canary_ceiling.isna().all()


def test_tradeoff_table_joins_the_accountant_epsilon_and_orders_rows():
    table = tradeoff_table(
        membership=[_membership(DP, 0.55, 0.2), _membership(None, 0.9, 0.5)],
        audits=[_audit(None, None, 2.5), _audit(DP, 0.99, 0.3)],
        property_poisoning=[_poisoning(DP, 0.05, 0.7), _poisoning(None, 0.05, 0.95)],
        collaborative=[_collaborative(DP, 0.52, 0.51), _collaborative(None, 0.99, 0.84)],
    )
    member = table[table.study == "membership"]
    assert list(member.epsilon) == [math.inf, 1.0]  # no DP first, then falling epsilon
    assert list(member.auc) == [0.9, 0.55]
    assert math.isnan(member.accountant_epsilon.iloc[0])
    assert member.accountant_epsilon.iloc[1] == 0.99
    assert list(member["tpr_at_fpr_0.01"]) == pytest.approx([0.09, 0.055])
    poison = table[table.study == "property_poisoning"]
    assert list(poison.cell) == ["sex/0.1-0.25/logreg"] * 2
    assert list(poison.attack_accuracy) == [0.95, 0.7]
    assert list(poison.accountant_epsilon.fillna(-1)) == [-1, 0.99]
    together = table[table.study == "collaborative_defences"]
    assert list(together.cell) == ["dp/alpha0"] * 2
    assert list(together.epsilon) == [math.inf, 1.0]
    assert list(together.auc) == [0.99, 0.52] and list(together.test_accuracy) == [0.84, 0.51]
    assert list(together.accountant_epsilon.fillna(-1)) == [-1, 0.98]
    figure = tradeoff_figure(table=table)
    panel = next(ax for ax in figure.axes if "collaborative_defences" in ax.get_title())
    assert [line.get_label() for line in panel.get_lines()][:2] == [
        "defended_property AUC",
        "test accuracy",
    ]
    audit_figure(table=audit_table(records=[_audit(None, None, 2.5), _audit(DP, 0.99, 0.3)]))


def test_close_epsilons_share_one_tick_label():
    figure = audit_figure(
        table=audit_table(
            records=[_audit(None, None, 2.5), _audit(DP, 0.942, 0.0), _audit(DP, 0.996, 0.0)]
        )
    )
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels == ["0.942", "no DP"]
    assert _ticks([0.942, 0.996, 4.0, 7.99, 8.0]) == [0.942, 4.0, 7.99]


def test_empty_inputs_are_refused():
    with pytest.raises(RecordError, match="no records"):
        tradeoff_table(membership=[], audits=[], property_poisoning=[], collaborative=[])
    bad = _membership(DP, 0.5, 0.5)
    del bad.metrics["auc"]
    with pytest.raises(RecordError, match=r"membership/purchase_synth/mlp.eps1/loss: metrics\.auc"):
        tradeoff_table(membership=[bad], audits=[], property_poisoning=[], collaborative=[])


def _whitebox(epsilon, spent, every, final):
    variant = f"whitebox.eps{epsilon:g}"
    metrics = {
        "target_epsilon": epsilon,
        "epsilon": spent,
        "noise_multiplier": 1.0,
        "sample_rate": 1.0,
        "steps": 1,
        "trials": 1000,
        "with_canary": 500,
        "every_iterate": every,
        "final_model": final,
        "ceiling": 4.2,
        "every_iterate_optimal": 1.5,
        "final_model_optimal": 1.25,
    }
    grid = {"privacy": {**DP, "epsilon": epsilon}, "variant": variant}
    return _base("privacy", variant, "dirac_canary", grid, metrics, dataset="adult")


def test_whitebox_table_has_one_row_per_auditor_and_flags_a_bound_above_the_accountant():
    from leakbench.reporting.privacy import whitebox_figure, whitebox_table

    table = whitebox_table(records=[_whitebox(1.0, 0.99, 0.2, 1.3), _whitebox(8.0, 7.9, 2.0, 1.0)])
    assert list(table.epsilon) == [8.0, 8.0, 1.0, 1.0]
    assert list(table.audit) == ["every_iterate", "final_model"] * 2
    assert list(table.epsilon_lower) == [2.0, 1.0, 0.2, 1.3]
    assert list(table.within_budget) == [True, True, True, False]  # 1.3 > 0.99
    assert list(table.optimal) == [1.5, 1.25] * 2 and list(table.ceiling) == [4.2] * 4
    figure = whitebox_figure(table=table)
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert labels == [
        "accountant epsilon",
        "ceiling (trials)",
        "every iterate (line: its optimal test)",
        "final model (line: its optimal test)",
    ]
    with pytest.raises(RecordError, match="dp_whitebox: no rows"):
        whitebox_figure(table=table.iloc[:0])


def _blackbox(epsilon, spent, lower):
    variant = f"blackbox.eps{epsilon:g}"
    metrics = {
        "target_epsilon": epsilon,
        "epsilon": spent,
        "epsilon_lower": lower,
        "ceiling": 3.5,
        "optimal": 0.9,
        "final_model_optimal": 0.8,
    }
    grid = {"privacy": {**DP, "epsilon": epsilon}, "variant": variant}
    return _base("privacy", variant, "canary_loss", grid, metrics, dataset="adult")


def test_audits_table_has_one_row_per_audit_and_epsilon_with_the_four_numbers():
    from leakbench.reporting.privacy import (
        AUDITS,
        audits_figure,
        audits_table,
        whitebox_table,
    )

    plain, private = _audit(None, None, 0.0), _audit(DP, 0.99, 0.3)
    private.metrics["canary_epsilon_lower"], private.metrics["canary_ceiling"] = 0.5, 2.2
    private.metrics["optimal"] = 0.7
    one_run = _blackbox(1.0, 0.99, 0.6)
    one_run.metrics.update(ceiling=2.9, optimal=0.8)
    table = audits_table(
        audits=audit_table(records=[plain, private]),
        whitebox=whitebox_table(records=[_whitebox(1.0, 0.99, 0.2, 0.4)]),
        blackbox=[_blackbox(1.0, 0.99, 1.2)],
        one_run=[one_run],
    )
    assert list(table.audit) == list(AUDITS)  # the plain variant has no accountant: no row
    assert list(table.epsilon) == [1.0] * 6 and list(table.accountant_epsilon) == [0.99] * 6
    assert list(table.cell) == ["mlp", "mlp", "whitebox", "whitebox", "whitebox", "blackbox"]
    assert list(table.epsilon_lower) == [0.3, 0.5, 0.6, 0.2, 0.4, 1.2]
    assert list(table.ceiling) == [3.1, 2.2, 2.9, 4.2, 4.2, 3.5]
    assert table.optimal[0] == 0.7 and math.isnan(table.optimal[1])  # natural; input canaries
    assert list(table.optimal[2:]) == [0.8, 1.5, 1.25, 0.9]
    assert list(table.within_budget) == [True, True, True, True, True, False]  # 1.2 > 0.99
    figure = audits_figure(table=table)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == [audit.replace("_", " ") for audit in AUDITS]
    with pytest.raises(RecordError, match="dp_audits: no rows"):
        audits_figure(table=table.iloc[:0])
