"""Conda environments: every dependency pinned, and pinned to the versions of the lock."""

from __future__ import annotations

import re

import yaml


def _lock(repo_root):
    pins = {}
    for line in (repo_root / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        pins[name.lower().replace("_", "-")] = version.split("+")[0]
    return pins


CONDA_TO_PIP = {"matplotlib-base": "matplotlib"}


def test_every_env_is_pinned_and_matches_the_lock(repo_root):
    lock = _lock(repo_root)
    envs = sorted((repo_root / "envs").glob("*.yaml"))
    assert envs
    for path in envs:
        env = yaml.safe_load(path.read_text())
        assert env["channels"][0] == "conda-forge", path
        for dep in env["dependencies"]:
            if isinstance(dep, dict):
                for req in dep["pip"]:
                    name, version = re.fullmatch(r"([\w.-]+)==([\w.]+)", req).groups()
                    assert lock[name.lower()] == version, (path, req)
            elif dep != "pip":
                name, version = re.fullmatch(r"([\w.-]+)=([\w.]+)", dep).groups()
                if name != "python":
                    assert lock[CONDA_TO_PIP.get(name, name)] == version, (path, dep)


def test_every_rule_names_an_env_file_that_exists(repo_root):
    for rules in (repo_root / "workflow/rules").glob("*.smk"):
        for env in re.findall(r'ENV = "([^"]+)"', rules.read_text()):
            assert (rules.parent / env).resolve().is_file()
