"""Collaborative learning (Melis et al. 2019) beyond one run at half the rounds: schedules
(fraction of a batch, window, late joiner), whole-run inference, main-task accuracy, the
runs' tables and figure, and the bad input they refuse before training."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from test_collaborative import ROW, _pool
from torch import nn

from leakbench.collaborative.partition import Partition
from leakbench.collaborative.property_inference import TrialSettings, _draw, run_trial
from leakbench.collaborative.schedule import (
    alternating,
    control,
    late_join,
    property_count,
    window,
)
from leakbench.collaborative.simulate import Algorithm, task_accuracy, without
from leakbench.config import check_names, load_schema, read_yaml, validate_schema
from leakbench.errors import ConfigError
from leakbench.reporting.collaborative import auc_figure
from leakbench.reporting.collaborative_runs import (
    property_label,
    rounds_figure,
    rounds_table,
    runs_summary,
    runs_table,
)
from leakbench.reporting.records import MetricsRecord
from leakbench.studies.collaborative import check_row, has_property, run_row
from leakbench.studies.collaborative_runs import held_out, whole_run_auc


def test_property_count_rounds_the_fraction_of_the_batch():
    assert [property_count(fraction=f, records=32) for f in (0.1, 0.3, 0.5, 0.9, 1.0)] == [
        3,  # 3.2
        10,  # 9.6
        16,
        29,  # 28.8
        32,
    ]
    assert property_count(fraction=0.01, records=32) == 1  # at least one record
    with pytest.raises(
        ConfigError, match=re.escape("fraction: 1.5 is not allowed; allowed: (0, 1]")
    ):
        property_count(fraction=1.5, records=32)


def test_schedules_label_the_rounds_with_the_property():
    w = window(rounds=6, start=2, end=4, count=5)
    assert w.property_records.tolist() == [0, 0, 5, 5, 0, 0] and w.present.all()
    assert w.has_property.tolist() == [False, False, True, True, False, False]
    j = late_join(rounds=5, join_round=3, count=7)
    assert j.present.tolist() == [False, False, False, True, True]
    assert j.has_property.tolist() == [False, False, False, True, True]
    assert not control(rounds=4).has_property.any() and control(rounds=4).present.all()
    assert control(rounds=4, join_round=1).present.tolist() == [False, True, True, True]
    a = alternating(rounds=10, count=2, rng=np.random.default_rng(0))
    assert a.has_property.sum() == 5 and set(a.property_records.tolist()) == {0, 2}


def test_a_mixed_batch_holds_the_count_of_property_records():
    drawn = _draw(np.random.default_rng(0), np.arange(10), np.arange(10, 30), count=3, size=8)
    assert len(drawn) == 8 and len(set(drawn.tolist())) == 8 and (drawn < 10).sum() == 3


def test_whole_run_auc_is_the_auc_of_mean_scores_by_hand():
    # property runs' means 0.6, 0.3; control means 0.4, 0.1: pairs (0.6 > 0.4, 0.6 > 0.1,
    # 0.3 < 0.4, 0.3 > 0.1) -> 3 of 4
    assert whole_run_auc(
        property_means=np.array([0.6, 0.3]), control_means=np.array([0.4, 0.1])
    ) == pytest.approx(0.75)


def test_held_out_records_lie_outside_the_row_and_carry_main_task_labels():
    pool = _pool(n=10)
    chosen = np.arange(8)
    parity, label = {"arch": "mlp", "task": "parity"}, {"arch": "mlp", "task": "label"}
    x, y = held_out(pool=pool, row={**parity, "test_records": 5}, chosen=chosen, seed=0)
    assert torch.equal(x, torch.from_numpy(pool.x[8:])) and y.tolist() == (pool.y[8:] % 2).tolist()
    one = held_out(pool=pool, row={**label, "test_records": 1}, chosen=chosen, seed=0)
    assert one[1].tolist()[0] in pool.y[8:].tolist() and len(one[1]) == 1
    every = np.arange(10)
    assert held_out(pool=pool, row={**label, "test_records": 5}, chosen=every, seed=0) is None
    assert held_out(pool=pool, row={**label, "test_records": 0}, chosen=chosen, seed=0) is None


def test_task_accuracy_counts_argmax_hits():
    model = nn.Linear(2, 2, bias=False)
    params = {"weight": torch.tensor([[1.0, 0.0], [0.0, 1.0]])}  # argmax = the larger input
    x = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 4.0], [1.0, 2.0]])
    y = torch.tensor([0, 1, 1, 0])
    assert task_accuracy(model=model, params=params, x=x, y=y) == 0.5


def _toy_trial(schedule, *, algorithm=Algorithm.SYNC_SGD, adversary_records=None):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2))
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(64, 2)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 2, 64))
    part = Partition(
        prop=(np.arange(0, 8), np.arange(8, 16)),
        nonprop=(np.arange(16, 32), np.arange(32, 48), np.arange(48, 64)),
    )
    settings = TrialSettings(algorithm=algorithm, rounds=len(schedule.present), batch_size=4,
                             local_steps=1, lr=0.1, trees=3, max_features=8)  # fmt: skip
    return run_trial(model=model, x=x, labels=y, partition=part, settings=settings, seed=1,
                     schedule=schedule, test=(x, y),
                     adversary_records=adversary_records)  # fmt: skip


def test_an_absent_target_weighs_nothing_and_fedavg_reweighs_the_others():
    sizes = torch.tensor([1, 3, 2])
    assert without(algorithm=Algorithm.SYNC_SGD, sizes=sizes, absent=1).tolist() == [1, 0, 1]
    fed = without(algorithm=Algorithm.FEDAVG, sizes=sizes, absent=1)
    torch.testing.assert_close(fed, torch.tensor([1 / 3, 0, 2 / 3], dtype=torch.float64))


def test_a_late_joiner_trial_labels_rounds_after_it_joined_and_a_control_has_no_auc():
    late = _toy_trial(late_join(rounds=4, join_round=3, count=4), algorithm=Algorithm.FEDAVG)
    assert late.has_property.tolist() == [False, False, False, True]
    assert late.auc is not None and 0 <= late.auc <= 1 and 0 <= late.accuracy <= 1
    none = _toy_trial(control(rounds=4))
    assert none.auc is None and none.scores.shape == (4,)
    mixed = _toy_trial(window(rounds=4, start=1, end=3, count=2), adversary_records=2)
    assert mixed.has_property.tolist() == [False, True, True, False]


ROW_RUNS = {**ROW, "participants": [2], "rounds": 10, "test_records": 100}


def test_runs_carry_fraction_accuracy_whole_run_and_rounds_and_rerun_identically():
    row = {**ROW_RUNS, "fractions": [0.5, 1.0], "whole_run_trials": 2, "window": [3, 7]}
    first = run_row(pool=_pool(), row=row, seed=3, key="k")
    assert first == run_row(pool=_pool(), row=row, seed=3, key="k")
    assert [(r["participants"], r["fraction"]) for r in first["runs"]] == [(2, 0.5), (2, 1.0)]
    for run in first["runs"]:
        assert 0 <= run["auc"] <= 1 and 0 <= run["whole_run_auc"] <= 1
        assert 0 <= run["accuracy"] <= 1
    assert first["auc"]["2"] == first["runs"][1]["auc"]  # the AUC by K at the largest fraction
    assert [r["has_property"] for r in first["rounds"]] == [
        [t in range(3, 7) for t in range(10)]
    ] * 2
    plain = run_row(pool=_pool(), row={**ROW_RUNS, "test_records": 0}, seed=3, key="k")
    assert plain["runs"][0]["accuracy"] is None and plain["rounds"] == []


def test_uncorrelated_class_pair_against_parity():
    pool = _pool()
    prop = has_property(pool, {"property": "class", "property_class": [3, 8]}, key="k")
    assert prop.tolist() == np.isin(pool.y, [3, 8]).tolist()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"participants": [1]}, "k.participants: 1 is not allowed; allowed: >= 2"),
        ({"fractions": [0.5, 0.0]}, "k.fractions: 0.0 is not allowed; allowed: (0, 1]"),
        ({"fractions": [1.2]}, "k.fractions: 1.2 is not allowed; allowed: (0, 1]"),
        ({"window": [5, 9]}, "k.window: [5, 9] is not allowed with 8 rounds; allowed: [start, "
                             "end] with 0 <= start < end <= 8, not all the rounds"),
        ({"window": [0, 8]}, "k.window: [0, 8] is not allowed with 8 rounds"),
        ({"window": [4, 4]}, "k.window: [4, 4] is not allowed with 8 rounds"),
        ({"join_round": 8}, "k.join_round: 8 is not allowed; allowed: 1 .. 7"),
        ({"join_round": 2, "window": [1, 3]}, "k.join_round: 2 is not allowed with a window; "
                                              "allowed: one of window and join_round"),
        ({"property_class": [3, 12]}, "k.property_class: 12 matches no record; allowed: 0 .. 9"),
        ({"participants": [51]}, "k.participants: 51 is not allowed with 400 records"),
    ],
)  # fmt: skip
def test_bad_schedules_are_refused_with_key_value_and_allowed(change, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_row({**ROW, **change}, key="k", num_classes=10, properties=("sex",))


def test_a_class_pair_that_matches_no_record_is_refused_before_training():
    pool = _pool()
    pool.y[np.isin(pool.y, [3, 8])] = 0
    with pytest.raises(ConfigError, match=re.escape("k.property: [3, 8] matches no record")):
        run_row(pool=pool, row={**ROW_RUNS, "property_class": [3, 8]}, seed=1, key="k")


def test_config_refuses_a_bad_fraction_and_window_before_any_job(repo_root):
    schema = load_schema(repo_root / "workflow/schemas/config.schema.yaml")
    config = read_yaml(repo_root / "config/test.yaml")
    row = config["collaborative"]["grid"][1]
    row["fractions"] = [0.0]
    with pytest.raises(ConfigError, match=r"collaborative\.grid\.1\.fractions\.0: 0\.0"):
        validate_schema(config, schema)
    row["fractions"] = [0.5]
    row["join_round"] = 6
    with pytest.raises(ConfigError, match=r"collaborative\.grid\.1\.join_round: 6 is not allowed"):
        check_names(validate_schema(config, schema))


def _record(variant, grid, metrics):
    return MetricsRecord.build(study="collaborative", dataset="toy", variant=variant,
                               attack="passive_property", grid=grid, seeds={"config": 0},
                               metrics=metrics)  # fmt: skip


def test_tables_and_figure_of_the_runs():
    grid = {"algorithm": "fedavg", "task": "parity", "property": "class",
            "property_class": [3, 8], "join_round": 2}  # fmt: skip
    run = {"participants": 3, "fraction": 1.0, "auc": 0.75, "accuracy": 0.5, "whole_run_auc": None}
    metrics = {"correlation": 0.01, "runs": [run], "rounds": [
        {"participants": 3, "fraction": 1.0, "scores": [0.1, 0.2, 0.9], "has_property":
         [False, False, True]}]}  # fmt: skip
    records = [_record("late", grid, metrics)]
    fed = runs_table(records=records, algorithm="fedavg")
    assert fed.loc[0, ["property", "participants", "join_round", "auc", "accuracy"]].tolist() == [
        "class 3/8",
        3,
        2,
        0.75,
        0.5,
    ]
    assert np.isnan(fed.loc[0, "whole_run_auc"])
    assert runs_table(records=records, algorithm="sync_sgd").empty
    plain = _record("plain", {**grid, "join_round": None}, metrics)
    assert runs_table(records=[plain], algorithm="fedavg").loc[0, "join_round"] == 0
    rounds = rounds_table(records=records)
    assert rounds["score"].tolist() == [0.1, 0.2, 0.9]
    assert rounds["has_property"].tolist() == [False, False, True]
    assert runs_summary(records[0]) == {"3": {"1": {"auc": 0.75, "whole_run_auc": None,
                                                    "accuracy": 0.5}}}  # fmt: skip
    assert len(rounds_figure(records=records).axes) == 1
    assert property_label({"property": "race"}) == "race"


def test_the_k_figure_draws_only_rows_with_two_k_or_more():
    grid = {"algorithm": "sync_sgd", "task": "parity", "property": "race", "join_round": None}
    two = _record("two", grid, {"auc": {"2": 0.9, "4": 0.8}})
    one = _record("one", grid, {"auc": {"2": 0.7}})
    (ax,) = auc_figure(records=[two, one]).axes
    assert [
        line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")
    ] == ["toy/two"]
