"""Study specs: the registry, the composed schema, the DP axis, dvc.yaml and a new study.

The last test is the acceptance of "a study is one spec": a throwaway study added to a copy
of the repository is planned by ``rule all``, listed in the DVC stage and by
``leakbench list``, with no other file edited.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
import yaml
from conftest import BIN, copy_repository

from leakbench.cli import main
from leakbench.config import load_schema
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.names import CellId
from leakbench.studies.dp_axis import all_cells, axis_studies, cells_schema, dp_cells
from leakbench.studies.dvc import render
from leakbench.studies.spec import OutputKind, StudySpec, figure, table
from leakbench.studies.specs import STUDIES, dependency_order, get_study
from leakbench.tracking import EXPERIMENT_PREFIX


def _spec(name, **fields):
    base = dict(
        description="d",
        reference="r",
        schema=f"{name}.schema.yaml",
        rules=f"{name}.smk",
        category="c",
        outputs=(table("csv", f"results/tables/{name}.csv"),),
        experiment=None,
    )
    return StudySpec(name=name, **{**base, **fields})


def test_registry_holds_todays_studies_after_what_they_require():
    assert list(STUDIES) == [
        "collaborative",
        "collaborative_defences",
        "collaborative_embedding",
        "membership",
        "membership_lira",
        "memorisation",
        "property_poisoning",
        "privacy",
        "scorecard",
        "zhao",
    ]
    for spec in STUDIES.values():
        assert all(list(STUDIES).index(r) < list(STUDIES).index(spec.name) for r in spec.requires)
    allowed = (
        "study: unknown value 'nope'; allowed: collaborative, collaborative_defences, "
        "collaborative_embedding, membership"
    )
    with pytest.raises(UnknownNameError, match=re.escape(allowed)):
        get_study("nope")


def test_dependency_order_breaks_ties_by_name_and_refuses_cycles_and_unknowns():
    specs = {n: _spec(n, requires=r) for n, r in (("c", ()), ("b", ("c",)), ("a", ()))}
    assert list(dependency_order(specs=specs)) == ["a", "c", "b"]
    with pytest.raises(ConfigError, match=re.escape("requires: a, b is not allowed")):
        dependency_order(specs={"a": _spec("a", requires=("b",)), "b": _spec("b", requires=("a",))})
    with pytest.raises(UnknownNameError, match=re.escape("a.requires: unknown value 'z'")):
        dependency_order(specs={"a": _spec("a", requires=("z",))})


def test_spec_refuses_misplaced_outputs_and_repeated_names():
    misplaced = "output.png: 'results/tables/x.png' is not allowed"
    with pytest.raises(ConfigError, match=re.escape(misplaced)):
        figure("png", "results/tables/x.png")
    with pytest.raises(ConfigError, match=re.escape("x.outputs: name csv is not allowed")):
        _spec(
            "x",
            outputs=(table("csv", "results/tables/a.csv"), table("csv", "results/tables/b.csv")),
        )
    with pytest.raises(ConfigError, match=re.escape("study: 'Bad-name' is not allowed")):
        _spec("Bad-name")


def test_every_spec_names_files_that_exist_and_the_experiment_tracking_uses(repo_root):
    for spec in STUDIES.values():
        assert (repo_root / "workflow/schemas" / spec.schema).is_file(), spec.schema
        assert (repo_root / "workflow/rules" / spec.rules).is_file(), spec.rules
        for out in spec.outputs:
            if out.caption is not None:
                assert (repo_root / "workflow/report" / out.caption).is_file(), out.caption
        assert spec.experiment == f"{EXPERIMENT_PREFIX}{spec.name}"
        assert spec.receipt == f"results/tracking/{spec.name}.json"
        assert spec.of_kind(OutputKind.METRICS), spec.name
    captions = {o.caption for s in STUDIES.values() for o in s.outputs if o.caption}
    assert captions == {p.name for p in (repo_root / "workflow/report").glob("*.rst")}


def test_schema_has_one_section_per_study_and_dp_cell_keys_per_axis_study(repo_root):
    schema = load_schema(repo_root / "workflow/schemas/config.schema.yaml")
    assert set(STUDIES) <= set(schema["properties"])
    assert schema["required"] == [n for n, s in STUDIES.items() if s.required]
    cells = schema["properties"]["privacy"]["properties"]["cells"]["properties"]
    assert list(cells) == list(axis_studies())
    assert list(cells) == ["collaborative_defences", "membership", "property_poisoning"]
    assert cells == cells_schema()


def test_dp_axis_cells_are_typed_with_the_spec_keys(repo_root):
    from leakbench.config import load_config

    config = load_config(
        repo_root / "config/test.yaml", repo_root / "workflow/schemas/config.schema.yaml"
    )
    for study, axis in axis_studies().items():
        cells = all_cells(config, study)
        assert cells and all(c.keys == axis.keys for c in cells)
    listed = dp_cells(config, "property_poisoning")
    assert listed == [CellId(("property", "group", "model"), ("sex", "0.2-0.6", "logreg"))]
    with pytest.raises(UnknownNameError, match=re.escape("privacy.cells: unknown value 'privacy'")):
        all_cells(config, "privacy")


def test_committed_dvc_yaml_matches_the_specs(repo_root, monkeypatch, capsys):
    monkeypatch.chdir(repo_root)
    assert main(["dvc-yaml", "--check"]) == 0
    text = (repo_root / "dvc.yaml").read_text()
    assert text == render(studies=STUDIES) and text.startswith("# The DVC view")
    stage = yaml.safe_load(text)["stages"]["snakemake"]
    outs = [next(iter(o)) for o in stage["outs"]]
    metrics = [next(iter(m)) for m in stage["metrics"]]
    for spec in STUDIES.values():
        for out in spec.outputs:
            assert out.path in (metrics if out.kind is OutputKind.METRICS else outs), out.path
    # results/ is not in git: only the DVC cache keeps old metrics and plots for diffs
    for entry in stage["outs"] + stage["metrics"]:
        assert next(iter(entry.values())) == {"persist": True}, entry


def test_list_prints_every_study_and_output(capsys):
    assert main(["list", "studies", "outputs"]) == 0
    out = capsys.readouterr().out
    for spec in STUDIES.values():
        assert f"  {spec.name:<16} {spec.description}" in out
        for output in spec.outputs:
            assert f"  {output.path} {spec.name} {output.kind.value}" in out


def test_dvc_yaml_check_names_the_difference(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dvc.yaml").write_text(
        render(studies=STUDIES).replace("results/tables/dp_audit.md", "x")
    )
    assert main(["dvc-yaml", "--check"]) == 1
    err = capsys.readouterr().err
    assert "+      - results/tables/dp_audit.md:" in err and "-      - x:" in err
    assert "dvc.yaml differs from the study specs" in err
    assert main(["dvc-yaml"]) == 0 and main(["dvc-yaml", "--check"]) == 0


TOY_SPEC = '''\
"""Spec of a throwaway study."""

from leakbench.studies.spec import StudySpec, table

SPEC = StudySpec(
    name="toy",
    description="A throwaway study",
    reference="none",
    schema="toy.schema.yaml",
    rules="toy.smk",
    category="Toy",
    outputs=(table("csv", "results/tables/toy.csv", caption="toy.rst"),),
    experiment=None,
)
'''
TOY_RULES = """\
rule aggregate_toy:
    output:
        **study_outputs("toy"),
    params:
        rows=config["toy"]["rows"],
    log:
        "results/logs/aggregate_toy.log",
    conda:
        ENV
    script:
        "../scripts/aggregate_toy.py"
