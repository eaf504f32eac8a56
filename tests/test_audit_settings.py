"""The settings checks shared by the DP study's audit cells: each check refuses a bad value,
a refusal names ``privacy.<section>.<key>``, the value and what is allowed, and a config
mapping with an unknown key is refused."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace as Values

import pytest

from leakbench.errors import ConfigError
from leakbench.studies.audit_settings import (
    AUDIT_MODELS,
    AuditSettings,
    Check,
    even_check,
    int_at_least,
    integer_check,
    positive,
    positive_check,
    refuse_failed,
    training_checks,
)


@dataclass(frozen=True)
class _Cell(AuditSettings):
    section = "toy"

    trials: int = 8
    held_out: int = 1

    def checks(self) -> tuple[Check, ...]:
        return (even_check(self, "trials", 8), integer_check(self, "held_out", 1))


TRAINING = {"model": "logreg", "records": 3, "batch_size": 1, "epochs": 2, "lr": 0.1}


@pytest.mark.parametrize("value", [0, -3, 2.0, True, None, "2"])
def test_int_at_least_refuses(value: object) -> None:
    assert not int_at_least(value, 1)


def test_int_at_least_accepts_the_bound() -> None:
    assert int_at_least(1, 1) and int_at_least(7, 1) and int_at_least(0, 0)


@pytest.mark.parametrize("value", [0, -0.5, math.nan, math.inf, True, None, "1"])
def test_positive_refuses(value: object) -> None:
    assert not positive(value)


def test_positive_accepts_finite_numbers_above_zero() -> None:
    assert positive(1e-9) and positive(3)


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (integer_check(Values(held_out=0), "held_out", 1), ("held_out", False, "an integer >= 1")),
        (integer_check(Values(held_out=5), "held_out", 1), ("held_out", True, "an integer >= 1")),
        (even_check(Values(trials=9), "trials", 8), ("trials", False, "an even integer >= 8")),
        (even_check(Values(trials=6), "trials", 8), ("trials", False, "an even integer >= 8")),
        (even_check(Values(trials=10), "trials", 8), ("trials", True, "an even integer >= 8")),
        (positive_check(Values(lr=0.0), "lr"), ("lr", False, "a finite number > 0")),
        (positive_check(Values(lr=0.5), "lr"), ("lr", True, "a finite number > 0")),
    ],
)
def test_checks_name_key_verdict_and_what_is_allowed(check: Check, expected: Check) -> None:
    assert check == expected


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("model", "mlp", ", ".join(AUDIT_MODELS)),
        ("records", 0, "an integer >= 1"),
        ("batch_size", 1.5, "an integer >= 1"),
        ("epochs", False, "an integer >= 1"),
        ("lr", math.nan, "a finite number > 0"),
    ],
)
def test_each_training_check_refuses_its_bad_value(key: str, value: object, allowed: str) -> None:
    settings = Values(**{**TRAINING, key: value})
    with pytest.raises(ConfigError) as refused:
        refuse_failed(section="toy", settings=settings, checks=training_checks(settings))
    assert str(refused.value) == f"privacy.toy.{key}: {value!r} is not allowed; allowed: {allowed}"


def test_training_checks_pass_a_good_cell_in_order() -> None:
    checks = training_checks(Values(**TRAINING))
    assert [key for key, _, _ in checks] == list(TRAINING)
    assert all(ok for _, ok, _ in checks)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [("trials", 9, "an even integer >= 8"), ("held_out", -1, "an integer >= 1")],
)
def test_a_cell_refuses_a_bad_value_on_construction(key: str, value: int, allowed: str) -> None:
    with pytest.raises(ConfigError) as refused:
        _Cell(**{key: value})
    assert str(refused.value) == f"privacy.toy.{key}: {value} is not allowed; allowed: {allowed}"


def test_refuse_failed_refuses_the_first_failed_check() -> None:
    settings = Values(**TRAINING)
    checks = [("records", True, "a"), ("epochs", False, "b"), ("lr", False, "c")]
    with pytest.raises(ConfigError, match=r"^privacy\.s\.epochs: 2 is not allowed; allowed: b$"):
        refuse_failed(section="s", settings=settings, checks=checks)
    refuse_failed(section="s", settings=settings, checks=[("records", True, "a")])


def test_from_mapping_builds_the_cell_and_refuses_unknown_keys() -> None:
    assert _Cell.from_mapping({"trials": 10}) == _Cell(trials=10)
    with pytest.raises(ConfigError) as refused:
        _Cell.from_mapping({"trials": 10, "zeta": 1, "alpha": 2})
    assert str(refused.value) == "privacy.toy: 'alpha' is not allowed; allowed: trials, held_out"
    with pytest.raises(ConfigError, match=r"privacy\.toy\.trials: 4 is not allowed"):
        _Cell.from_mapping({"trials": 4})
