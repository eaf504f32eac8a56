"""The DP axis of the workflow: privacy variants, and the study cells that train under them.

The config's ``privacy`` section lists epsilons; each is a privacy variant named by
:func:`~leakbench.names.privacy_name` (``nodp`` for epsilon = inf, the study's
own run). A cell is one group of models a study trains together, a
:class:`~leakbench.names.CellId`; a study takes the axis when its spec declares a
:class:`~leakbench.studies.spec.DpAxis` (the cell keys, in path order, and its cells under a
config). Every cell has the ``nodp`` variant; the cells listed under ``privacy.cells.<study>``
(all of the study's cells when that is null) have every variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from leakbench.errors import ConfigError, UnknownNameError
from leakbench.names import NO_DP, CellId, privacy_name
from leakbench.studies.spec import DpAxis, StudySpec
from leakbench.studies.specs import STUDIES

SECTION = "privacy"  # the config section of the axis


def axis_studies(*, studies: Mapping[str, StudySpec] = STUDIES) -> dict[str, DpAxis]:
    """``{study: its DP axis}`` of the studies that take the axis, in registry order."""
    return {name: spec.dp_axis for name, spec in studies.items() if spec.dp_axis is not None}


def cells_schema(*, studies: Mapping[str, StudySpec] = STUDIES) -> dict[str, Any]:
    """The JSON-Schema properties of ``privacy.cells``: one optional list of cells per
    study that takes the axis."""
    return {
        name: {
            "type": ["array", "null"],
            "items": {"type": "string"},
            "default": None,
            "description": axis.description,
        }
        for name, axis in axis_studies(studies=studies).items()
    }


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


def _axis(study: str) -> DpAxis:
    axes = axis_studies()
    if study not in axes:
        raise UnknownNameError(f"{SECTION}.cells", study, axes)
    return axes[study]


def all_cells(config: Mapping[str, Any], study: str) -> list[CellId]:
    """Every cell of a study that takes the axis, in config order.

    Raises:
        UnknownNameError: if the study does not take the axis.
    """
    return _axis(study).cells(config)


def dp_cells(config: Mapping[str, Any], study: str) -> list[CellId]:
    """The cells of a study that train under every privacy variant."""
    listed = config[SECTION]["cells"].get(study)
    if listed is None:
        return all_cells(config, study)
    return [CellId.parse(_axis(study).keys, text) for text in listed]


def check_privacy(config: Mapping[str, Any]) -> None:
    """Check the privacy section beyond the schema, before any training.

    Raises:
        ConfigError: for an epsilon, delta or clipping norm :class:`DPConfig` refuses, two
            epsilons with the same name, an audit attack the membership study does not
            run, a listed cell the study does not have (naming the allowed cells), bad
            white-box audit settings or more canary guesses than canaries.
    """
    # Imported here, not at module level: the privacy package's import runs SciPy, and a
    # job-side workflow parse (which imports this module, never calls this check) skips it.
    from leakbench.privacy.settings import DPConfig

    section = config[SECTION]
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
    _check_audits(section)
    for study in axis_studies():
        allowed = [str(cell) for cell in all_cells(config, study)]
        for cell in section["cells"].get(study) or []:
            if cell not in allowed:
                raise ConfigError(
                    f"privacy.cells.{study}: {cell!r} is not allowed; allowed: {', '.join(allowed)}"
                )


def _check_audits(section: Mapping[str, Any]) -> None:
    """The audit cells' settings (white-box, black-box, one-run) and the one-run canary
    audit's guesses."""
    from leakbench.data.registry import DATASETS
    from leakbench.studies.blackbox_audit import BlackBoxCell
    from leakbench.studies.one_run_audit import OneRunCell
    from leakbench.studies.whitebox_audit import AuditCell

    cell = AuditCell.from_mapping(section["audit"])
    if cell.dataset not in DATASETS:
        raise UnknownNameError("privacy.audit.dataset", cell.dataset, DATASETS)
    BlackBoxCell.from_mapping({**section["blackbox"], "dataset": cell.dataset, "model": cell.model})
    OneRunCell.from_mapping(section["one_run"])
    canaries, guesses = section["canaries"], section["canary_guesses"]
    if canaries and 2 * guesses > canaries:
        raise ConfigError(
            f"privacy.canary_guesses: {guesses} is not allowed; allowed: at most half of "
            f"privacy.canaries ({canaries // 2}): that many guessed in and as many out"
        )
