"""The DP axis of the workflow: privacy variants, and the study cells that train under them.

The config's ``privacy`` section lists epsilons; each is a privacy variant named by
:func:`~leakbench.names.privacy_name` (``nodp`` for epsilon = inf, the study's
own run). A cell is one group of models a study trains together: ``dataset/variant`` of
the membership grid, ``property/t0-t1/model`` of the property-poisoning study. Every
cell has the ``nodp`` variant; the cells listed under ``privacy.cells.<study>`` (all of the
study's cells when that is null) have every variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from leakbench.errors import ConfigError
from leakbench.names import NO_DP, RatioPair, privacy_name
from leakbench.privacy.settings import DPConfig

STUDIES = ("membership", "property_poisoning")


def variant_names(section: Mapping[str, Any]) -> list[str]:
    """The path names of the configured privacy variants, in config order."""
    return [privacy_name(epsilon) for epsilon in section["epsilons"]]


def settings(section: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The DP settings of variant ``name`` (a :class:`DPConfig` mapping), None for ``nodp``.

    Raises:
        ConfigError: if ``name`` is not a configured variant.
    """
    for epsilon in section["epsilons"]:
        if privacy_name(epsilon) == name:
            if math.isinf(epsilon):
                return None
            keys = ("delta", "max_grad_norm", "accountant")
            return {"epsilon": epsilon, **{key: section[key] for key in keys}}
    if name == NO_DP:
        return None
    raise ConfigError(
        f"privacy: variant {name!r} is not configured; allowed: {', '.join(variant_names(section))}"
    )


def all_cells(config: Mapping[str, Any], study: str) -> list[str]:
    """Every cell of a study, in config order."""
    if study == "membership":
        return [f"{row['dataset']}/{row['variant']}" for row in config[study]["grid"]]
    section = config[study]
    return [
        f"{prop}/{RatioPair(t0, t1)}/{row['variant']}"
        for prop in section["properties"]
        for t0, t1 in section["ratio_pairs"]
        for row in section["models"]
    ]


def dp_cells(config: Mapping[str, Any], study: str) -> list[str]:
    """The cells of a study that train under every privacy variant."""
    listed = config["privacy"]["cells"].get(study)
    return all_cells(config, study) if listed is None else list(listed)


def check_privacy(config: Mapping[str, Any]) -> None:
    """Check the privacy section beyond the schema, before any training.

    Raises:
        ConfigError: for an epsilon, delta or clipping norm :class:`DPConfig` refuses, two
            epsilons with the same name, an audit attack the membership study does not
            run, or a listed cell the study does not have (naming the allowed cells).
    """
    section = config["privacy"]
    for epsilon in section["epsilons"]:
        DPConfig(
            epsilon=epsilon,
            delta=section["delta"],
            max_grad_norm=section["max_grad_norm"],
            accountant=section["accountant"],
        )
    names = variant_names(section)
    if len(set(names)) != len(names):
        raise ConfigError(f"privacy.epsilons: {section['epsilons']} name a variant twice")
    attacks = config["membership"]["attacks"]
    if section["audit_attack"] not in attacks:
        raise ConfigError(
            f"privacy.audit_attack: {section['audit_attack']!r} is not allowed; allowed: "
            f"{', '.join(attacks)} (membership.attacks)"
        )
    for study in STUDIES:
        allowed = all_cells(config, study)
        for cell in section["cells"].get(study) or []:
            if cell not in allowed:
                raise ConfigError(
                    f"privacy.cells.{study}: {cell!r} is not allowed; allowed: {', '.join(allowed)}"
                )
