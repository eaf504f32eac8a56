"""Training hyper-parameters, validated on construction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leakbench.errors import ConfigError
from leakbench.privacy import DPConfig

OPTIMIZERS = ("adam", "sgd")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters shared by every model of one (stacked) training job.

    Attributes:
        epochs: passes over each model's own training set (>= 1).
        batch_size: records per optimisation step and model (>= 1); an epoch's last
            batch keeps the remainder and may be smaller.
        lr: learning rate (> 0).
        weight_decay: L2 factor ``lambda`` added to the gradient as ``lambda * w``
            (coupled L2, as in ``torch.optim``; >= 0).
        optimizer: ``"adam"`` (Kingma and Ba 2015, torch defaults betas=(0.9, 0.999),
            eps=1e-8) or ``"sgd"`` (plain, no momentum).
        privacy: DP-SGD settings, or None for ordinary training. A config row's
            ``privacy`` with epsilon = inf gives None: no DP is the plain path, exactly.

    Raises:
        ConfigError: naming the field, its value and what is allowed.
    """

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.0
    optimizer: str = "adam"
    privacy: DPConfig | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TrainConfig:
        """The training settings of a config row (a grid row or a model row), with its
        optional ``privacy`` mapping (:meth:`DPConfig.from_mapping`)."""
        keys = ("epochs", "batch_size", "lr", "weight_decay", "optimizer")
        privacy = DPConfig.from_mapping(row["privacy"]) if row.get("privacy") else None
        return cls(
            **{key: row[key] for key in keys},
            privacy=privacy if privacy is not None and privacy.private else None,
        )

    def __post_init__(self) -> None:
        checks = (
            ("epochs", _is_int(self.epochs) and self.epochs >= 1, "an integer >= 1"),
            ("batch_size", _is_int(self.batch_size) and self.batch_size >= 1, "an integer >= 1"),
            ("lr", _is_number(self.lr) and self.lr > 0, "a finite number > 0"),
            (
                "weight_decay",
                _is_number(self.weight_decay) and self.weight_decay >= 0,
                "a finite number >= 0",
            ),
            ("optimizer", self.optimizer in OPTIMIZERS, ", ".join(OPTIMIZERS)),
            (
                "privacy",
                self.privacy is None
                or (isinstance(self.privacy, DPConfig) and self.privacy.private),
                "None or a DPConfig with a finite epsilon",
            ),
        )
        for key, ok, allowed in checks:
            if not ok:
                raise ConfigError(
                    f"{key}: {getattr(self, key)!r} is not allowed; allowed: {allowed}"
                )
