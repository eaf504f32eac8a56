"""The registry of studies: every module of this package declares one :class:`StudySpec`.

A study registers itself by adding a module here that defines ``SPEC``; the package is
scanned, so no list of studies is kept by hand. :data:`STUDIES` holds the specs in
dependency order (a study after the studies it ``requires``, ties by name), the order in
which the Snakefile includes their rules files.
"""

from __future__ import annotations

import importlib
import pkgutil

from leakbench.errors import ConfigError, UnknownNameError
from leakbench.studies.spec import StudySpec


def _scan() -> dict[str, StudySpec]:
    """``{name: spec}`` of every module of this package: its ``SPEC``, a :class:`StudySpec`
    named after the module.

    Raises:
        ConfigError: if a module has no ``SPEC`` or names another study.
    """
    found: dict[str, StudySpec] = {}
    for module in pkgutil.iter_modules(__path__):
        spec = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SPEC", None)
        if not isinstance(spec, StudySpec):
            raise ConfigError(
                f"{__name__}.{module.name}: SPEC {spec!r} is not allowed; allowed: a StudySpec"
            )
        if spec.name != module.name:
            raise ConfigError(
                f"{__name__}.{module.name}: study {spec.name!r} is not allowed; allowed: "
                f"{module.name!r} (a spec module is named after its study)"
            )
        found[spec.name] = spec
    return found


def dependency_order(*, specs: dict[str, StudySpec]) -> dict[str, StudySpec]:
    """The specs ordered so that each comes after the studies it requires (ties by name).

    Raises:
        UnknownNameError: if a study requires one that is not registered.
        ConfigError: if the requirements form a cycle.
    """
    for spec in specs.values():
        for name in spec.requires:
            if name not in specs:
                raise UnknownNameError(f"{spec.name}.requires", name, specs)
    ordered: dict[str, StudySpec] = {}
    while len(ordered) < len(specs):
        ready = sorted(
            name
            for name, spec in specs.items()
            if name not in ordered and all(r in ordered for r in spec.requires)
        )
        if not ready:
            left = sorted(set(specs) - set(ordered))
            raise ConfigError(
                f"requires: {', '.join(left)} is not allowed; allowed: requirements without a cycle"
            )
        ordered[ready[0]] = specs[ready[0]]
    return ordered


STUDIES: dict[str, StudySpec] = dependency_order(specs=_scan())


def get_study(name: str) -> StudySpec:
    """The spec of study ``name``.

    Raises:
        UnknownNameError: naming the registered studies.
    """
    if name not in STUDIES:
        raise UnknownNameError("study", name, STUDIES)
    return STUDIES[name]
