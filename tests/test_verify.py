"""The regeneration check (``leakbench verify``) against a small reference folder."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest
import yaml

from leakbench.cli import main
from leakbench.errors import ConfigError
from leakbench.reporting.verify import (
    Platform,
    Verdict,
    load_tolerances,
    verify,
    write_reference,
)

TABLE = "dataset,attack,auc,tp\nadult,loss,0.5001,73\nadult,shokri,0.4594,12\n"
TOLERANCES = {"tables": {"membership": {"auc": 0.05, "tp": 5}}}


@pytest.fixture
def folders(tmp_path):
    """A run's tables and a reference made from them (this platform), with tolerances."""
    tables, reference = tmp_path / "tables", tmp_path / "reference"
    tables.mkdir()
    (tables / "membership.csv").write_text(TABLE)
    (tables / "other.csv").write_text("a,b\n1,2\n")
    write_reference(tables=tables, reference=reference)
    (reference / "tolerances.yaml").write_text(yaml.safe_dump(TOLERANCES))
    return tables, reference


def elsewhere() -> Platform:
    """Another platform than this one (another torch)."""
    return dataclasses.replace(Platform.current(), torch="0.0.1")


def perturb(tables, column: str, value: str) -> None:
    """Set ``column`` of the first row of the run's membership table to ``value``."""
    rows = list(csv.reader(io.StringIO(TABLE)))
    rows[1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (tables / "membership.csv").write_text(out.getvalue())


def verdicts(result) -> dict[str, Verdict]:
    return {check.table: check.verdict for check in result.checks}


def test_identical_tables_pass_on_any_platform(folders):
    tables, reference = folders
    for platform in (Platform.current(), elsewhere()):
        result = verify(tables=tables, reference=reference, platform=platform)
        assert result.passed
        assert set(verdicts(result).values()) == {Verdict.IDENTICAL}


def test_within_tolerance_passes_elsewhere_but_fails_on_the_reference_platform(folders):
    tables, reference = folders
    perturb(tables, "auc", "0.5301")
    other = verify(tables=tables, reference=reference, platform=elsewhere())
    assert other.passed and verdicts(other)["membership.csv"] is Verdict.WITHIN
    assert "torch: 0.0.1 vs" in other.summary()
    same = verify(tables=tables, reference=reference, platform=Platform.current())
    assert not same.passed
    assert "the bytes must be identical" in str(same.checks[0])


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("auc", "0.5600", "row 1 auc: 0.5600 vs 0.5001, tolerance 0.05"),
        ("tp", "80", "row 1 tp: 80 vs 73, tolerance 5"),
        ("attack", "confidence", "row 1 attack: confidence vs loss, tolerance 0"),
    ],
)
def test_a_value_beyond_its_tolerance_fails_naming_row_column_and_tolerance(
    folders, column, value, message
):
    tables, reference = folders
    perturb(tables, column, value)
    result = verify(tables=tables, reference=reference, platform=elsewhere())
    assert not result.passed
    check = {c.table: c for c in result.checks}["membership.csv"]
    assert check.verdict is Verdict.FAILED and message in check.detail
    assert "verify: FAILED" in result.summary()


def test_a_missing_table_or_a_missing_row_fails(folders):
    tables, reference = folders
    (tables / "membership.csv").write_text(TABLE.rsplit("adult,shokri", 1)[0])
    (tables / "other.csv").unlink()
    result = verify(tables=tables, reference=reference, platform=elsewhere())
    checks = {c.table: c for c in result.checks}
    assert checks["other.csv"].verdict is Verdict.FAILED
    assert "missing:" in checks["other.csv"].detail
    assert "1 rows, the reference has 2" in checks["membership.csv"].detail


def test_a_table_not_in_the_reference_is_listed_but_not_failed(folders):
    tables, reference = folders
    (tables / "new_study.csv").write_text("x\n1\n")
    result = verify(tables=tables, reference=reference)
    assert result.passed and "new_study.csv: not in the reference" in result.summary()


def test_cli_prints_one_verdict_per_table_and_exits_1_on_a_failure(folders, capsys):
    tables, reference = folders
    args = ["verify", "--tables", str(tables), "--reference", str(reference)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "membership.csv: identical" in out and "other.csv: identical" in out
    perturb(tables, "auc", "0.9")
    assert main(args) == 1
    assert "membership.csv: FAILED" in capsys.readouterr().err


def test_a_reference_without_tables_is_refused(tmp_path, capsys):
    assert main(["verify", "--reference", str(tmp_path)]) == 2
    assert "written by `make reference`" in capsys.readouterr().err


def test_a_negative_tolerance_is_refused(tmp_path):
    path = tmp_path / "tolerances.yaml"
    path.write_text(yaml.safe_dump({"tables": {"membership": {"auc": -1}}}))
    with pytest.raises(ConfigError, match=r"membership.auc: -1 is not allowed"):
        load_tolerances(path)


def test_committed_tolerances_name_columns_of_the_tables_the_workflow_writes(repo_root):
    """Every column the committed tolerances list is a numeric column of its table (as
    the workflow writes it: the test-config baseline tables of the reference)."""
    from leakbench.studies.specs import STUDIES

    tolerances = load_tolerances(repo_root / "reference/tolerances.yaml")
    tables = {o.path.rsplit("/", 1)[1][:-4] for s in STUDIES.values() for o in s.outputs}
    assert set(tolerances) <= tables
    reference = repo_root / "reference/tables"
    for table, columns in tolerances.items():
        path = reference / f"{table}.csv"
        if path.is_file():
            header = path.read_text().splitlines()[0].split(",")
            assert set(columns) <= set(header), (table, set(columns) - set(header))
