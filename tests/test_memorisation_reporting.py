"""Song et al. 2017 reporting: the table's detection columns, the detection rates per kind
of model and the parameter-histogram figure (Fig. 6)."""

from __future__ import annotations

import numpy as np
import pytest

from leakbench.reporting import memorisation as report
from leakbench.reporting.records import MetricsRecord, RecordError


def _row(label, encoding, detected, countermeasure=False, matched=None):
    matched = detected if matched is None else matched
    return {
        "label": label,
        "encoding": encoding,
        "parameter": 1.0,
        "countermeasure": countermeasure,
        "test_accuracy": 0.9,
        "accuracy_drop": 0.0,
        "images": 4,
        "recovered": 2,
        "mape": 10.0,
        "ssim": 0.5,
        "bits_flipped": None,
        "steps": 48 if encoding == "capacity" else 16,
        "ks": 0.3 if detected else 0.01,
        "detected": detected,
        "ks_matched": 0.3 if matched else 0.01,
        "detected_matched": matched,
    }


ROWS = [
    _row("lsb-b8", "lsb", False),
    _row("lsb-b8-randomised", "lsb", False, countermeasure=True),
    _row("lsb-b23", "lsb", True),
    _row("correlation-l1", "correlation", True),
    _row("correlation-l3", "correlation", True),
    _row("sign-l100", "sign", False),
    _row("capacity-r2-p1", "capacity", True, matched=False),
]


def _record():
    return MetricsRecord.build(
        study="memorisation",
        dataset="mnist5k",
        variant="mlp",
        attack="encodings",
        grid={"dataset": "mnist5k"},
        seeds={"models": 1},
        metrics={
            "benign_test_accuracy": 0.9,
            "parameters": 10,
            "detection": {
                "threshold": 0.02,
                "null_ks": [0.01, 0.02],
                "benign_ks": 0.015,
                "benign_detected": False,
            },
            "encodings": ROWS,
        },
        provenance={},
        leakbench_version="0",
        git_commit="0",
    )


def test_detection_rates_are_the_flagged_fraction_per_kind():
    # lsb: 1 of 2 encoded models; its countermeasure apart; correlation 2 of 2
    assert report.detection_rates(rows=ROWS) == {
        "lsb": 0.5,
        "lsb-randomised": 0.0,
        "correlation": 1.0,
        "sign": 0.0,
        "capacity": 1.0,
    }
    # against the step-matched control the capacity model is not flagged
    assert report.detection_rates(rows=ROWS, flag="detected_matched")["capacity"] == 0.0


def test_table_and_summary_carry_the_check():
    record = _record()
    table = report.memorisation_table(records=[record])
    assert list(table["detected"]) == [row["detected"] for row in ROWS]
    assert list(table["ks"]) == [row["ks"] for row in ROWS]
    cell = report.summary(records=[record])["mnist5k"]["mlp"]
    assert cell["detection_rate"]["correlation"] == 1.0
    assert cell["benign_detected"] is False


def test_table_and_summary_hold_both_references():
    record = _record()
    table = report.memorisation_table(records=[record])
    for column in ("steps", "ks", "detected", "ks_matched", "detected_matched"):
        assert column in table.columns
    capacity = table.set_index("label").loc["capacity-r2-p1"]
    assert capacity["steps"] == 48
    assert bool(capacity["detected"]) and not bool(capacity["detected_matched"])
    assert list(table["ks_matched"]) == [row["ks_matched"] for row in ROWS]
    cell = report.summary(records=[record])["mnist5k"]["mlp"]
    assert cell["detection_rate"]["capacity"] == 1.0
    assert cell["detection_rate_matched"]["capacity"] == 0.0
    assert cell["detection_rate_matched"]["correlation"] == 1.0


def test_parameter_histograms_draw_one_panel_per_trained_encoding():
    edges = np.linspace(-1, 1, 5)
    arrays = {"hist_edges": edges, "hist_benign": np.full(4, 0.25)}
    for label in ("correlation-l1", "correlation-l3", "capacity-r2-p1"):
        arrays[f"hist_{label}"] = np.array([0.0, 0.5, 0.5, 0.0])
    figure = report.parameter_histograms(records=[_record()], arrays=[arrays])
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles == [
        "mnist5k/mlp: correlation-l1",
        "mnist5k/mlp: correlation-l3",
        "mnist5k/mlp: capacity-r2-p1",
    ]
    # the capacity panel also draws its step-matched benign reference, the others do not
    arrays["hist_capacity-r2-p1-control"] = np.array([0.25, 0.25, 0.25, 0.25])
    figure = report.parameter_histograms(records=[_record()], arrays=[arrays])
    lines = {ax.get_title(): [ln.get_label() for ln in ax.get_lines()] for ax in figure.axes}
    assert lines["mnist5k/mlp: capacity-r2-p1"] == [
        "benign",
        "capacity-r2-p1",
        "benign, as many steps",
    ]
    assert lines["mnist5k/mlp: correlation-l1"] == ["benign", "correlation-l1"]
    with pytest.raises(RecordError, match="no trained encoding"):
        report.parameter_histograms(
            records=[_record()],
            arrays=[{"hist_edges": edges, "hist_benign": arrays["hist_benign"]}],
        )
