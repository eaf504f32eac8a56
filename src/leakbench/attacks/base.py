"""What flows into and out of a membership attack, and the numerics attacks share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leakbench.errors import ConfigError


@dataclass(frozen=True)
class AttackInput:
    """Only what the attacker sees; the evaluated records' membership is not here.

    Attributes:
        logits: target outputs on the evaluated records, [N, C].
        labels: true labels of the evaluated records, [N].
        shadow_logits: shadow outputs on the shadows' own records, [S, C] (or None).
        shadow_labels: labels of those records, [S].
        shadow_member: whether each was in its shadow's training set, [S].
        train_loss: the target's mean training cross-entropy (Yeom et al.'s assumption).
        noise_logits: target outputs on uniform random inputs, [R, C].
    """

    logits: np.ndarray
    labels: np.ndarray
    shadow_logits: np.ndarray | None = None
    shadow_labels: np.ndarray | None = None
    shadow_member: np.ndarray | None = None
    train_loss: float | None = None
    noise_logits: np.ndarray | None = None


@dataclass(frozen=True)
class AttackResult:
    """Scores (higher = more likely a member), the attack's decisions and its threshold."""

    scores: np.ndarray
    predictions: np.ndarray
    threshold: float


@dataclass(frozen=True)
class AttackSpec:
    """A registered attack: ``run(inp, *, seed, **params) -> AttackResult``."""

    name: str
    run: Callable[..., AttackResult]
    needs_shadows: bool
    description: str
    reference: str


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax(z)_c = z_c - max(z) - log sum_j exp(z_j - max(z)), in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """softmax(z)_c = exp(z_c) / sum_j exp(z_j), in float64."""
    return np.exp(log_softmax(logits))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-record loss -log softmax(z)[y]."""
    return -log_softmax(logits)[np.arange(len(labels)), np.asarray(labels)]


def check_params(
    attack: str, params: Mapping[str, Any], allowed: Mapping[str, Sequence[Any] | str]
) -> None:
    """Refuse parameters an attack does not take, naming the key and what is allowed."""
    for key in params:
        if key not in allowed:
            raise ConfigError(
                f"attack_params.{attack}.{key}: not a parameter of {attack!r}; allowed: "
                f"{', '.join(allowed) or 'none'}"
            )


def require(attack: str, **fields: object) -> None:
    """Refuse an input the attack needs but did not get."""
    for key, value in fields.items():
        if value is None:
            raise ConfigError(f"{key}: required by the {attack!r} attack but missing")
