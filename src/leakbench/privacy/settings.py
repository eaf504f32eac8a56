"""DP-SGD settings of one training job, validated on construction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from leakbench.errors import ConfigError

ACCOUNTANTS = ("rdp", "prv")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class DPConfig:
    """DP-SGD (Abadi et al. 2016, Algorithm 1) with a target (epsilon, delta) budget.

    Attributes:
        epsilon: the target epsilon (> 0); ``math.inf`` means no DP at all, and training
            then takes the plain, non-private path.
        delta: the target delta, in (0, 1); usually well below 1 / (training records).
        max_grad_norm: the per-sample clipping norm C (> 0, finite).
        accountant: Opacus's accountant that turns (epsilon, delta, sampling rate, steps)
            into a noise multiplier and reports the epsilon spent: ``"rdp"`` (Renyi DP,
            Mironov 2017) or ``"prv"`` (privacy random variables, Gopi et al. 2021).

    Raises:
        ConfigError: naming the key (``privacy.<field>``), its value and what is allowed.
    """

    epsilon: float
    delta: float = 1e-5
    max_grad_norm: float = 1.0
    accountant: str = "rdp"

    def __post_init__(self) -> None:
        checks = (
            (
                "epsilons",
                self.epsilon,
                _is_number(self.epsilon) and self.epsilon > 0,
                "numbers > 0, or .inf for no DP",
            ),
            (
                "delta",
                self.delta,
                _is_number(self.delta) and 0 < self.delta < 1,
                "a number in (0, 1)",
            ),
            (
                "max_grad_norm",
                self.max_grad_norm,
                _is_number(self.max_grad_norm)
                and math.isfinite(self.max_grad_norm)
                and self.max_grad_norm > 0,
                "a finite number > 0",
            ),
            ("accountant", self.accountant, self.accountant in ACCOUNTANTS, ", ".join(ACCOUNTANTS)),
        )
        for key, value, ok, allowed in checks:
            if not ok:
                raise ConfigError(f"privacy.{key}: {value!r} is not allowed; allowed: {allowed}")

    @property
    def private(self) -> bool:
        """Whether training adds noise and clips (a finite epsilon)."""
        return math.isfinite(self.epsilon)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DPConfig:
        """From a config mapping with the keys ``epsilon``, ``delta``, ``max_grad_norm``
        and ``accountant`` (the last three optional)."""
        keys = ("epsilon", "delta", "max_grad_norm", "accountant")
        unknown = sorted(set(values) - set(keys))
        if unknown:
            raise ConfigError(
                f"privacy: keys {unknown} are not allowed; allowed: {', '.join(keys)}"
            )
        return cls(**{key: values[key] for key in keys if key in values})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def row_epsilon(row: Mapping[str, Any]) -> float:
    """The target epsilon of a config row's ``privacy`` settings (inf when it has none)."""
    privacy = row.get("privacy")
    return float(privacy["epsilon"]) if privacy else math.inf
