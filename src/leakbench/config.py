"""Load and validate an experiment config: JSON Schema first, then the registries.

The schema fixes types, ranges and defaults and refuses unknown keys. It is composed by
:func:`load_schema` from a common part (``workflow/schemas/config.schema.yaml``) and one
fragment per study, the config section its spec names (:mod:`leakbench.studies.specs`);
:func:`check_names` then checks every name against the registry that owns it. Both raise
:class:`~leakbench.errors.ConfigError` naming the key, the value and what is allowed,
before any job runs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from leakbench.errors import ConfigError, UnknownNameError

# libyaml's scanner where PyYAML has it (the same safe constructor, about 8x faster on the
# schema files, which every parse of the workflow reads, each Slurm job's included).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file with the safe loader (libyaml's where available)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_SAFE_LOADER)


def _fill_defaults(instance: Any, schema: Mapping[str, Any]) -> None:
    """Insert every missing key that has a ``default`` in ``schema``, recursively."""
    if isinstance(instance, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in instance and "default" in sub:
                instance[key] = copy.deepcopy(sub["default"])
            if key in instance:
                _fill_defaults(instance[key], sub)
    elif isinstance(instance, list) and isinstance(schema.get("items"), Mapping):
        for item in instance:
            _fill_defaults(item, schema["items"])


def _describe(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "<config>"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"{path}: {error.message}; allowed keys: {', '.join(allowed)}"
    what = error.schema.get("description", "")
    return f"{path}: {error.message}" + (f" ({what})" if what else "")


def validate_schema(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``config`` with defaults filled in, after validating it.

    Raises:
        ConfigError: naming the first offending key (by path), its value and the rule.
    """
    filled = copy.deepcopy(dict(config))
    _fill_defaults(filled, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("; ".join(_describe(e) for e in errors))
    return filled


def load_schema(path: str | Path) -> dict[str, Any]:
    """The config schema: the common part at ``path`` with each study's section.

    Every registered study's spec names its section's fragment, a file beside ``path``; a
    study whose spec says ``required`` must have its section in every config. The DP axis
    adds ``privacy.cells.<study>`` for each study that takes it.
    """
    from leakbench.studies.dp_axis import SECTION, cells_schema
    from leakbench.studies.specs import STUDIES

    schema = read_yaml(path)
    properties = schema["properties"]
    for spec in STUDIES.values():
        properties[spec.name] = read_yaml(Path(path).parent / spec.schema)
    schema["required"] = [spec.name for spec in STUDIES.values() if spec.required]
    if SECTION in properties:
        properties[SECTION]["properties"]["cells"]["properties"] = cells_schema()
    return schema


def check_names(config: Mapping[str, Any]) -> None:
    """Check every registry name and cross-field rule the schema cannot express."""
    if "membership" in config:
        _check_membership(config["membership"])
    if "property_poisoning" in config:
        _check_property_poisoning(config["property_poisoning"])
    if "membership_lira" in config:
        _check_membership_lira(config["membership_lira"])
    if "zhao" in config:
        _check_zhao(config["zhao"])
    if "memorisation" in config:
        _check_memorisation(config["memorisation"])
    if "collaborative" in config:
        _check_collaborative(config["collaborative"])
    if "collaborative_defences" in config:
        _check_collaborative_defences(config["collaborative_defences"])
    if "collaborative_embedding" in config:
        _check_collaborative_embedding(config["collaborative_embedding"])
    if "privacy" in config:
        from leakbench.studies.dp_axis import check_privacy

        check_privacy(config)


def _check_membership(study: Mapping[str, Any]) -> None:
    from leakbench.attacks import ATTACKS
    from leakbench.data.registry import DATASETS
    from leakbench.estimators import FAMILIES, family_params
    from leakbench.models import ARCHITECTURES
    from leakbench.studies.defences import parse_defences
    from leakbench.studies.shadow_data import check_row as check_shadow_data

    for name in study["attacks"]:
        if name not in ATTACKS:
            raise UnknownNameError("membership.attacks", name, ATTACKS)
    for section in ("attack_params", "defence_attack_params"):
        for name in study[section] or {}:
            if name not in study["attacks"]:
                raise UnknownNameError(f"membership.{section}", name, study["attacks"])
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(study["grid"]):
        if row["dataset"] not in DATASETS:
            raise UnknownNameError(f"membership.grid.{i}.dataset", row["dataset"], DATASETS)
        if row["arch"] in FAMILIES:
            try:
                family_params(row["arch"], row["arch_params"])
            except ConfigError as err:
                raise ConfigError(f"membership.grid.{i}.{err}") from None
        elif row["arch"] not in ARCHITECTURES:
            raise UnknownNameError(
                f"membership.grid.{i}.arch", row["arch"], [*ARCHITECTURES, *FAMILIES]
            )
        else:
            _check_model(f"membership.grid.{i}", row, DATASETS[row["dataset"]])
        check_shadow_data(f"membership.grid.{i}", row)
        parse_defences(
            row["defences"],
            key=f"membership.grid.{i}.defences",
            classes=DATASETS[row["dataset"]].num_classes,
        )
        cell = (row["dataset"], row["variant"])
        if cell in seen:
            raise ConfigError(
                f"membership.grid.{i}: dataset {cell[0]!r} with variant {cell[1]!r} appears "
                "twice; each (dataset, variant) pair must be unique"
            )
        seen.add(cell)


def _check_membership_lira(study: Mapping[str, Any]) -> None:
    from leakbench.data.registry import DATASETS
    from leakbench.studies.membership_lira import check_study

    _check_trained_grid("membership_lira", study["grid"])
    check_study(study=study, datasets=DATASETS)


def _check_zhao(study: Mapping[str, Any]) -> None:
    from leakbench.data.registry import DATASETS
    from leakbench.studies.zhao import check_study

    check_study(study=study, datasets=DATASETS)
    _check_trained_grid("zhao", study["grid"])


def _check_memorisation(study: Mapping[str, Any]) -> None:
    from leakbench.data.registry import DATASETS
    from leakbench.studies.memorisation_encodings import check_study

    _check_trained_grid("memorisation", study["grid"])
    check_study(study=study, datasets=DATASETS)


def _check_collaborative(study: Mapping[str, Any]) -> None:
    from leakbench.data.registry import DATASETS
    from leakbench.studies.collaborative import check_row

    # Rows train through the collaborative simulation, not the stacked trainer's settings.
    _check_trained_grid("collaborative", study["grid"], train_settings=False)
    for i, row in enumerate(study["grid"]):
        spec = DATASETS[row["dataset"]]
        check_row(
            row,
            key=f"collaborative.grid.{i}",
            num_classes=spec.num_classes,
            properties=spec.properties,
            vocabulary=spec.vocabulary,
        )


def _check_collaborative_defences(study: Mapping[str, Any]) -> None:
    from leakbench.data.registry import DATASETS
    from leakbench.studies.collaborative_defences import check_model, check_row

    # Rows train through the collaborative simulation, not the stacked trainer's settings.
    _check_trained_grid("collaborative_defences", study["grid"], train_settings=False)
    for i, row in enumerate(study["grid"]):
        spec = DATASETS[row["dataset"]]
        key = f"collaborative_defences.grid.{i}"
        check_row(
            row,
            key=key,
            num_classes=spec.num_classes,
            properties=spec.properties,
            vocabulary=spec.vocabulary,
        )
        check_model(row, key=key, input_shape=spec.input_shape, num_classes=spec.num_classes)


def _check_collaborative_embedding(study: Mapping[str, Any]) -> None:
    from leakbench.data.registry import DATASETS
    from leakbench.studies.collaborative_embedding import check_model, check_row

    # Rows train through the collaborative simulation, not the stacked trainer's settings;
    # the study sets the model's vocabulary (2 stands in for it here).
    _check_trained_grid(
        "collaborative_embedding",
        [{**row, "arch_params": {**row["arch_params"], "vocab": 2}} for row in study["grid"]],
        train_settings=False,
    )
    for i, row in enumerate(study["grid"]):
        spec = DATASETS[row["dataset"]]
        key = f"collaborative_embedding.grid.{i}"
        check_row(row, key=key, properties=spec.properties, vocabulary=spec.vocabulary)
        check_model(row, key=key, input_shape=spec.input_shape, num_classes=spec.num_classes)


def _check_trained_grid(
    section: str, grid: list[Mapping[str, Any]], *, train_settings: bool = True
) -> None:
    """Check each row of a study grid that trains one model family per (dataset, variant):
    known dataset and architecture, a model that fits the data, a unique (dataset,
    variant) pair and, if ``train_settings``, valid stacked-trainer settings."""
    from leakbench.data.registry import DATASETS
    from leakbench.models import ARCHITECTURES
    from leakbench.training import TrainConfig

    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(grid):
        key = f"{section}.grid.{i}"
        if row["dataset"] not in DATASETS:
            raise UnknownNameError(f"{key}.dataset", row["dataset"], DATASETS)
        if row["arch"] not in ARCHITECTURES:
            raise UnknownNameError(f"{key}.arch", row["arch"], ARCHITECTURES)
        _check_model(key, row, DATASETS[row["dataset"]])
        cell = (row["dataset"], row["variant"])
        if cell in seen:
            raise ConfigError(
                f"{key}: dataset {cell[0]!r} with variant {cell[1]!r} appears twice; each "
                "(dataset, variant) pair must be unique"
            )
        seen.add(cell)
        if not train_settings:
            continue
        try:
            TrainConfig.from_row(row)
        except ConfigError as err:
            raise ConfigError(f"{key}.{err}") from None


def _check_model(key: str, row: Mapping[str, Any], dataset: Any) -> None:
    """Build one model of a config row for its dataset's records, so that bad
    ``arch_params`` (or an architecture that does not fit the data) stop before any job.

    Raises:
        ConfigError: the builder's message, prefixed with the row's key.
    """
    from leakbench.models import build_model

    try:
        build_model(
            row["arch"],
            input_shape=dataset.input_shape,
            num_classes=dataset.num_classes,
            **row.get("arch_params", {}),
        )
    except ConfigError as err:
        raise ConfigError(f"{key}.{err}") from None


def _check_property_poisoning(study: Mapping[str, Any]) -> None:
    from leakbench.data.registry import DATASETS
    from leakbench.models import ARCHITECTURES

    key = "property_poisoning"
    if study["dataset"] not in DATASETS:
        raise UnknownNameError(f"{key}.dataset", study["dataset"], DATASETS)
    spec = DATASETS[study["dataset"]]
    for name in study["properties"]:
        if name not in spec.properties:
            raise UnknownNameError(f"{key}.properties", name, spec.properties)
    for i, (t0, t1) in enumerate(study["ratio_pairs"]):
        if not t0 < t1:
            raise ConfigError(
                f"{key}.ratio_pairs.{i}: ({t0}, {t1}) is not allowed; allowed: t0 < t1, "
                "both in [0, 1]"
            )
    if not study["target_label"] < spec.num_classes:
        raise ConfigError(
            f"{key}.target_label: {study['target_label']} is not allowed; allowed: 0 .. "
            f"{spec.num_classes - 1} (classes of {study['dataset']})"
        )
    if study["query_selection"] == "uncertain" and 0 not in study["poison_rates"]:
        raise ConfigError(
            f"{key}.query_selection: 'uncertain' is not allowed without 0 in poison_rates; "
            "allowed: random, or add 0 (the unpoisoned shadows it asks)"
        )
    variants = [row["variant"] for row in study["models"]]
    for i, row in enumerate(study["models"]):
        if row["arch"] not in ARCHITECTURES:
            raise UnknownNameError(f"{key}.models.{i}.arch", row["arch"], ARCHITECTURES)
        _check_model(f"{key}.models.{i}", row, spec)
        if variants.count(row["variant"]) > 1:
            raise ConfigError(f"{key}.models.{i}.variant: {row['variant']!r} appears twice")
    regression = study["regression"]
    seen = sorted(set(regression["target_ratios"]) & set(regression["shadow_ratios"]))
    if seen:
        raise ConfigError(
            f"{key}.regression.target_ratios: {seen} are shadow ratios too; allowed: ratios "
            "no shadow model trains at"
        )


def load_config(path: str | Path, schema_path: str | Path) -> dict[str, Any]:
    """Read, default-fill and fully validate the config at ``path``."""
    if not Path(path).is_file():
        raise ConfigError(f"config: file {str(path)!r} does not exist")
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"config: {str(path)!r} must hold a mapping, got {type(raw).__name__}")
    config = validate_schema(raw, load_schema(schema_path))
    check_names(config)
    return config
