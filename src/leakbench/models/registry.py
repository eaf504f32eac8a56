"""The architectures configs can name, and :func:`build_model`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from leakbench.errors import ConfigError, UnknownNameError
from leakbench.models.checks import is_positive_int
from leakbench.models.conv import cnn
from leakbench.models.dense import logreg, mlp


@dataclass(frozen=True)
class Architecture:
    """A registered architecture.

    Attributes:
        name: the name configs use (``arch``).
        build: ``build(*, input_shape, num_classes, **params) -> nn.Sequential``.
        description: one line for ``leakbench list``.
    """

    name: str
    build: Callable[..., nn.Sequential]
    description: str

    @property
    def params(self) -> tuple[str, ...]:
        """The keyword parameters ``arch_params`` may set."""
        signature = inspect.signature(self.build).parameters
        return tuple(p for p in signature if p not in ("input_shape", "num_classes"))


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("logreg", logreg, "multinomial logistic regression (one linear layer)"),
        Architecture("mlp", mlp, "ReLU multilayer perceptron; param hidden (default [64, 64])"),
        Architecture(
            "cnn", cnn, "conv-ReLU-maxpool per channel count, then linear; param channels"
        ),
    )
}


def get_architecture(name: str) -> Architecture:
    """The registered architecture ``name``.

    Raises:
        UnknownNameError: naming ``arch`` and the registered names.
    """
    if name not in ARCHITECTURES:
        raise UnknownNameError("arch", name, ARCHITECTURES)
    return ARCHITECTURES[name]


def build_model(
    name: str, *, input_shape: tuple[int, ...], num_classes: int, **params: Any
) -> nn.Sequential:
    """Build one model of architecture ``name``, initialised from torch's global RNG.

    Args:
        name: a key of :data:`ARCHITECTURES`.
        input_shape: shape of one input record, e.g. ``(108,)`` or ``(1, 28, 28)``.
        num_classes: number of output logits (at least 2).
        **params: the architecture's parameters (``hidden`` for mlp, ``channels`` for cnn).

    Raises:
        UnknownNameError: for an unregistered architecture.
        ConfigError: for a parameter the architecture does not take, a bad parameter value,
            a bad input shape or fewer than two classes.
    """
    arch = get_architecture(name)
    for key in params:
        if key not in arch.params:
            raise ConfigError(
                f"arch_params.{key}: not a parameter of arch {name!r}; "
                f"allowed: {', '.join(arch.params) or 'none'}"
            )
    shape = tuple(input_shape)
    if not shape or not all(is_positive_int(d) for d in shape):
        raise ConfigError(
            f"input_shape: {list(shape)} is not allowed; allowed: a non-empty list of integers >= 1"
        )
    if not is_positive_int(num_classes) or num_classes < 2:
        raise ConfigError(f"num_classes: {num_classes!r} is not allowed; allowed: an integer >= 2")
    return arch.build(input_shape=shape, num_classes=num_classes, **params)
