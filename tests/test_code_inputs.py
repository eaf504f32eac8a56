"""Code inputs derived from imports (leakbench.codeinputs and the rules' ``code`` inputs).

The graph is checked on a small package with hand-written expected sets, then every rule
of the workflow against a real import in a fresh interpreter, then (on a finished run)
that touching a module re-schedules exactly the jobs that import it.
"""

from __future__ import annotations

import ast
import base64
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, snakemake

from leakbench.codeinputs import imported_modules, library_files, module_file

SCRIPTS = ROOT / "workflow/scripts"

# A package ``pkg`` and a sibling ``other`` (another distribution: never followed).
FAKE = {
    "pkg/__init__.py": "",
    "pkg/leaf.py": "import json\nimport os.path\n",
    "pkg/lazy.py": "VALUE = 1\n",
    "pkg/fn.py": "def load():\n    from pkg import lazy\n\n    return lazy.VALUE\n",
    "pkg/sub/__init__.py": "from .inner import NAME\n",
    "pkg/sub/inner.py": "from .. import leaf\n\nNAME = 1\n",
    "pkg/ring_a.py": "from pkg import ring_b\n",
    "pkg/ring_b.py": "import pkg.ring_a\n",
    "pkg/typed.py": (
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n    from pkg import fn\nelse:\n    from pkg import leaf\n"
    ),
    "pkg/attr.py": "from pkg.sub import NAME, inner\n",
    "pkg/unused.py": "",
    "pkg/registry/__init__.py": (
        "import importlib\nimport pkgutil\n\n"
        "FOUND = [importlib.import_module(f'{__name__}.{m.name}')"
        " for m in pkgutil.iter_modules(__path__)]\n"
    ),
    "pkg/registry/one.py": "from pkg import leaf\n",
    "pkg/registry/two.py": "",
    "pkg/registry/notes.txt": "",
    "other/__init__.py": "import pkg.unused\n",
}


@pytest.fixture
def fake_src(tmp_path):
    src = tmp_path / "src"
    for name, text in FAKE.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    return src


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("import numpy\nimport other\n", set()),
        ("from pkg import leaf\n", {"pkg", "pkg.leaf"}),
        ("import pkg.sub.inner as x\n", {"pkg", "pkg.sub", "pkg.sub.inner", "pkg.leaf"}),
        ("from pkg import fn\n", {"pkg", "pkg.fn", "pkg.lazy"}),
        ("def main():\n    import pkg.leaf\n", {"pkg", "pkg.leaf"}),
        ("from pkg import ring_a\n", {"pkg", "pkg.ring_a", "pkg.ring_b"}),
        ("from pkg import typed\n", {"pkg", "pkg.typed", "pkg.leaf"}),
        ("from pkg.sub import NAME\n", {"pkg", "pkg.sub", "pkg.sub.inner", "pkg.leaf"}),
        ("import pkg.attr\n", {"pkg", "pkg.attr", "pkg.sub", "pkg.sub.inner", "pkg.leaf"}),
        (
            "from pkg.registry import FOUND\n",
            {"pkg", "pkg.registry", "pkg.registry.one", "pkg.registry.two", "pkg.leaf"},
        ),
    ],
    ids=[
        "other-packages-ignored",
        "from-package-import-submodule",
        "import-as-runs-every-package-init-and-relative-imports",
        "function-level-import",
        "import-inside-a-script-function",
        "cycle",
        "type-checking-block-skipped",
        "attribute-is-not-a-module",
        "attribute-and-submodule",
        "self-scanning-package-imports-its-folder",
    ],
)
def test_imported_modules_of_a_fake_package(fake_src, tmp_path, script, expected):
    path = tmp_path / "script.py"
    path.write_text(script)
    assert imported_modules(script=path, src=fake_src, package="pkg") == expected


def test_library_files_are_the_modules_files_sorted(fake_src, tmp_path):
    path = tmp_path / "script.py"
    path.write_text("from pkg.sub import NAME\n")
    files = library_files(script=path, src=fake_src, package="pkg")
    assert files == sorted(
        fake_src / name
        for name in ("pkg/__init__.py", "pkg/leaf.py", "pkg/sub/__init__.py", "pkg/sub/inner.py")
    )


def test_module_file_finds_modules_and_packages_and_nothing_else(fake_src):
    assert module_file(name="pkg.sub", src=fake_src) == fake_src / "pkg/sub/__init__.py"
    assert module_file(name="pkg.sub.inner", src=fake_src) == fake_src / "pkg/sub/inner.py"
    assert module_file(name="pkg.sub.NAME", src=fake_src) is None
    assert module_file(name="pkg.missing", src=fake_src) is None


# What Snakemake parses: each rule's script and code input, relative to the working
# directory (here a scratch folder, so the paths go up to the repository).
_PARSE = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import (
    ConfigSettings, OutputSettings, ResourceSettings, StorageSettings, WorkflowSettings,
)

root, workdir = Path(sys.argv[1]), Path(sys.argv[2])
with SnakemakeApi(OutputSettings()) as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(),
        config_settings=ConfigSettings(configfiles=[root / "config/test.yaml"]),
        storage_settings=StorageSettings(),
        workflow_settings=WorkflowSettings(),
        snakefile=root / "Snakefile",
        workdir=workdir,
    )._workflow
    rules = {
        rule.name: {
            "script": str(Path(str(rule.basedir), rule.script).resolve()),
            "code": list(rule.input.get("code", [])),
        }
        for rule in workflow.rules
        if rule.script
    }
