"""The architectures configs can name, :func:`register_architecture` and :func:`build_model`.

A builder is declared once, beside its code, with ``@register_architecture(...)``; the
package's ``__init__`` imports every builder module, so importing :mod:`leakbench.models`
fills :data:`ARCHITECTURES`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from leakbench.errors import ConfigError, UnknownNameError
from leakbench.models.checks import is_positive_int

INPUTS = ("float", "tokens")
"""What a model takes: float32 records, or int64 token ids in ``[0, vocab)``."""

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class Architecture:
    """A registered architecture.

    Attributes:
        name: the name configs use (``arch``).
        build: ``build(*, input_shape, num_classes, **params) -> nn.Module``; one model,
            initialised from torch's global RNG.
        description: one line for ``leakbench list``.
        inputs: ``"float"`` (float32 records ``[B, *input_shape]``) or ``"tokens"`` (int64
            token ids ``[B, seq_len]`` in ``[0, vocab)``, ``vocab`` being an arch param).
        example: a tiny instance for tests and the trainer's equivalence harness:
            ``{"arch_params": {...}, "input_shape": [...], "num_classes": int}``.
    """

    name: str
    build: Builder
    description: str
    inputs: str
    example: dict[str, Any]

    @property
    def params(self) -> tuple[str, ...]:
        """The keyword parameters ``arch_params`` may set."""
        signature = inspect.signature(self.build).parameters
        return tuple(p for p in signature if p not in ("input_shape", "num_classes"))

    @property
    def required(self) -> tuple[str, ...]:
        """The parameters ``arch_params`` must set (those without a default)."""
        signature = inspect.signature(self.build).parameters
        return tuple(p for p in self.params if signature[p].default is inspect.Parameter.empty)


ARCHITECTURES: dict[str, Architecture] = {}


def register_architecture(
    name: str, *, description: str, example: Mapping[str, Any], inputs: str = "float"
) -> Callable[[Builder], Builder]:
    """Decorator: register ``build`` under ``name`` in :data:`ARCHITECTURES`.

    Args:
        name: the name configs use.
        description: one line for ``leakbench list``.
        example: ``arch_params``, ``input_shape`` and ``num_classes`` of a tiny instance.
        inputs: one of :data:`INPUTS`.

    Raises:
        ConfigError: for a name registered twice, an unknown ``inputs`` or an example
            without exactly the keys arch_params, input_shape, num_classes.
    """
    if name in ARCHITECTURES:
        raise ConfigError(f"arch: {name!r} is not allowed; allowed: a name not yet registered")
    if inputs not in INPUTS:
        raise ConfigError(f"inputs: {inputs!r} is not allowed; allowed: {', '.join(INPUTS)}")
    keys = ("arch_params", "input_shape", "num_classes")
    if sorted(example) != sorted(keys):
        raise ConfigError(
            f"example: keys {sorted(example)} are not allowed; allowed: {', '.join(keys)}"
        )

    def register(build: Builder) -> Builder:
        ARCHITECTURES[name] = Architecture(name, build, description, inputs, dict(example))
        return build

    return register


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
) -> nn.Module:
    """Build one model of architecture ``name``, initialised from torch's global RNG.

    Every parameter and the input shape are checked before a layer is built.

    Args:
        name: a key of :data:`ARCHITECTURES`.
        input_shape: shape of one input record, e.g. ``(108,)``, ``(1, 28, 28)``, or
            ``(seq_len,)`` for token models.
        num_classes: number of output logits (at least 2).
        **params: the architecture's parameters (:attr:`Architecture.params`).

    Raises:
        UnknownNameError: for an unregistered architecture.
        ConfigError: for a parameter the architecture does not take, a required one left
            out, a bad parameter value, a bad input shape or fewer than two classes.
    """
    arch = get_architecture(name)
    for key in params:
        if key not in arch.params:
            raise ConfigError(
                f"arch_params.{key}: not a parameter of arch {name!r}; "
                f"allowed: {', '.join(arch.params) or 'none'}"
            )
    missing = [key for key in arch.required if key not in params]
    if missing:
        raise ConfigError(
            f"arch_params: {dict(params)!r} is not allowed for arch {name!r}; "
            f"allowed: a mapping that sets {', '.join(missing)}"
        )
    shape = tuple(input_shape)
    if not shape or not all(is_positive_int(d) for d in shape):
        raise ConfigError(
            f"input_shape: {list(shape)} is not allowed; allowed: a non-empty list of integers >= 1"
        )
    if not is_positive_int(num_classes) or num_classes < 2:
        raise ConfigError(f"num_classes: {num_classes!r} is not allowed; allowed: an integer >= 2")
    return arch.build(input_shape=shape, num_classes=num_classes, **params)
