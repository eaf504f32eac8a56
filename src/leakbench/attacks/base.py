"""What flows into and out of a membership attack, and the checks every attack shares.

An attack is a pure function ``run(inp: AttackInput, *, seed: int, **params) ->
AttackResult``: it sees only what :class:`AttackInput` holds (never the evaluated records'
membership), draws every random number from ``seed``, and refuses parameters it does not
know with a :class:`~leakbench.errors.ConfigError` naming the parameter, the value and
what is allowed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError


def _outputs(name: str, value: object, classes: int | None = None) -> np.ndarray:
    """Check a [rows, C] array of finite model outputs (C = ``classes`` when given)."""
    array = np.asarray(value)
    wanted = "[rows, C]" if classes is None else f"[rows, {classes}] (one column per class)"
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] < 2:
        raise ConfigError(
            f"{name}: shape {array.shape} is not allowed; allowed: {wanted}, rows >= 1, C >= 2"
        )
    if classes is not None and array.shape[1] != classes:
        raise ConfigError(f"{name}: shape {array.shape} is not allowed; allowed: {wanted}")
    if array.dtype.kind not in "iuf" or not np.isfinite(array).all():
        raise ConfigError(f"{name}: contains non-finite or non-numeric values; allowed: reals")
    return array


def _answers(name: str, value: np.ndarray | None) -> None:
    """Check prediction-API answers: entries in [0, 1], rows summing to at most 1."""
    if value is None:
        return
    array = np.asarray(value, dtype=np.float64)
    if array.min() < 0 or array.max() > 1 or (array.sum(axis=1) > 1 + 1e-6).any():
        raise ConfigError(
            f"{name}: answers outside the probability simplex are not allowed with "
            "probabilities=True; allowed: entries in [0, 1], rows summing to at most 1"
        )


LOSS_FLOOR = 1e-12
"""The smallest probability a defended answer's cross-entropy takes: -log(1e-12) = 27.6."""


def _labels(name: str, value: object, rows: int, classes: int) -> None:
    """Check one integer label in [0, classes) per row."""
    array = np.asarray(value)
    if array.shape != (rows,) or array.dtype.kind not in "iu":
        raise ConfigError(
            f"{name}: shape {array.shape} and dtype {array.dtype} are not allowed; allowed: "
            f"integers of shape ({rows},)"
        )
    if array.min() < 0 or array.max() >= classes:
        raise ConfigError(
            f"{name}: range [{array.min()}, {array.max()}] is not allowed; allowed: "
            f"0 .. {classes - 1}"
        )


