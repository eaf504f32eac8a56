"""Errors raised on bad input, each naming the key, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable


class LeakbenchError(Exception):
    """Base class of every error leakbench raises on purpose."""


class ConfigError(LeakbenchError, ValueError):
    """A configuration value is not allowed."""


class UnknownNameError(ConfigError, KeyError):
    """A name (dataset, attack, architecture, study ...) is not in its registry."""

    def __init__(self, key: str, value: object, allowed: Iterable[str]) -> None:
        self.key, self.value, self.allowed = key, value, sorted(allowed)
        super().__init__(f"{key}: unknown value {value!r}; allowed: {', '.join(self.allowed)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


class DataError(LeakbenchError):
    """A raw data file is missing, unreachable or fails its checksum."""


class ChecksumError(DataError):
    """A file's sha256 differs from the pinned one."""

    def __init__(self, path: object, expected: str, actual: str) -> None:
        super().__init__(f"{path}: sha256 mismatch: expected {expected}, got {actual}")
        self.path, self.expected, self.actual = path, expected, actual
