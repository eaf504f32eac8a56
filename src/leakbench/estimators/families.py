"""The scikit-learn model families a membership grid row can name, and their parameters.

A family is declared once, beside its code, with :func:`register_family`; the package's
``__init__`` imports every family module, so importing :mod:`leakbench.estimators` fills
:data:`FAMILIES`. A family fits one model and turns it into named arrays (its artifact:
no pickle), and computes logits from those arrays alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from leakbench.errors import ConfigError, UnknownNameError

MISSING_LOGIT = -1.0e4
"""The logit of a class absent from a model's training records: scikit-learn fits only the
classes it sees, so that class's probability is 0; a finite logit whose softmax is 0 in
float32 keeps every attack's arithmetic (losses, log-probabilities) finite."""

Fit = Callable[..., dict[str, np.ndarray]]
"""``fit(*, x, y, num_classes, seed, **params) -> arrays``: one fitted model as arrays, on
float64 records ``x [n, D]`` and labels ``y [n]`` in ``[0, num_classes)``."""

Logits = Callable[[Mapping[str, np.ndarray], np.ndarray], np.ndarray]
"""``logits(arrays, x) -> float64 [N, num_classes]``: softmax of it is the model's
``predict_proba`` over every class."""


@dataclass(frozen=True)
class Param:
    """One parameter of a family: its default and the values allowed.

    Attributes:
        default: the value when ``arch_params`` leaves it out.
        kind: ``"int"`` or ``"float"``.
        minimum: the least value allowed.
        exclusive: True if ``minimum`` itself is not allowed.
    """

    default: float | int
    kind: str
    minimum: float
    exclusive: bool = False

    def allowed(self) -> str:
        """The allowed values, in words."""
        what = "an integer" if self.kind == "int" else "a finite number"
        return f"{what} {'>' if self.exclusive else '>='} {self.minimum:g}"

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is allowed."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.kind == "int" and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        return value > self.minimum if self.exclusive else value >= self.minimum


@dataclass(frozen=True)
class Family:
    """A registered scikit-learn family.

    Attributes:
        name: the name configs use (``arch``).
        description: one line for ``leakbench list``.
        params: ``arch_params`` keys with their defaults and allowed values.
        arrays: the names of the arrays one fitted model is stored as.
        fit: see :data:`Fit`.
        logits: see :data:`Logits`.
    """

    name: str
    description: str
    params: Mapping[str, Param]
    arrays: tuple[str, ...]
    fit: Fit
    logits: Logits


FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES`.

    Raises:
        ConfigError: for a name registered twice.
    """
    if family.name in FAMILIES:
        raise ConfigError(f"arch: {family.name!r} is not allowed; allowed: a new name")
    FAMILIES[family.name] = family
    return family


def is_family(name: str) -> bool:
    """Whether ``name`` is a scikit-learn family (rather than a torch architecture)."""
    return name in FAMILIES


def get_family(name: str) -> Family:
    """The registered family ``name``.

    Raises:
        UnknownNameError: naming ``arch`` and the registered families.
    """
    if name not in FAMILIES:
        raise UnknownNameError("arch", name, FAMILIES)
    return FAMILIES[name]


def family_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` of family ``name`` with its defaults filled in, after checking each.

    Raises:
        UnknownNameError: for an unknown family.
        ConfigError: for a key the family does not take, or a value it does not allow,
            naming ``arch_params.<key>``, the value and what is allowed.
    """
    family = get_family(name)
    for key, value in params.items():
        if key not in family.params:
            raise ConfigError(
                f"arch_params.{key}: not a parameter of arch {name!r}; "
                f"allowed: {', '.join(family.params)}"
            )
        if not family.params[key].accepts(value):
            raise ConfigError(
                f"arch_params.{key}: {value!r} is not allowed; "
                f"allowed: {family.params[key].allowed()}"
            )
    return {key: params.get(key, param.default) for key, param in family.params.items()}


def full_class_rows(
    *, rows: np.ndarray, classes: np.ndarray, num_classes: int, fill: float
) -> np.ndarray:
    """Per-class rows of a model fitted on ``classes`` (sklearn's ``classes_``) spread over
    every class: row j of ``rows`` goes to class ``classes[j]``; a class the model never
    saw gets ``fill``. ``rows``: ``[len(classes), ...]``."""
    out = np.full((num_classes, *rows.shape[1:]), fill, dtype=np.float64)
    out[np.asarray(classes, dtype=np.int64)] = rows
    return out
