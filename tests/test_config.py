"""Config validation: the schema and the registries refuse bad input with clear messages."""

from __future__ import annotations

import copy

import pytest
import yaml

from leakbench.config import load_config, load_schema, read_yaml
from leakbench.errors import ConfigError


@pytest.fixture()
def schema(repo_root):
    return repo_root / "workflow/schemas/config.schema.yaml"


@pytest.fixture()
def base(repo_root):
    return read_yaml(repo_root / "config/test.yaml")


def _load(tmp_path, schema, config):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_config(path, schema)


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml", "paper.yaml"])
def test_shipped_configs_are_valid(repo_root, schema, name):
    config = load_config(repo_root / "config" / name, schema)
    row = config["membership"]["grid"][0]
    assert row["optimizer"] == "adam" and "weight_decay" in row  # defaults filled in


def test_every_schema_key_has_type_description_default(schema):
    def walk(node, path, required=()):
        for key, sub in node.get("properties", {}).items():
            where = f"{path}.{key}"
            assert "description" in sub, where
            assert "type" in sub, where
            assert "default" in sub or key in required, where
            walk(sub, where, sub.get("required", ()))
            if isinstance(sub.get("items"), dict):
                walk(sub["items"], where + "[]", sub["items"].get("required", ()))

    root = load_schema(schema)
    assert root["additionalProperties"] is False
    walk(root, "config", root.get("required", ()))


def test_unknown_dataset_names_key_and_allowed(tmp_path, schema, base):
    bad = copy.deepcopy(base)
    bad["membership"]["grid"][0]["dataset"] = "cifar1000"
    with pytest.raises(
        ConfigError,
        match=r"membership\.grid\.0\.dataset: unknown value "
        r"'cifar1000'; allowed: .*adult.*purchase_synth",
    ):
        _load(tmp_path, schema, bad)


def test_unknown_attack_names_key_and_allowed(tmp_path, schema, base):
    bad = copy.deepcopy(base)
    bad["membership"]["attacks"] = ["shokri", "telepathy"]
    with pytest.raises(
        ConfigError,
        match=r"membership\.attacks: unknown value 'telepathy'; "
        r"allowed: .*confidence.*loss.*shokri",
    ):
        _load(tmp_path, schema, bad)


def test_unknown_key_names_key_and_allowed_keys(tmp_path, schema, base):
    bad = copy.deepcopy(base)
    bad["membership"]["shadow_count"] = 3
    with pytest.raises(
        ConfigError,
        match=r"membership: .*'shadow_count' was unexpected.*"
        r"allowed keys: attack_params, attacks, defence_attack_params, grid, noise_queries, "
        r"shadows",
    ):
        _load(tmp_path, schema, bad)


def test_negative_model_count_names_key_and_minimum(tmp_path, schema, base):
    bad = copy.deepcopy(base)
    bad["membership"]["shadows"] = -2
    with pytest.raises(
        ConfigError,
        match=r"membership\.shadows: -2 is less than the minimum "
        r"of 1",
    ):
        _load(tmp_path, schema, bad)


def test_unknown_architecture_and_duplicate_rows(tmp_path, schema, base):
    bad = copy.deepcopy(base)
    bad["membership"]["grid"][0]["arch"] = "transformer"
    with pytest.raises(ConfigError, match=r"grid\.0\.arch: unknown value 'transformer'"):
        _load(tmp_path, schema, bad)
    dup = copy.deepcopy(base)
    dup["membership"]["grid"].append(copy.deepcopy(dup["membership"]["grid"][0]))
    with pytest.raises(ConfigError, match="appears twice"):
        _load(tmp_path, schema, dup)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden": [0]}, r"membership\.grid\.0\.arch_params\.hidden: .*allowed"),
        ({"width": 3}, r"membership\.grid\.0\.arch_params\.width: .*allowed: hidden"),
    ],
)
def test_bad_architecture_params_stop_at_validation(tmp_path, schema, base, params, message):
    bad = copy.deepcopy(base)
    bad["membership"]["grid"][0]["arch_params"] = params
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, schema, bad)


def test_architecture_that_does_not_fit_the_dataset_stops_at_validation(tmp_path, schema, base):
    bad = copy.deepcopy(base)
    bad["property_poisoning"]["models"][0]["arch"] = "cnn"  # Adult records are not images
    with pytest.raises(ConfigError, match=r"property_poisoning\.models\.0\.input_shape: "):
        _load(tmp_path, schema, bad)


def test_params_for_an_attack_not_run(tmp_path, schema, base):
    bad = copy.deepcopy(base)
    bad["membership"]["attacks"] = ["loss"]
    with pytest.raises(ConfigError, match=r"membership\.attack_params: unknown value 'shokri'"):
        _load(tmp_path, schema, bad)


