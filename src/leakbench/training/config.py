"""Training hyper-parameters, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass

from leakbench.errors import ConfigError

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters shared by every model of one stacked job.

    Attributes:
        epochs: passes over each model's own training set.
        batch_size: records per step and model (the last batch of an epoch may be smaller).
        lr: learning rate.
        weight_decay: L2 factor added to the gradient (the defence of Shokri et al. §VI).
        optimizer: ``adam`` or ``sgd``.
    """

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.0
    optimizer: str = "adam"

    def __post_init__(self) -> None:
        checks = (
            ("epochs", self.epochs >= 1, "an integer >= 1"),
            ("batch_size", self.batch_size >= 1, "an integer >= 1"),
            ("lr", self.lr > 0, "a number > 0"),
            ("weight_decay", self.weight_decay >= 0, "a number >= 0"),
            ("optimizer", self.optimizer in OPTIMIZERS, ", ".join(OPTIMIZERS)),
        )
        for key, ok, allowed in checks:
            if not ok:
                raise ConfigError(f"{key}: {getattr(self, key)!r} is not allowed; allowed: {allowed}")
