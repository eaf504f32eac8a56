"""Per-record signals computed from one model's logits: what reference-model attacks compare.

A signal maps one model's logits z (C classes) on a record with true label y to one float64.
:data:`SIGNALS` registers them by the names configs use; a :class:`SignalSpec` names one
signal with its parameters, and its :attr:`SignalSpec.key` is the name it is stored under
(so two temperatures of ``prob_t`` are two stored arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from leakbench.attacks.base import positive
from leakbench.errors import ConfigError, UnknownNameError


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis in float64, the row maximum subtracted first."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _true(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """values[i, q, labels[i]] for values [n, Q, C]: the true class's entry, [n, Q]."""
    return np.take_along_axis(values, labels[:, None, None], axis=-1)[..., 0]


def phi(*, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The logit-scaled confidence of Carlini et al. 2022, "Membership Inference Attacks From
    First Principles" (IEEE S&P), section IV ("logit scaling" of the model's confidence).

    phi = log(p_y / (1 - p_y)) with p = softmax(z), computed without forming p:
    1 - p_y = sum_{y' != y} p_{y'}, so phi = z_y - logsumexp_{y' != y} z_{y'}. The
    logsumexp subtracts the largest other logit first, so nothing overflows and a confident
    record (p_y rounding to 1 in float64) still gets a finite, exact phi.

    Args:
        logits: float [n, Q, C], C >= 2.
        labels: int [n].

    Returns:
        float64 [n, Q].
    """
    others = logits.copy()
    np.put_along_axis(others, labels[:, None, None], -np.inf, axis=-1)
    top = others.max(axis=-1, keepdims=True)
    lse = top[..., 0] + np.log(np.exp(others - top).sum(axis=-1))
    return _true(logits, labels) - lse


def loss(*, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cross-entropy -log softmax(z)_y (Yeom et al. 2018, IEEE CSF, section 3.2), [n, Q]."""
    return -_true(_log_softmax(logits), labels)


def confidence(*, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """softmax(z)_y, the model's probability of the true label, [n, Q]."""
    return np.exp(_true(_log_softmax(logits), labels))


def prob_t(*, logits: np.ndarray, labels: np.ndarray, temperature: float) -> np.ndarray:
    """Pr(x | theta) of Zarifzadeh et al. 2024, "Low-Cost High-Power Membership Inference
    Attacks" (ICML), section 3: softmax(z / T)_y, the true label's probability at
    temperature T (their appendix on signals; T > 1 flattens the distribution). [n, Q]."""
    return np.exp(_true(_log_softmax(logits / temperature), labels))


@dataclass(frozen=True)
class SignalKind:
    """A registered signal.

    Attributes:
        name: the name configs use.
        compute: ``compute(*, logits, labels, **params) -> float64 [n, Q]``.
        params: the parameter names it takes (each required).
        description: one line.
    """

    name: str
    compute: Callable[..., np.ndarray]
    params: tuple[str, ...]
    description: str


SIGNALS: dict[str, SignalKind] = {
    kind.name: kind
    for kind in (
        SignalKind("phi", phi, (), "logit-scaled confidence z_y - logsumexp_{y' != y} z_y'"),
        SignalKind("loss", loss, (), "cross-entropy -log softmax(z)_y"),
        SignalKind("confidence", confidence, (), "softmax(z)_y"),
        SignalKind("prob_t", prob_t, ("temperature",), "softmax(z / T)_y (RMIA's Pr(x|theta))"),
    )
}


@dataclass(frozen=True)
class SignalSpec:
    """One signal with its parameters.

    Attributes:
        name: a key of :data:`SIGNALS`.
        temperature: T of ``prob_t``; None for the others.

    Raises:
        UnknownNameError: for a name not in :data:`SIGNALS` (key ``signal``).
        ConfigError: for a temperature that is missing, not > 0, or given to a signal that
            takes none.
    """

    name: str
    temperature: float | None = None

    def __post_init__(self) -> None:
        if self.name not in SIGNALS:
            raise UnknownNameError("signal", self.name, SIGNALS)
        if "temperature" in SIGNALS[self.name].params:
            object.__setattr__(self, "temperature", positive("temperature", self.temperature))
        elif self.temperature is not None:
            raise ConfigError(
                f"temperature: {self.temperature!r} is not allowed for signal {self.name!r}; "
                "allowed: None (only prob_t takes a temperature)"
            )

    @property
    def key(self) -> str:
        """The storage name: the signal's name, with ``_T<temperature>`` for ``prob_t``."""
        if self.temperature is None:
            return self.name
        return f"{self.name}_T{self.temperature:g}"

    def params(self) -> dict[str, float]:
        """The keyword parameters of the signal's ``compute``."""
        return {} if self.temperature is None else {"temperature": self.temperature}


def compute_signals(
    *, logits: np.ndarray, labels: np.ndarray, specs: Mapping[str, SignalSpec]
) -> dict[str, np.ndarray]:
    """Every signal in ``specs`` from ONE model's logits.

    Args:
        logits: [n, Q, C] outputs of one model, Q queries per record, C >= 2 classes (any
            real dtype; widened to float64 first).
        labels: int [n], true labels in [0, C).
        specs: storage name -> signal (as :func:`leakbench.attacks.reference.required_signals`
            returns).

    Returns:
        {storage name: float64 [n, Q]}.

    Raises:
        ConfigError: on a bad shape, dtype, label range or non-finite logits.
    """
    z = np.asarray(logits)
    y = np.asarray(labels)
    if z.ndim != 3 or z.shape[0] == 0 or z.shape[1] == 0 or z.shape[2] < 2:
        raise ConfigError(
            f"logits: shape {z.shape} is not allowed; allowed: [n, Q, C], n, Q >= 1, C >= 2"
        )
    if z.dtype.kind not in "iuf" or not np.isfinite(z).all():
        raise ConfigError("logits: contains non-finite or non-numeric values; allowed: reals")
    if y.shape != (z.shape[0],) or y.dtype.kind not in "iu":
        raise ConfigError(
            f"labels: shape {y.shape} and dtype {y.dtype} are not allowed; allowed: integers "
            f"of shape ({z.shape[0]},)"
        )
    if y.min() < 0 or y.max() >= z.shape[2]:
        raise ConfigError(
            f"labels: range [{y.min()}, {y.max()}] is not allowed; allowed: 0 .. {z.shape[2] - 1}"
        )
    z64 = z.astype(np.float64)
    y64 = y.astype(np.int64)
    return {
        key: SIGNALS[spec.name].compute(logits=z64, labels=y64, **spec.params())
        for key, spec in specs.items()
    }
