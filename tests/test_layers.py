"""The layers: the import contracts of pyproject.toml hold (and break on a violation), the
workflow scripts call only the steps layer, and common.smk imports no step module."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess

import pytest
from conftest import BIN, ROOT

SCRIPTS = sorted((ROOT / "workflow/scripts").glob("*.py"))


def lint_imports(root):
    """``lint-imports`` on the checkout (or copy) at ``root``, importing its own ``src``."""
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        check=False,
    )


def test_import_contracts_hold():
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize(
    ("module", "line", "message"),
    [
        ("io.py", "import leakbench.steps", "leakbench.io -> leakbench.steps"),
        ("training/batches.py", "import leakbench.studies", "leakbench.training.batches ->"),
        ("attacks/base.py", "import leakbench.reporting", "leakbench.attacks.base ->"),
        ("data/sources.py", "import leakbench.data.spec", "cycles are allowed in leakbench.data"),
        ("extra.py", "", "leakbench.extra"),
    ],
    ids=["upward", "upward-transitive-layer", "sibling", "cycle", "unplaced-module"],
)
def test_contracts_break_on_a_violation(tmp_path, module, line, message):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    path = tmp_path / "src/leakbench" / module
    path.write_text((path.read_text() if path.exists() else "") + f"\n{line}\n")
    proc = lint_imports(tmp_path)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "BROKEN" in proc.stdout
    assert message in proc.stdout, proc.stdout[-3000:]


def _imported_names(tree: ast.Module) -> list[str]:
    """Every absolute name a module imports (``from a import b`` gives ``a.b``)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_workflow_scripts_import_only_steps_and_runlog(script):
    names = _imported_names(ast.parse(script.read_text()))
    assert any(name.startswith("leakbench.steps.") for name in names), names
    allowed = ("leakbench.steps.", "leakbench.runlog.")
    library = [name for name in names if name.split(".")[0] == "leakbench"]
    outside = [name for name in library if not f"{name}.".startswith(allowed)]
    assert not outside, f"{script.name}: imports below the steps layer: {outside}"


def test_common_smk_imports_no_step_module():
    text = (ROOT / "workflow/rules/common.smk").read_text()
    imports = re.findall(r"^\s*((?:from|import) leakbench\S*(?: import .*)?)$", text, re.M)
    assert imports, "common.smk: no leakbench import found (pattern out of date?)"
    steps = [line for line in imports if re.search(r"\bsteps\b", line)]
    assert not steps, f"common.smk imports a step module: {steps}"