"""
TOY_ADAPTER = """\
from pathlib import Path

Path(snakemake.output.csv).write_text("".join(f"{i}\\n" for i in range(snakemake.params.rows)))
"""
TOY_SCHEMA = """\
type: object
additionalProperties: false
default: {}
description: A throwaway study.
properties:
  rows:
    type: integer
    minimum: 1
    default: 3
    description: Rows of its table.
"""


@pytest.mark.workflow
def test_a_new_study_is_one_spec_and_its_files(repo_root, tmp_path):
    copy = tmp_path / "repo"
    copy_repository(repo_root, copy)
    added = {
        "src/leakbench/studies/specs/toy.py": TOY_SPEC,
        "workflow/rules/toy.smk": TOY_RULES,
        "workflow/scripts/aggregate_toy.py": TOY_ADAPTER,
        "workflow/schemas/toy.schema.yaml": TOY_SCHEMA,
        "workflow/report/toy.rst": "A throwaway table.\n",
    }
    for name, text in added.items():
        (copy / name).write_text(textwrap.dedent(text))
    config = yaml.safe_load((copy / "config/test.yaml").read_text())
    (copy / "config/test.yaml").write_text(yaml.safe_dump({**config, "toy": {"rows": 2}}))
    env = {
        **os.environ,
        "PYTHONPATH": str(copy / "src"),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }

    def run(*cmd):
        proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (cmd, proc.stdout[-3000:], proc.stderr[-3000:])
        return proc.stdout

    cli = (sys.executable, "-m", "leakbench.cli")
    assert "  toy              A throwaway study (none)" in run(*cli, "list", "studies")
    assert "results/tables/toy.csv toy tables" in run(*cli, "list", "outputs")
    validated = run(*cli, "validate", "config/test.yaml").rstrip()
    assert validated.endswith("privacy, scorecard, toy, zhao)")
    run(*cli, "dvc-yaml")
    stage = yaml.safe_load((copy / "dvc.yaml").read_text())["stages"]["snakemake"]
    assert {"results/tables/toy.csv": {"persist": True}} in stage["outs"]
    snakemake = (str(BIN / "snakemake"), "--configfile", "config/test.yaml")
    plan = run(*snakemake, "-n")  # rule all
    assert "rule aggregate_toy:" in plan and "output: results/tables/toy.csv" in plan
    run(*snakemake, "--cores", "1", "results/tables/toy.csv")
    assert (copy / "results/tables/toy.csv").read_text() == "0\n1\n"
