"""Output defences of Shokri et al. 2017 (IEEE S&P), section VIII-A, "Mitigation
strategies": post-processing of every answer the prediction API gives.

The API answers with a prediction vector; a defence changes what that vector shows. It
applies to every answer alike (the target's and, since the adversary knows the API, the
shadow models'), so it needs no retraining. Each function below takes a model's logits
``z`` ``[N, C]`` (or the prediction vectors ``p = softmax(z)``) and returns the defended
answers, float64 ``[N, C]`` with entries in [0, 1] and rows summing to at most 1:
top-k and rounding are not renormalised, as in the paper, where the top-1 answer still
reports the most likely class's probability.

Ties (equal probabilities) go to the lower class index, as ``numpy.argsort`` with a
stable sort and ``numpy.argmax`` order them.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from leakbench.attacks.base import positive, softmax
from leakbench.errors import ConfigError

ROUNDING_SLACK = 1e-9
"""Added to p * 10^d before flooring, so that a probability that is a d-digit decimal up
to float error (0.3 stored as 0.29999999999999999) is kept, not rounded one step down."""


def top_k(probs: np.ndarray, *, k: int) -> np.ndarray:
    """Restrict the prediction vector to its top k classes (section VIII-A): keep the k
    largest probabilities of each row and set the others to 0, without renormalising:
    q_c = p_c if c is among the k most likely classes, else 0.

    Example: p = (0.1, 0.5, 0.15, 0.25), k = 2 -> q = (0, 0.5, 0, 0.25).
    """
    p = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-p, axis=1, kind="stable")[:, :k]
    out = np.zeros_like(p)
    rows = np.arange(p.shape[0])[:, None]
    out[rows, order] = p[rows, order]
    return out


def round_down(probs: np.ndarray, *, d: int) -> np.ndarray:
    """Coarsen the precision of the prediction vector (section VIII-A): "round the
    classification probabilities in the prediction vector down to d floating point
    digits", q_c = floor(p_c * 10^d) / 10^d (with :data:`ROUNDING_SLACK`), not
    renormalised; d = 0 leaves 1 for a certain class and 0 elsewhere.

    Example: p = (0.1234, 0.8766), d = 2 -> q = (0.12, 0.87).
    """
    scale = 10.0**d
    return np.floor(np.asarray(probs, dtype=np.float64) * scale + ROUNDING_SLACK) / scale


def temperature(logits: np.ndarray, *, t: float) -> np.ndarray:
    """Increase the entropy of the prediction vector (section VIII-A): the softmax at
    normalising temperature t, q_c = exp(z_c / t) / sum_j exp(z_j / t); t > 1 flattens it,
    t = 1 is the plain softmax.

    Example: z = (0, ln 4), t = 2 -> q = (1/3, 2/3).
    """
    return softmax(np.asarray(logits, dtype=np.float64) / t)


def label_only(probs: np.ndarray) -> np.ndarray:
    """Return only the label (section VIII-A, the extreme case of top-k: "the model
    returns only the label of the most likely class without reporting its probability"):
    q = one-hot of argmax_c p_c.

    Example: p = (0.2, 0.7, 0.1) -> q = (0, 1, 0).
    """
    p = np.asarray(probs, dtype=np.float64)
    out = np.zeros_like(p)
    out[np.arange(p.shape[0]), p.argmax(axis=1)] = 1.0
    return out


PARAMS: dict[str, str | None] = {
    "top_k": "k",
    "round": "d",
    "temperature": "t",
    "label_only": None,
}
"""Each output defence by the name configs use, with the one parameter it takes."""


NONE = "none"
"""The undefended API (answers softmax(z)), the baseline every defence job runs first;
not a configurable defence."""


@dataclass(frozen=True)
class OutputDefence:
    """One output defence: its name (a key of :data:`PARAMS`, or :data:`NONE`) and
    parameter (None for ``label_only`` and ``none``)."""

    name: str
    param: float | None = None

    @property
    def label(self) -> str:
        """How tables name it: ``top3``, ``round2``, ``temperature5``, ``label_only``,
        ``none``."""
        if self.param is None:
            return self.name
        value = int(self.param) if float(self.param).is_integer() else self.param
        return f"{self.name.removesuffix('_k')}{value}"

    def apply(self, logits: np.ndarray) -> np.ndarray:
        """The defended answers of a model with logits ``logits`` ``[N, C]``."""
        if self.name == "temperature":
            return temperature(logits, t=float(self.param))  # type: ignore[arg-type]
        probs = softmax(logits)
        if self.name == NONE:
            return probs
        if self.name == "top_k":
            return top_k(probs, k=int(self.param))  # type: ignore[arg-type]
        if self.name == "round":
            return round_down(probs, d=int(self.param))  # type: ignore[arg-type]
        return label_only(probs)

    @classmethod
    def parse(cls, entry: Mapping[str, object], *, key: str, classes: int) -> OutputDefence:
        """Check one config entry (``{defence: top_k, k: 3}``; the parameters a defence
        does not take may be absent or null) for a task of ``classes`` classes.

        Raises:
            ConfigError: naming the key, the value and what is allowed, for an unknown
                defence name, a missing or unknown parameter, k outside [1, C], d < 0
                (or not an integer) or t <= 0.
        """
        name = entry.get("defence")
        if not isinstance(name, str) or name not in PARAMS:
            raise ConfigError(
                f"{key}.defence: {name!r} is not allowed; allowed: {', '.join(PARAMS)}"
            )
        param = PARAMS[name]
        extra = sorted(k for k, v in entry.items() if k not in ("defence", param) and v is not None)
        if extra:
            raise ConfigError(
                f"{key}.{extra[0]}: {entry[extra[0]]!r} is not allowed for defence {name!r}; "
                f"allowed: {param or 'no parameter'} (null or absent otherwise)"
            )
        if param is None:
            return cls(name)
        value = entry.get(param)
        if param == "t":
            return cls(name, positive(f"{key}.t", value, allowed="a finite number t > 0"))
        low, high = (1, classes) if param == "k" else (0, None)
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < low
            or (high is not None and value > high)
        ):
            allowed = (
                f"an integer 1 <= k <= {classes} (the classes)"
                if param == "k"
                else ("an integer d >= 0")
            )
            raise ConfigError(f"{key}.{param}: {value!r} is not allowed; allowed: {allowed}")
        return cls(name, int(value))
