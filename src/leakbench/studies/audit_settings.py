"""Settings parsing shared by the audit cells of the DP study (``privacy.audit``,
``privacy.blackbox``, ``privacy.one_run``): the checks of one frozen settings dataclass,
each refusal naming ``privacy.<section>.<key>``, its value and what is allowed, and the
construction from a config mapping that refuses unknown keys."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

from leakbench.errors import ConfigError

AUDIT_MODELS = ("logreg",)  # architectures whose first layer is Linear on the flat input

Check = tuple[str, bool, str]
"""``(key, ok, allowed)``: whether the setting ``key`` holds a value that is allowed."""


def int_at_least(value: object, low: int) -> bool:
    """Whether ``value`` is an integer (not a bool) of at least ``low``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def positive(value: object) -> bool:
    """Whether ``value`` is a finite number (not a bool) above 0."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def integer_check(settings: object, key: str, low: int) -> Check:
    """``key`` is an integer >= ``low``."""
    return (key, int_at_least(getattr(settings, key), low), f"an integer >= {low}")


def even_check(settings: object, key: str, low: int) -> Check:
    """``key`` is an even integer >= ``low``."""
    value = getattr(settings, key)
    return (key, int_at_least(value, low) and value % 2 == 0, f"an even integer >= {low}")


def positive_check(settings: object, key: str) -> Check:
    """``key`` is a finite number > 0."""
    return (key, positive(getattr(settings, key)), "a finite number > 0")


def training_checks(settings: Any) -> tuple[Check, ...]:
    """The checks of a cell's DP-SGD training: ``model`` (one of :data:`AUDIT_MODELS`),
    ``records``, ``batch_size`` and ``epochs`` (integers >= 1) and ``lr`` (> 0)."""
    return (
        ("model", settings.model in AUDIT_MODELS, ", ".join(AUDIT_MODELS)),
        integer_check(settings, "records", 1),
        integer_check(settings, "batch_size", 1),
        integer_check(settings, "epochs", 1),
        positive_check(settings, "lr"),
    )


def refuse_failed(*, section: str, settings: object, checks: Iterable[Check]) -> None:
    """Refuse the first failed check ``(key, ok, allowed)`` of ``settings``.

    Raises:
        ConfigError: ``privacy.<section>.<key>: <value> is not allowed; allowed: <allowed>``.
    """
    for key, ok, allowed in checks:
        if not ok:
            raise ConfigError(
                f"privacy.{section}.{key}: {getattr(settings, key)!r} is not allowed; "
                f"allowed: {allowed}"
            )


class AuditSettings(ABC):
    """Base of an audit cell's frozen settings dataclass: checked on construction,
    built from its config section by :meth:`from_mapping`.

    A subclass sets ``section`` (its key under ``privacy``) and :meth:`checks`.
    """

    section: ClassVar[str]

    @abstractmethod
    def checks(self) -> Iterable[Check]:
        """The settings' checks, in the order they are refused."""

    def __post_init__(self) -> None:
        refuse_failed(section=self.section, settings=self, checks=self.checks())

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """``cls(**values)``, refusing keys that are not fields of the dataclass.

        Raises:
            ConfigError: ``privacy.<section>: <key> is not allowed; allowed: <fields>``.
        """
        allowed = tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise ConfigError(
                f"privacy.{cls.section}: {unknown[0]!r} is not allowed; "
                f"allowed: {', '.join(allowed)}"
            )
        return cls(**values)