def test_missing_file(tmp_path, schema):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml", schema)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("epsilons", [8, 0], r"privacy\.epsilons\.1: 0 is less than or equal to the minimum of 0"),
        ("epsilons", [-1], r"privacy\.epsilons\.0: -1 is less than or equal to the minimum of 0"),
        ("delta", 0, r"privacy\.delta: 0 is less than or equal to the minimum of 0"),
        ("delta", 1, r"privacy\.delta: 1 is greater than or equal to the maximum of 1"),
        ("max_grad_norm", 0, r"privacy\.max_grad_norm: 0 is less than or equal to the minimum"),
        ("max_grad_norm", -3, r"privacy\.max_grad_norm: -3 is less than or equal to the minimum"),
        ("accountant", "moments", r"privacy\.accountant: 'moments' is not one of"),
        ("audit_attack", "lira", r"privacy\.audit_attack: 'lira' is not allowed; allowed: "),
        (
            "cells",
            {"membership": ["adult/cnn"]},
            r"privacy\.cells\.membership: 'adult/cnn' is not allowed; allowed: purchase_synth/tiny",
        ),
        (
            "cells",
            {"property_poisoning": ["sex/0.1-0.9/logreg"]},
            r"privacy\.cells\.property_poisoning: 'sex/0\.1-0\.9/logreg' is not allowed; "
            r"allowed: sex/0\.2-0\.6/logreg",
        ),
    ],
)
def test_bad_privacy_settings_name_key_value_and_rule(tmp_path, schema, base, key, value, fragment):
    bad = copy.deepcopy(base)
    bad["privacy"][key] = value
    with pytest.raises(ConfigError, match=fragment):
        _load(tmp_path, schema, bad)


def test_privacy_defaults_give_every_cell_the_default_epsilons(tmp_path, schema, base):
    from leakbench.studies.dp_axis import dp_cells, settings, variant_names

    config = copy.deepcopy(base)
    del config["privacy"]
    loaded = _load(tmp_path, schema, config)
    assert variant_names(loaded["privacy"]) == ["nodp", "eps8", "eps4", "eps1", "eps0.95"]
    assert settings(loaded["privacy"], "eps0.95") == {
        "epsilon": 0.95,
        "delta": 1e-5,
        "max_grad_norm": 1.0,
        "accountant": "rdp",
    }
    assert settings(loaded["privacy"], "nodp") is None
    torch_rows = [r for r in base["membership"]["grid"] if not r["arch"].startswith("sklearn_")]
    assert len(dp_cells(loaded, "membership")) == len(torch_rows) >= 1  # sklearn rows: no DP
    assert [str(cell) for cell in dp_cells(loaded, "property_poisoning")] == [
        "sex/0.2-0.6/logreg",
        "random_bit/0.2-0.6/logreg",
    ]
    with pytest.raises(ConfigError, match="'eps3' is not configured"):
        settings(loaded["privacy"], "eps3")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("canary_guesses", 31, r"privacy\.canary_guesses: 31 is not allowed; allowed: at most "),
        ("audit", {"dataset": "cifar"}, r"privacy\.audit\.dataset: unknown value 'cifar'"),
        ("audit", {"dataset": "adult", "trials": 5}, r"privacy\.audit\.trials: 5 is not"),
    ],
)
def test_bad_audit_settings_stop_at_validation(tmp_path, schema, base, key, value, message):
    bad = copy.deepcopy(base)
    bad["privacy"][key] = value
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, schema, bad)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"defence": "top_k", "k": 101}, r"defences\.0\.k: 101 is not allowed; allowed: an "
         r"integer 1 <= k <= 100"),
        ({"defence": "top_k", "k": 0}, r"defences\.0\.k: 0 is not allowed"),
        ({"defence": "round", "d": -1}, r"defences\.0\.d: -1 is not allowed; allowed: an "
         r"integer d >= 0"),
        ({"defence": "temperature", "t": 0}, r"defences\.0\.t: 0 is not allowed; allowed: a "
         r"finite number t > 0"),
        ({"defence": "blur"}, r"defences\.0\.defence: 'blur' is not allowed; allowed: top_k, "
         r"round, temperature, label_only"),
    ],
)  # fmt: skip
def test_bad_output_defences_are_refused_before_training(tmp_path, schema, base, entry, message):
    """Shokri et al. section VIII defences: purchase_synth has 100 classes."""
    bad = copy.deepcopy(base)
    bad["membership"]["grid"][0]["defences"] = [entry]
    with pytest.raises(ConfigError, match=r"membership\.grid\.0\." + message):
        _load(tmp_path, schema, bad)


def test_defence_attack_params_name_configured_attacks(tmp_path, schema, base):
    bad = copy.deepcopy(base)
    bad["membership"]["defence_attack_params"] = {"lira": {}}
    with pytest.raises(
        ConfigError, match=r"membership\.defence_attack_params: unknown value 'lira'"
    ):
        _load(tmp_path, schema, bad)
