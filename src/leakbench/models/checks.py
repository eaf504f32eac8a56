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


def positive_int(key: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value``, an integer >= ``minimum``, or raise naming ``key``.

    Raises:
        ConfigError: unless ``value`` is an ``int`` (not a ``bool``) >= ``minimum``.
    """
    if not is_positive_int(value) or value < minimum:
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: an integer >= {minimum}")
    return int(value)


def one_of(key: str, value: Any, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``allowed``, or raise naming ``key``.

    Raises:
        ConfigError: listing ``allowed``.
    """
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value


def probability(key: str, value: Any) -> float:
    """Return ``value`` as a float in [0, 1), or raise naming ``key``.

    Raises:
        ConfigError: unless ``value`` is an ``int`` or ``float`` (not a ``bool``) in [0, 1).
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: a number in [0, 1)")
    return float(value)


def sequence_length(arch: str, input_shape: tuple[int, ...], *, minimum: int = 1) -> int:
    """The ``seq_len`` of a token model's ``input_shape`` ``[seq_len]``.

    Raises:
        ConfigError: naming ``input_shape`` unless it is ``[seq_len]`` with
            ``seq_len >= minimum``.
    """
    if len(input_shape) != 1 or input_shape[0] < minimum:
        raise ConfigError(
            f"input_shape: {list(input_shape)} is not allowed for arch {arch!r}; "
            f"allowed: a token sequence shape [seq_len] with seq_len >= {minimum}"
        )
    return input_shape[0]
