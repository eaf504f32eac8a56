"""The reproduction scorecard: verdict rules, the published-numbers file and its selectors,
the table and summary record, the check against expected verdicts, and the check on a
finished run of the test config."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys

import pytest
import yaml

from leakbench.cli import main
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.reporting.published import Selector, parse_published, read_published, select
from leakbench.reporting.records import MetricsRecord
from leakbench.reporting.scorecard import score, scorecard_table, summary_record, verdict_counts
from leakbench.reporting.scorecard_check import compare_verdicts, read_verdicts
from leakbench.reporting.tables import table_csv
from leakbench.reporting.verdicts import Trend, Verdict, judge
from leakbench.steps.context import Files, Job
from leakbench.steps.scorecard import aggregate
from leakbench.studies.specs import STUDIES

PUBLISHED = "workflow/scorecard/published.yaml"
EXPECTED = ("workflow/scorecard/expected.csv", "workflow/scorecard/expected_test.csv")
ABOVE_HALF = Trend(kind="above", threshold=0.5)


def _row(**changes):
    """A valid published row (as the data file holds it), with ``changes``."""
    values = {
        "id": "paper-x",
        "paper": "Someone et al. 2020",
        "citation": "A. Someone. A paper. Venue 2020.",
        "source": "Table 1",
        "setting": "a dataset, a model",
        "published": 0.9,
        "compare": "equal",
        "tolerance": 0.05,
        "metric": {"study": "membership", "path": ["d", "v", "shokri", "precision"]},
        "match": "same",
        "match_note": "the same data and model",
        "trend": {"above": 0.5},
        "trend_note": "chance",
    }
    return {**values, **changes}


@pytest.mark.parametrize(
    ("value", "compare", "trend", "verdict"),
    [
        (0.93, "equal", ABOVE_HALF, Verdict.REPRODUCED),
        (0.95, "equal", ABOVE_HALF, Verdict.REPRODUCED),  # exactly at the tolerance
        (0.85, "equal", None, Verdict.REPRODUCED),
        (0.84999, "equal", None, Verdict.REPRODUCED),  # 0.85 at the reported precision
        (0.8499, "equal", None, Verdict.NOT_REPRODUCED),
        (0.96, "equal", ABOVE_HALF, Verdict.TREND),  # above the published, out of tolerance
        (0.7, "equal", ABOVE_HALF, Verdict.TREND),
        (0.5, "equal", ABOVE_HALF, Verdict.NOT_REPRODUCED),  # a trend is strict
        (0.7, "equal", None, Verdict.NOT_REPRODUCED),
        (1.0, "at_least", None, Verdict.REPRODUCED),
        (0.86, "at_least", None, Verdict.REPRODUCED),  # below, within the tolerance
        (0.84, "at_least", None, Verdict.NOT_REPRODUCED),
        (0.2, "at_most", None, Verdict.REPRODUCED),
        (0.94, "at_most", None, Verdict.REPRODUCED),  # above, within the tolerance
        (0.96, "at_most", None, Verdict.NOT_REPRODUCED),
        (0.3, "at_most", Trend(kind="below", threshold=0.5), Verdict.REPRODUCED),
        (None, "equal", ABOVE_HALF, Verdict.NOT_RUN),
    ],
)
def test_judge_applies_the_rules_in_order(value, compare, trend, verdict):
    got = judge(value=value, published=0.9, compare=compare, tolerance=0.05, trend=trend)
    assert got is verdict


def test_judge_and_trend_refuse_unknown_names():
    with pytest.raises(UnknownNameError, match="compare: unknown value 'near'; allowed: at_least"):
        judge(value=0.5, published=0.5, compare="near", tolerance=0.0, trend=None)
    with pytest.raises(UnknownNameError, match="trend: unknown value 'up'; allowed: above, below"):
        Trend(kind="up", threshold=0.5)


def test_verdicts_are_ranked_and_parsed():
    ranks = [v.rank for v in (Verdict.REPRODUCED, Verdict.TREND, Verdict.NOT_REPRODUCED)]
    assert ranks == sorted(ranks, reverse=True) and Verdict.NOT_RUN.rank < min(ranks)
    assert Verdict.parse("trend reproduced", where="x") is Verdict.TREND
    assert [v.key for v in Verdict] == [
        "reproduced",
        "trend_reproduced",
        "not_reproduced",
        "not_run",
    ]
    with pytest.raises(UnknownNameError, match="x: unknown value 'great'; allowed: not re"):
        Verdict.parse("great", where="x")


SUMMARIES = {
    "membership": {"d": {"v": {"shokri": {"precision": 0.91234, "recall": None}}}},
    "privacy": {
        "audit": {
            "a/b": {"1": {"lower": 0.2, "eps": 0.99}, "inf": {"lower": 5.0, "eps": None}},
            "c/d": {"8": {"lower": 1.0, "eps": 7.99}},
        }
    },
}


def test_select_follows_the_path_wildcards_and_minus():
    plain = Selector(study="membership", path=("d", "v", "shokri", "precision"))
    assert select(selector=plain, summaries=SUMMARIES) == 0.91234
    for path in (("d", "v", "shokri", "recall"), ("d", "w", "shokri", "precision")):
        assert select(selector=Selector("membership", path), summaries=SUMMARIES) is None
    assert select(selector=plain, summaries={"privacy": SUMMARIES["privacy"]}) is None
    gap = Selector("privacy", ("audit", "*", "*", "lower"), minus="eps", aggregate="max")
    assert select(selector=gap, summaries=SUMMARIES) == pytest.approx(0.2 - 0.99)  # inf: null
    low = Selector("privacy", ("audit", "*", "*", "lower"), aggregate="min")
    assert select(selector=low, summaries=SUMMARIES) == 0.2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "red"}, "rows[0]: keys: unknown ['colour'], missing [] is not allowed"),
        ({"paper": None}, "rows[0]: keys: unknown [], missing ['paper'] is not allowed"),
        ({"compare": "near"}, "paper-x.compare: unknown value 'near'; allowed: at_least"),
        ({"match": "close"}, "paper-x.match: unknown value 'close'; allowed: same, stand-in"),
        ({"tolerance": -0.1}, "paper-x.tolerance: -0.1 is not allowed; allowed: a number >= 0"),
        ({"published": "high"}, "paper-x.published: 'high' is not allowed; allowed: a finite"),
        ({"id": "Paper X"}, "rows[0].id: 'Paper X' is not allowed; allowed: lower case"),
        ({"trend": {"up": 0.5}}, "trend: unknown value 'up'"),
        ({"trend_note": None}, "paper-x.trend_note: None is not allowed"),
        (
            {"metric": {"study": "privacy", "path": ["audit", "*", "lower"]}},
            "paper-x.metric.aggregate: None is not allowed; allowed: an aggregate exactly when",
        ),
        (
            {"metric": {"study": "privacy", "path": ["audit"], "aggregate": "mean"}},
            "paper-x.metric.aggregate: unknown value 'mean'; allowed: max, min",
        ),
    ],
)
def test_published_rows_are_checked(changes, message):
    row = {k: v for k, v in _row(**changes).items() if v is not None}
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_published(data={"rows": [row]})


def test_published_ids_are_unique():
    with pytest.raises(ConfigError, match="published: id paper-x is not allowed; allowed: once"):
        parse_published(data={"rows": [_row(), _row()]})


def test_committed_data_file_and_expected_verdicts_agree(repo_root):
    rows = read_published(repo_root / PUBLISHED)
    assert {row.metric.study for row in rows} <= set(STUDIES)
    ids = [row.id for row in rows]
    for name in EXPECTED:
        assert list(read_verdicts(repo_root / name)) == ids, name


def test_table_and_record_carry_values_verdicts_and_counts():
    rows = parse_published(
        data={
            "rows": [
                _row(),
                _row(id="paper-y", metric={"study": "membership", "path": ["none"]}),
                _row(id="paper-z", published=0.5, compare="at_most", tolerance=0.0),
            ]
        }
    )
    scored = score(rows=rows, summaries=SUMMARIES)
    assert [s.verdict for s in scored] == [
        Verdict.REPRODUCED,
        Verdict.NOT_RUN,
        Verdict.TREND,
    ]
    table = scorecard_table(scored=scored)
    assert list(table["published"]) == ["= 0.9", "= 0.9", "<= 0.5"]
    assert table.loc[0, "leakbench"] == 0.9123 and math.isnan(table.loc[1, "leakbench"])
    text = table_csv(table=table)
    assert text == table_csv(table=scorecard_table(scored=score(rows=rows, summaries=SUMMARIES)))
    lines = list(csv.DictReader(text.splitlines()))
    assert [(r["leakbench"], r["verdict"]) for r in lines] == [
        ("0.9123", "reproduced"),
        ("", "not run in this config"),
        ("0.9123", "trend reproduced"),
    ]
    counts = {"reproduced": 1, "trend_reproduced": 1, "not_reproduced": 0, "not_run": 1}
    assert verdict_counts(scored=scored) == {**counts, "rows": 3}
    record = summary_record(scored=scored, published=PUBLISHED)
    assert MetricsRecord.from_json(record.to_json()) == record
    assert record.cell_id == "scorecard/all/published/verdicts"
    assert record.grid["verdicts"]["paper-y"] == "not run in this config"


def test_step_writes_the_table_and_record_and_refuses_an_unknown_study(tmp_path):
    metrics = tmp_path / "membership.json"
    metrics.write_text(json.dumps(SUMMARIES["membership"]))
    published = tmp_path / "published.yaml"
    published.write_text(yaml.safe_dump({"rows": [_row()]}))
    outputs = {name: (tmp_path / f"out.{name}",) for name in ("csv", "md", "summary")}
    files = Files(
        inputs={"published": (published,), "membership": (metrics,)},
        outputs=outputs,
        output_list=tuple(p for (p,) in outputs.values()),
    )
    job = Job(rule="aggregate_scorecard", settings={"published": "published.yaml"})
    aggregate(job=job, files=files)
    assert read_verdicts(tmp_path / "out.csv") == {"paper-x": Verdict.REPRODUCED}
    assert MetricsRecord.read(tmp_path / "out.summary").metrics["reproduced"] == 1
    misspelt = {**_row(), "metric": {"study": "membershp", "path": ["d"]}}
    published.write_text(yaml.safe_dump({"rows": [misspelt]}))
    unknown = "paper-x.metric.study: unknown value 'membershp'"
    with pytest.raises(UnknownNameError, match=re.escape(unknown)):
        aggregate(job=job, files=files)


def _write(path, verdicts):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "verdict"])
        writer.writerows((row_id, v.value) for row_id, v in verdicts.items())
    return path


EXPECTED_CASE = {
    "a": Verdict.REPRODUCED,
    "b": Verdict.TREND,
    "c": Verdict.NOT_REPRODUCED,
    "d": Verdict.NOT_RUN,
}


def test_compare_passes_equal_fails_worse_and_reports_better():
    assert compare_verdicts(expected=EXPECTED_CASE, actual=EXPECTED_CASE).passed
    worse = {**EXPECTED_CASE, "a": Verdict.TREND, "c": Verdict.NOT_RUN}
    comparison = compare_verdicts(expected=EXPECTED_CASE, actual=worse)
    assert not comparison.passed
    assert [str(c) for c in comparison.worse] == [
        "a: expected reproduced, got trend reproduced",
        "c: expected not reproduced, got not run in this config",
    ]
    better = {
        **EXPECTED_CASE,
        "b": Verdict.REPRODUCED,
        "d": Verdict.NOT_REPRODUCED,
        "e": Verdict.TREND,
    }
    comparison = compare_verdicts(expected=EXPECTED_CASE, actual=better)
    assert comparison.passed and [c.id for c in comparison.better] == ["b", "d"]
    assert comparison.unexpected == ("e",)
    missing = {k: v for k, v in EXPECTED_CASE.items() if k != "d"}
    assert [str(c) for c in compare_verdicts(expected=EXPECTED_CASE, actual=missing).worse] == [
        "d: expected not run in this config, got absent from the scorecard"
    ]


def test_cli_check_exits_one_naming_each_worse_row(tmp_path, capsys):
    expected = _write(tmp_path / "expected.csv", EXPECTED_CASE)
    same = _write(tmp_path / "same.csv", EXPECTED_CASE)
    assert main(["scorecard", str(same), "--check", "--expected", str(expected)]) == 0
    better = _write(tmp_path / "better.csv", {**EXPECTED_CASE, "c": Verdict.TREND})
    assert main(["scorecard", str(better), "--check", "--expected", str(expected)]) == 0
    assert "better: c: expected not reproduced, got trend reproduced" in capsys.readouterr().out
    worse = _write(tmp_path / "worse.csv", {**EXPECTED_CASE, "b": Verdict.NOT_REPRODUCED})
    assert main(["scorecard", str(worse), "--check", "--expected", str(expected)]) == 1
    err = capsys.readouterr().err
    assert "worse: b: expected trend reproduced, got not reproduced" in err
    assert "1 verdicts worse than" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("id,verdict\na,great\n")
    assert main(["scorecard", str(bad), "--check", "--expected", str(expected)]) == 2
    assert "a.verdict: unknown value 'great'" in capsys.readouterr().err


@pytest.mark.workflow
def test_test_config_scorecard_passes_its_check_and_catches_a_worse_row(repo_root, runs, tmp_path):
    scorecard = runs["1"] / "results/tables/scorecard.csv"
    assert scorecard.is_file() and (runs["1"] / "results/tables/scorecard.md").is_file()
    expected = repo_root / "workflow/scorecard/expected_test.csv"
    cli = (sys.executable, "-m", "leakbench.cli", "scorecard", str(scorecard), "--check")

    def check(expected_file):
        cmd = (*cli, "--expected", str(expected_file))
        return subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, check=False)

    proc = check(expected)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    actual = read_verdicts(scorecard)
    judged = [k for k, v in actual.items() if v in (Verdict.TREND, Verdict.NOT_REPRODUCED)]
    not_run = [k for k, v in actual.items() if v is Verdict.NOT_RUN]
    assert judged and not_run, actual
    raised = {judged[0]: Verdict.REPRODUCED, not_run[0]: Verdict.REPRODUCED}
    proc = check(_write(tmp_path / "raised.csv", {**read_verdicts(expected), **raised}))
    assert proc.returncode == 1
    for row_id in raised:
        got = actual[row_id].value
        assert f"worse: {row_id}: expected reproduced, got {got}" in proc.stderr
