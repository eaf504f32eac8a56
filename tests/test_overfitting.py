"""The overfitting figure's data (Shokri et al. 2017, Fig. 11) on a hand-made set of records."""

from __future__ import annotations

import math

import pytest

from leakbench.reporting.figures import save_figure
from leakbench.reporting.overfitting import (
    family_label,
    family_trends,
    overfitting_figure,
    overfitting_points,
    spearman,
)
from leakbench.reporting.records import MetricsRecord


def _record(dataset, variant, arch, params, *, train, test, precision, attack="shokri", **grid):
    return MetricsRecord.build(
        study="membership",
        dataset=dataset,
        variant=variant,
        attack=attack,
        grid={
            "dataset": dataset,
            "arch": arch,
            "arch_params": params,
            "shadow_data": "real",
            **grid,
        },
        seeds={"config": 7},
        metrics={
            "precision": precision,
            "target_train_accuracy": train,
            "target_test_accuracy": test,
        },
        provenance={"python": "3.11.7"},
        leakbench_version="0.1.0",
        git_commit="0" * 40,
    )


LOGREG = ("sklearn_logreg", {"C": 100})
MLP = ("mlp", {"hidden": [128]})


@pytest.fixture
def records():
    return [
        _record("purchase_synth", "logreg_c100", *LOGREG, train=1.0, test=0.6, precision=0.8),
        _record("purchase_synth2", "logreg_c100", *LOGREG, train=0.9, test=0.85, precision=0.51),
        _record("purchase_synth10", "logreg_c100", *LOGREG, train=0.95, test=0.75, precision=0.6),
        _record("purchase_synth", "mlp128", *MLP, train=1.0, test=0.5, precision=0.7),
        _record("purchase_synth2", "mlp128", *MLP, train=0.9, test=0.8, precision=0.75),
        # left out: another attack, generated shadow data, a DP variant
        _record(
            "purchase_synth",
            "logreg_c100",
            *LOGREG,
            train=1.0,
            test=0.6,
            precision=0.9,
            attack="loss",
        ),
        _record(
            "purchase_synth",
            "mlp128+marginal",
            *MLP,
            train=1.0,
            test=0.5,
            precision=0.9,
            shadow_data="marginal",
        ),
        _record("purchase_synth", "mlp128.eps8", *MLP, train=0.6, test=0.5, precision=0.55),
    ]


def test_family_label_names_architecture_and_parameters():
    assert family_label({"arch": "sklearn_logreg", "arch_params": {"C": 100}}) == (
        "sklearn_logreg(C=100)"
    )
    assert family_label({"arch": "mlp", "arch_params": {"hidden": [64, 64]}}) == (
        "mlp(hidden=[64,64])"
    )
    assert family_label({"arch": "logreg", "arch_params": {}}) == "logreg"


def test_points_keep_one_row_per_real_nodp_shokri_cell_sorted_by_family_and_gap(records):
    points = overfitting_points(records)
    assert list(points["family"]) == ["mlp(hidden=[128])"] * 2 + ["sklearn_logreg(C=100)"] * 3
    assert list(points["dataset"]) == [
        "purchase_synth2",
        "purchase_synth",
        "purchase_synth2",
        "purchase_synth10",
        "purchase_synth",
    ]
    assert points["gap"].round(6).tolist() == [0.1, 0.5, 0.05, 0.2, 0.4]
    assert points["precision"].tolist() == [0.75, 0.7, 0.51, 0.6, 0.8]
    assert set(points["variant"]) == {"mlp128", "logreg_c100"}


def test_spearman_on_hand_computed_cases():
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2], [5, 4]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0
    # ranks x (1, 2, 3, 4), y (1, 3, 2, 4): d = (0, 1, 1, 0), rho = 1 - 6*2 / (4*15) = 0.8
    assert spearman([0.1, 0.2, 0.3, 0.4], [1, 3, 2, 4]) == pytest.approx(0.8)
    # ties share the mean rank: x ranks (1.5, 1.5, 3), y (1, 2, 3) -> rho = sqrt(3)/2
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(math.sqrt(3) / 2)


def test_trends_per_family_and_figure(records, tmp_path):
    points = overfitting_points(records)
    assert family_trends(points) == {
        "mlp(hidden=[128])": {"spearman": -1.0, "points": 2},
        "sklearn_logreg(C=100)": {"spearman": 1.0, "points": 3},
    }
    assert family_trends(points[points["family"] == "mlp(hidden=[128])"].head(1)) == {}
    png, pdf = save_figure(figure=overfitting_figure(points), stem=tmp_path / "a")
    again, _ = save_figure(figure=overfitting_figure(points), stem=tmp_path / "b")
    assert png.read_bytes() == again.read_bytes() and pdf.stat().st_size > 0
    empty = overfitting_points([])
    assert empty.empty and family_trends(empty) == {}
    save_figure(figure=overfitting_figure(empty), stem=tmp_path / "c")
