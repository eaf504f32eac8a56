"""Records, tables and figures: exact text, exact areas, byte-identical figures."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from leakbench.reporting.figures import membership_roc_figure, save_figure
from leakbench.reporting.records import MetricsRecord, RecordError
from leakbench.reporting.roc import read_roc_csv, roc_auc
from leakbench.reporting.tables import (
    MEMBERSHIP_COLUMNS,
    membership_table,
    table_csv,
    table_markdown,
    write_table_csv,
    write_table_md,
)


def _record(dataset, attack, *, variant="default", **metrics):
    values = {
        "auc": 0.5,
        "tpr_at_fpr_0.01": 0.01,
        "tpr_at_fpr_0.001": 0.001,
        "precision": 0.5,
        "recall": 0.5,
        "balanced_accuracy": 0.5,
        "target_train_accuracy": 0.9,
        "target_test_accuracy": 0.8,
        **metrics,
    }
    return MetricsRecord.build(
        study="membership",
        dataset=dataset,
        variant=variant,
        attack=attack,
        grid={"dataset": dataset, "variant": variant, "lr": 0.001},
        seeds={"config": 7},
        metrics=values,
        provenance={"python": "3.11.7"},
        leakbench_version="0.1.0",
        git_commit="0" * 40,
    )


@pytest.fixture
def records():
    """Three cells given out of order, with values that exercise rounding and the gap."""
    return [
        _record(
            "mnist5k", "loss", auc=0.71235, target_train_accuracy=1.0, target_test_accuracy=0.75
        ),
        _record(
            "adult",
            "shokri",
            auc=0.123456,
            precision=None,
            target_train_accuracy=0.80000001,
            target_test_accuracy=0.80000002,
        ),
        _record(
            "adult", "confidence", recall=1, target_train_accuracy=0.85, target_test_accuracy=0.8
        ),
    ]


EXPECTED_CSV = """\
dataset,variant,shadow_data,attack,auc,tpr_at_fpr_0.01,tpr_at_fpr_0.001,precision,recall,balanced_accuracy,target_train_accuracy,target_test_accuracy,generalisation_gap
adult,default,real,confidence,0.5000,0.0100,0.0010,0.5000,1.0000,0.5000,0.8500,0.8000,0.0500
adult,default,real,shokri,0.1235,0.0100,0.0010,,0.5000,0.5000,0.8000,0.8000,0.0000
mnist5k,default,real,loss,0.7124,0.0100,0.0010,0.5000,0.5000,0.5000,1.0000,0.7500,0.2500
"""

EXPECTED_MD = """\
| dataset | variant | shadow_data | attack     |    auc | tpr_at_fpr_0.01 | tpr_at_fpr_0.001 | precision | recall | balanced_accuracy | target_train_accuracy | target_test_accuracy | generalisation_gap |
| :------ | :------ | :---------- | :--------- | -----: | --------------: | ---------------: | --------: | -----: | ----------------: | --------------------: | -------------------: | -----------------: |
| adult   | default | real        | confidence | 0.5000 |          0.0100 |           0.0010 |    0.5000 | 1.0000 |            0.5000 |                0.8500 |               0.8000 |             0.0500 |
| adult   | default | real        | shokri     | 0.1235 |          0.0100 |           0.0010 |       n/a | 0.5000 |            0.5000 |                0.8000 |               0.8000 |             0.0000 |
| mnist5k | default | real        | loss       | 0.7124 |          0.0100 |           0.0010 |    0.5000 | 0.5000 |            0.5000 |                1.0000 |               0.7500 |             0.2500 |
"""  # noqa: E501


def test_membership_table_sorts_rows_and_computes_the_gap(records):
    table = membership_table(records=records)
    assert tuple(table.columns) == MEMBERSHIP_COLUMNS
    assert table[["dataset", "attack"]].values.tolist() == [
        ["adult", "confidence"],
        ["adult", "shokri"],
        ["mnist5k", "loss"],
    ]
    # train - test, by hand: 1.0 - 0.75 = 0.25 and 0.85 - 0.8 = 0.05.
    assert table["generalisation_gap"].tolist()[2] == 0.25
    assert table["generalisation_gap"].tolist()[0] == pytest.approx(0.05, abs=1e-15)
    assert np.isnan(table.loc[1, "precision"])
    assert list(table.index) == [0, 1, 2]


def test_csv_text_is_exact_rounded_and_has_no_negative_zero(records):
    assert table_csv(table=membership_table(records=records)) == EXPECTED_CSV


def test_markdown_text_is_exact(records):
    assert table_markdown(table=membership_table(records=records)) == EXPECTED_MD


def test_writers_write_the_text_atomically(records, tmp_path):
    table = membership_table(records=records)
    write_table_csv(table=table, path=tmp_path / "t.csv")
    write_table_md(table=table, path=tmp_path / "t.md", digits=2)
    assert (tmp_path / "t.csv").read_text() == EXPECTED_CSV
    md = (tmp_path / "t.md").read_text()
    assert "| adult   | default | real        | shokri     | 0.12 |" in md
    assert "0.1235" not in md
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.md"]


def test_table_bytes_do_not_depend_on_record_order(records):
    shuffled = [records[2], records[0], records[1]]
    assert table_csv(table=membership_table(records=shuffled)) == EXPECTED_CSV


def test_table_refuses_a_missing_metric_naming_the_cell_and_key(records):
    del records[0].metrics["recall"]
    with pytest.raises(RecordError, match=r"membership/mnist5k/default/loss.*'recall'"):
        membership_table(records=records)


def test_table_refuses_a_non_numeric_metric(records):
    records[0].metrics["auc"] = "high"
    with pytest.raises(RecordError, match=r"metrics.auc: 'high'"):
        membership_table(records=records)


def test_table_refuses_duplicate_cells_and_no_records(records):
    with pytest.raises(RecordError, match="two records"):
        membership_table(records=[*records, copy.deepcopy(records[0])])
    with pytest.raises(RecordError, match="no records"):
        membership_table(records=[])


def test_roc_auc_by_hand():
    # Trapezoids: (0.5 - 0) * (1 + 0) / 2 + (1 - 0.5) * (1 + 1) / 2 = 0.25 + 0.5 = 0.75.
    assert roc_auc(fpr=[0, 0.5, 1], tpr=[0, 1, 1]) == 0.75
    assert roc_auc(fpr=[0, 1], tpr=[0, 1]) == 0.5
    with pytest.raises(RecordError, match="non-decreasing"):
        roc_auc(fpr=[0, 0.6, 0.5, 1], tpr=[0, 0.5, 0.7, 1])
    with pytest.raises(RecordError, match=r"in \[0, 1\]"):
        roc_auc(fpr=[0, 1.5], tpr=[0, 1])


def test_read_roc_csv(tmp_path):
    (tmp_path / "a.csv").write_text("fpr,tpr\n0,0\n0.25,0.5\n1,1\n")
    fpr, tpr = read_roc_csv(path=tmp_path / "a.csv")
    np.testing.assert_array_equal(fpr, [0, 0.25, 1])
    np.testing.assert_array_equal(tpr, [0, 0.5, 1])
    (tmp_path / "b.csv").write_text("x,y\n0,0\n1,1\n")
    with pytest.raises(RecordError, match=r"b\.csv: header \['x', 'y'\]"):
        read_roc_csv(path=tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("fpr,tpr\n")
    with pytest.raises(RecordError, match="length >= 2"):
        read_roc_csv(path=tmp_path / "c.csv")


ROCS = {
    "mnist5k": {"loss": ([0, 0.0005, 0.1, 1], [0, 0.01, 0.3, 1])},
    "adult": {
        "shokri": ([0, 0.01, 0.5, 1], [0, 0.05, 0.75, 1]),
        "confidence": ([0, 1], [0, 1]),
    },
}


def test_figure_has_one_log_log_panel_per_dataset_with_aucs():
    figure = membership_roc_figure(rocs=ROCS)
    axes = figure.get_axes()
    assert [ax.get_title() for ax in axes] == ["adult", "mnist5k"]
    for ax in axes:
        assert ax.get_xscale() == ax.get_yscale() == "log"
        # The smallest positive FPR is 5e-4 < 1e-3, so both axes start there.
        assert ax.get_xlim() == pytest.approx((5e-4, 1))
        assert ax.get_ylim() == pytest.approx((5e-4, 1))
    legend = [t.get_text() for t in axes[0].get_legend().get_texts()]
    auc = roc_auc(fpr=ROCS["adult"]["shokri"][0], tpr=ROCS["adult"]["shokri"][1])
    assert legend == ["confidence (AUC 0.500)", f"shokri (AUC {auc:.3f})", "chance"]
    assert membership_roc_figure(rocs=ROCS, min_rate=1e-2).get_axes()[0].get_xlim()[0] == (
        pytest.approx(1e-2)
    )


def test_figure_refuses_empty_input():
    with pytest.raises(RecordError, match="at least one"):
        membership_roc_figure(rocs={"adult": {}})


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _png_chunks(path: Path) -> list[bytes]:
    data, pos, kinds = path.read_bytes(), 8, []
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


def test_saved_figures_are_byte_identical_and_carry_no_date_or_version(tmp_path):
    png_a, pdf_a = save_figure(figure=membership_roc_figure(rocs=ROCS), stem=tmp_path / "a.roc")
    png_b, pdf_b = save_figure(figure=membership_roc_figure(rocs=ROCS), stem=tmp_path / "b.roc")
    assert (png_a.name, pdf_a.name) == ("a.roc.png", "a.roc.pdf")
    assert _sha(png_a) == _sha(png_b)
    assert _sha(pdf_a) == _sha(pdf_b)
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(_png_chunks(png_a))
    pdf = pdf_a.read_bytes()
    assert b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.roc.pdf",
        "a.roc.png",
        "b.roc.pdf",
        "b.roc.png",
    ]

    # A fresh process with another SOURCE_DATE_EPOCH (and clock) writes the same bytes.
    script = textwrap.dedent(
        f"""
        from leakbench.reporting.figures import membership_roc_figure, save_figure
        save_figure(figure=membership_roc_figure(rocs={ROCS!r}), stem={str(tmp_path / "c")!r})
        """
    )
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1234567890", "MPLBACKEND": "pdf"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    assert _sha(tmp_path / "c.png") == _sha(png_a)
    assert _sha(tmp_path / "c.pdf") == _sha(pdf_a)