@dataclass(frozen=True, eq=False)
class AttackInput:
    """Only what the attacker sees; the evaluated records' membership is not here.

    Shapes are checked on construction (a :class:`~leakbench.errors.ConfigError` names the
    field); whether an attack needs an optional field is checked by the attack.

    Attributes:
        logits: target outputs on the evaluated records, [N, C].
        labels: true labels of the evaluated records, integers in [0, C), [N].
        shadow_logits: each shadow model's outputs on its own in/out records, [S, C].
        shadow_labels: true labels of those records, [S].
        shadow_member: whether each was in its shadow model's training set, bool [S].
        train_loss: the target's mean training cross-entropy (Yeom et al.'s assumption).
        noise_logits: target outputs on uniform random inputs, [R, C].
        probabilities: False when the three output arrays hold logits; True when they
            hold the prediction API's answers themselves (entries in [0, 1], rows summing
            to at most 1: the defended answers of :mod:`leakbench.attacks.defences`).
            Attacks read them through :meth:`posteriors` and :meth:`losses`.
    """

    logits: np.ndarray
    labels: np.ndarray
    shadow_logits: np.ndarray | None = None
    shadow_labels: np.ndarray | None = None
    shadow_member: np.ndarray | None = None
    train_loss: float | None = None
    noise_logits: np.ndarray | None = None
    probabilities: bool = False

    def posteriors(self, outputs: np.ndarray) -> np.ndarray:
        """The prediction vectors of ``outputs`` (one of the output fields), float64
        [rows, C]: softmax(z) of logits, the answers themselves when :attr:`probabilities`."""
        if self.probabilities:
            return np.asarray(outputs, dtype=np.float64)
        return softmax(outputs)

    def losses(self, outputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Per-record cross-entropy -log p_y of ``outputs`` on ``labels``, float64 [rows]:
        :func:`cross_entropy` of logits; of answers, -log max(p_y, :data:`LOSS_FLOOR`) (a
        defended answer may give the true class probability 0)."""
        if not self.probabilities:
            return cross_entropy(outputs, labels)
        return answer_losses(outputs, labels)

    def __post_init__(self) -> None:
        logits = _outputs("logits", self.logits)
        rows, classes = logits.shape
        _labels("labels", self.labels, rows, classes)
        shadows = (self.shadow_logits, self.shadow_labels, self.shadow_member)
        if any(part is None for part in shadows) and any(part is not None for part in shadows):
            raise ConfigError(
                "shadow_logits, shadow_labels, shadow_member: only some are given; allowed: "
                "all three or none"
            )
        if self.shadow_logits is not None:
            shadow = _outputs("shadow_logits", self.shadow_logits, classes)
            _labels("shadow_labels", self.shadow_labels, shadow.shape[0], classes)
            member = np.asarray(self.shadow_member)
            if member.shape != (shadow.shape[0],) or member.dtype != bool:
                raise ConfigError(
                    f"shadow_member: shape {member.shape} and dtype {member.dtype} are not "
                    f"allowed; allowed: booleans of shape ({shadow.shape[0]},)"
                )
        if self.train_loss is not None and (
            isinstance(self.train_loss, bool)
            or not isinstance(self.train_loss, numbers.Real)
            or not math.isfinite(self.train_loss)
            or self.train_loss < 0
        ):
            raise ConfigError(
                f"train_loss: {self.train_loss!r} is not allowed; allowed: a finite number "
                ">= 0 (a mean cross-entropy)"
            )
        if self.noise_logits is not None:
            _outputs("noise_logits", self.noise_logits, classes)
        if self.probabilities:
            for name in ("logits", "shadow_logits", "noise_logits"):
                _answers(name, getattr(self, name))


@dataclass(frozen=True, eq=False)
class AttackResult:
    """What an attack returns for the N evaluated records.

    Attributes:
        scores: float64 [N]; higher means more likely a member.
        predictions: bool [N]; the attack's own decision.
        threshold: the score threshold behind ``predictions`` (may be +-inf).
    """

    scores: np.ndarray
    predictions: np.ndarray
    threshold: float

    def __post_init__(self) -> None:
        scores, predictions = np.asarray(self.scores), np.asarray(self.predictions)
        if scores.ndim != 1 or scores.dtype != np.float64:
            raise ConfigError(
                f"scores: shape {scores.shape} and dtype {scores.dtype} are not allowed; "
                "allowed: float64 of shape [N]"
            )
        if predictions.shape != scores.shape or predictions.dtype != bool:
            raise ConfigError(
                f"predictions: shape {predictions.shape} and dtype {predictions.dtype} are "
                f"not allowed; allowed: bool of shape {scores.shape}"
            )


@dataclass(frozen=True)
class AttackSpec:
    """A registered attack.

    Attributes:
        name: the name configs use.
        run: ``run(inp: AttackInput, *, seed: int, **params) -> AttackResult``.
        needs_shadows: whether ``run`` needs the shadow fields of :class:`AttackInput`.
        description: one line for ``leakbench list``.
        reference: the paper and section implemented.
    """

    name: str
    run: Callable[..., AttackResult]
    needs_shadows: bool
    description: str
    reference: str


def positive(key: str, value: object, *, allowed: str = "a finite number > 0") -> float:
    """``value`` as a float if it is a finite real number > 0 (not a bool).

    Raises:
        ConfigError: naming ``key``, the value and ``allowed``.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: {allowed}")
    return float(value)


def check_params(attack: str, params: Mapping[str, object], allowed: tuple[str, ...]) -> None:
    """Refuse parameter names ``attack`` does not take, naming the key and the allowed ones."""
    for key in params:
        if key not in allowed:
            raise ConfigError(
                f"attack_params.{attack}.{key}: unknown parameter {key!r} of attack "
                f"{attack!r}; allowed: {', '.join(allowed) or 'none (it takes no parameters)'}"
            )


def require(attack: str, **fields: object) -> None:
    """Refuse an :class:`AttackInput` that lacks a field ``attack`` needs."""
    for key, value in fields.items():
        if value is None:
            raise ConfigError(
                f"{key}: None is not allowed; the {attack!r} attack needs it (see AttackInput)"
            )


# --- posteriors ------------------------------------------------------------------------------


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log softmax in float64: log softmax(z)_c = (z_c - m) - log sum_j exp(z_j - m).

    m = max_j z_j. Subtracting the row maximum first keeps every exponent <= 0, so nothing
    overflows and the largest term of the sum is exactly 1 (no log of 0).

    Args:
        logits: [N, C] model outputs (any real dtype; float32 is widened first).

    Returns:
        float64 [N, C].
    """
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax(z)_c = exp(z_c) / sum_j exp(z_j), computed as exp(log_softmax(z)).

    Args:
        logits: [N, C] model outputs.

    Returns:
        float64 [N, C], rows summing to 1.
    """
    return np.exp(log_softmax(logits))


def answer_losses(answers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-record cross-entropy of prediction-API answers, -log max(p_y, LOSS_FLOOR),
    float64 [N]; the floor keeps a defended answer that gives the true class 0 finite.

    Args:
        answers: [N, C] prediction vectors (entries in [0, 1]).
        labels: [N] integer labels in [0, C).
    """
    true = np.asarray(answers, dtype=np.float64)[np.arange(len(labels)), np.asarray(labels)]
    return -np.log(np.maximum(true, LOSS_FLOOR))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-record cross-entropy l(z, y) = -log softmax(z)_y, float64 [N].

    Args:
        logits: [N, C] model outputs.
        labels: [N] integer labels in [0, C).
    """
    rows = np.arange(len(labels))
    return -log_softmax(logits)[rows, np.asarray(labels)]