print(json.dumps(rules))
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """Every rule with a script: its script's absolute path and its declared ``code``."""
    workdir = tmp_path_factory.mktemp("parse")
    proc = subprocess.run(
        [sys.executable, "-c", _PARSE, str(ROOT), str(workdir)],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    parsed = json.loads(proc.stdout.strip().splitlines()[-1])
    return workdir, parsed


def _script_imports(script: Path) -> str:
    """The script's top-level import statements, as source."""
    tree = ast.parse(script.read_text())
    nodes = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(ast.unparse(node) for node in nodes)


_LOADED = """
import json, sys
{imports}
print(json.dumps({{name: module.__file__ for name, module in sys.modules.items()
                   if name == "leakbench" or name.startswith("leakbench.")}}))
"""


@functools.cache
def _loaded_files(imports: str) -> frozenset[Path]:
    """The leakbench files in ``sys.modules`` after a fresh interpreter runs ``imports``
    (scripts with the same imports share one interpreter)."""
    proc = subprocess.run(
        [sys.executable, "-c", _LOADED.format(imports=imports)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return frozenset(Path(file).resolve() for file in json.loads(proc.stdout).values())


def test_every_rule_with_a_script_declares_relative_code_inputs(rules):
    _, parsed = rules
    assert len(parsed) >= 16
    for name, rule in parsed.items():
        assert rule["code"], f"{name}: no code input"
        absolute = [path for path in rule["code"] if os.path.isabs(path)]
        assert not absolute, f"{name}: absolute code inputs {absolute[:3]}"


@pytest.mark.parametrize("script", sorted(path.name for path in SCRIPTS.glob("*.py")))
def test_code_inputs_cover_what_the_script_imports(rules, script):
    workdir, parsed = rules
    users = {name: rule for name, rule in parsed.items() if Path(rule["script"]).name == script}
    assert users, f"{script}: no rule runs it"
    loaded = _loaded_files(_script_imports(SCRIPTS / script))
    assert ROOT / "src/leakbench/runlog.py" in loaded  # the real import ran
    derived = library_files(script=SCRIPTS / script, src=ROOT / "src", package="leakbench")
    for name, rule in users.items():
        declared = {(workdir / path).resolve() for path in rule["code"]}
        missing = sorted(str(path.relative_to(ROOT)) for path in loaded - declared)
        assert not missing, f"{name}: imports modules its code input leaves out: {missing}"
        assert declared == set(derived), f"{name}: code input is not the graph of {script}"


def _scheduled(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule name -> job count, from the job stats a dry run prints."""
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    rows = re.findall(r"^(\w+)\s+(\d+)$", proc.stdout + proc.stderr, flags=re.MULTILINE)
    return {name: int(count) for name, count in rows if name != "total"}


def _finished(workdir: Path) -> dict[str, list[str]]:
    """Rule name -> the outputs its finished jobs recorded in Snakemake's metadata (each
    record is named by its output path in urlsafe base64, split into folders if long)."""
    jobs: dict[str, list[str]] = {}
    metadata = workdir / ".snakemake/metadata"
    for path in sorted(p for p in metadata.rglob("*") if p.is_file()):
        name = "".join(path.relative_to(metadata).parts)
        rule = json.loads(path.read_text())["rule"]
        jobs.setdefault(rule, []).append(base64.urlsafe_b64decode(name).decode())
    return jobs


def _dry_run_after_editing(workdir: Path, relative: str, *args: str) -> dict[str, int]:
    """The jobs ``snakemake -n *args`` schedules on ``workdir`` once ``relative`` (under
    the repository) is edited; the file's bytes and times are restored afterwards.

    The edit appends a comment: a newer time alone is not a change to Snakemake when the
    file's checksum matches the one recorded at the last run.
    """
    path = ROOT / relative
    text, stat = path.read_bytes(), path.stat()
    try:
        path.write_bytes(text + b"# edited\n")
        return _scheduled(snakemake(ROOT, workdir, "-n", *args))
    finally:
        path.write_bytes(text)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


WATCHED = ("query_membership", "audit_membership")


@pytest.mark.workflow
def test_editing_a_module_reschedules_exactly_its_importers(runs):
    """Only the watched rules may run, on their own finished outputs: upstream jobs that
    also import the module cannot re-schedule them, so each is scheduled again only if its
    own code input holds the edited module."""
    workdir = runs["1"]
    assert _scheduled(snakemake(ROOT, workdir, "-n")) == {}
    finished = _finished(workdir)
    only = ["--allowed-rules", *WATCHED, "--", *(out for rule in WATCHED for out in finished[rule])]

    edited = _dry_run_after_editing(workdir, "src/leakbench/attacks/base.py", *only)
    assert edited == {rule: len(finished[rule]) for rule in WATCHED}

    unrelated = "src/leakbench/tracking.py"
    for script in ("query_membership.py", "audit_membership.py"):
        files = library_files(script=SCRIPTS / script, src=ROOT / "src", package="leakbench")
        assert ROOT / unrelated not in files, script
    assert _dry_run_after_editing(workdir, unrelated, *only) == {}
    everything = _dry_run_after_editing(workdir, unrelated)
    assert everything.get("log_membership") == 1, everything
    assert not set(WATCHED) & set(everything), everything


@pytest.mark.workflow
def test_finished_jobs_record_relative_code_inputs(runs):
    metadata = runs["1"] / ".snakemake/metadata"
    records = [json.loads(path.read_text()) for path in metadata.rglob("*") if path.is_file()]
    query = [record for record in records if record.get("rule") == "query_membership"]
    assert query
    for record in query:
        code = [path for path in record["input"] if "leakbench" in path]
        assert any(path.endswith("attacks/base.py") for path in code), code
        assert not [path for path in code if os.path.isabs(path)], code
