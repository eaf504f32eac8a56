"""Validation of architecture parameters, with errors that name the key and what is allowed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leakbench.errors import ConfigError


def is_positive_int(value: Any) -> bool:
    """True for an ``int`` (not a ``bool``) that is at least 1."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def positive_sizes(key: str, value: Any) -> list[int]:
    """Return ``value`` as a list of layer sizes, or raise naming ``key``.

    Raises:
        ConfigError: unless ``value`` is a non-empty list (or tuple) of integers >= 1.
    """
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or not value
        or not all(is_positive_int(v) for v in value)
    ):
        raise ConfigError(
            f"{key}: {value!r} is not allowed; allowed: a non-empty list of integers >= 1"
        )
    return list(value)
