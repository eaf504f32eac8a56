"""Settings parsing shared by the audit cells of the DP study (``privacy.audit``,
``privacy.blackbox``, ``privacy.one_run``): the checks of one frozen settings dataclass,
each refusal naming ``privacy.<section>.<key>``, its value and what is allowed, and the
construction from a config mapping that refuses unknown keys."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from leakbench.errors import ConfigError

AUDIT_MODELS = ("logreg",)  # architectures whose first layer is Linear on the flat input

Settings = TypeVar("Settings")


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


def refuse_failed(
    *, section: str, settings: object, checks: Iterable[tuple[str, bool, str]]
) -> None:
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


def from_mapping(cls: type[Settings], *, section: str, values: Mapping[str, Any]) -> Settings:
    """``cls(**values)``, refusing keys that are not fields of the dataclass ``cls``.

    Raises:
        ConfigError: ``privacy.<section>: <key> is not allowed; allowed: <fields>``.
    """
    allowed = tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ConfigError(
            f"privacy.{section}: {unknown[0]!r} is not allowed; allowed: {', '.join(allowed)}"
        )
    return cls(**values)
