"""Training hyper-parameters, validated on construction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leakbench.errors import ConfigError
from leakbench.privacy import DPConfig
from leakbench.training.augment import check_augment

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine")


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
            eps=1e-8) or ``"sgd"`` (heavy-ball ``momentum``, torch's form).
        momentum: SGD's momentum factor mu in [0, 1) (``buf = mu buf + g``, ``w -= lr buf``);
            0 is plain SGD. Adam takes none (0).
        schedule: the learning rate over training: ``"constant"``, or ``"cosine"``:
            ``lr_t = lr (1 + cos(pi t / T)) / 2`` at optimiser step t of T (Loshchilov and
            Hutter 2017, "SGDR", eq. 5 without restarts; the LiRA recipe of Carlini et al.
            2022, section VI-A, trains with a cosine decay). T counts each model's own
            steps, also for models of different record counts in one stack
            (:func:`~leakbench.training.optim.model_rates`).
        augment: training-time image augmentation, names of
            :data:`~leakbench.training.augment.AUGMENTATIONS` (``"flip"``, ``"crop"``:
            the LiRA recipe's random mirror and reflect-padded 4-pixel crop, per record,
            model and epoch, :mod:`~leakbench.training.augment`); empty for none. Images
            ``[C, H, W]`` only.
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
    momentum: float = 0.0
    schedule: str = "constant"
    augment: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TrainConfig:
        """The training settings of a config row (a grid row or a model row), with its
        optional ``privacy`` mapping (:meth:`DPConfig.from_mapping`) and, where the row's
        schema has them, ``momentum``, ``schedule`` and ``augment``."""
        keys = ("epochs", "batch_size", "lr", "weight_decay", "optimizer")
        optional = {key: row[key] for key in ("momentum", "schedule") if key in row}
        if "augment" in row:
            optional["augment"] = check_augment(row["augment"])
        privacy = DPConfig.from_mapping(row["privacy"]) if row.get("privacy") else None
        return cls(
            **{key: row[key] for key in keys},
            **optional,
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
                "momentum",
                _is_number(self.momentum)
                and 0 <= self.momentum < 1
                and (self.optimizer == "sgd" or self.momentum == 0),
                "a number in [0, 1) with optimizer sgd; 0 with adam",
            ),
            ("schedule", self.schedule in SCHEDULES, ", ".join(SCHEDULES)),
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
        object.__setattr__(self, "augment", check_augment(self.augment))
