"""Model architectures, registered by the names configs use.

Each builder returns a plain single-model ``torch.nn.Module``; the stacked trainer
(:mod:`leakbench.training.stacked`) runs K copies of it at once with ``torch.func``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from leakbench.errors import ConfigError, UnknownNameError


def _sizes(key: str, value: Any) -> list[int]:
    if not isinstance(value, Sequence) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
    ):
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: a list of integers >= 1")
    return list(value)


def logreg(*, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """Multinomial logistic regression: one linear layer on the flattened input."""
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))


def mlp(
    *, input_shape: tuple[int, ...], num_classes: int, hidden: Sequence[int] = (64, 64)
) -> nn.Module:
    """Fully connected network with ReLU activations (Shokri et al. 2017, section IV-B)."""
    widths = [math.prod(input_shape), *_sizes("arch_params.hidden", hidden)]
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], num_classes))


def cnn(
    *, input_shape: tuple[int, ...], num_classes: int, channels: Sequence[int] = (16, 32)
) -> nn.Module:
    """Small CNN for images [C, H, W]: (3x3 conv, ReLU, 2x2 max-pool) per entry of channels."""
    if len(input_shape) != 3:
        raise ConfigError(
            f"arch: 'cnn' needs image input [channels, height, width]; got shape {input_shape}"
        )
    chans = [input_shape[0], *_sizes("arch_params.channels", channels)]
    height, width = input_shape[1:]
    layers: list[nn.Module] = []
    for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        height, width = height // 2, width // 2
    if height < 1 or width < 1:
        raise ConfigError(f"arch_params.channels: {list(channels)} pools {input_shape} to nothing")
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(chans[-1] * height * width, num_classes))


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: its builder and the keyword parameters it accepts."""

    name: str
    build: Callable[..., nn.Module]
    params: tuple[str, ...]


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("logreg", logreg, ()),
        Architecture("mlp", mlp, ("hidden",)),
        Architecture("cnn", cnn, ("channels",)),
    )
}


def build_model(
    name: str, *, input_shape: tuple[int, ...], num_classes: int, **params: Any
) -> nn.Module:
    """Build one model of architecture ``name`` with the current torch RNG state.

    Raises:
        UnknownNameError: for an unregistered architecture.
        ConfigError: for a parameter the architecture does not take, or a bad value.
    """
    if name not in ARCHITECTURES:
        raise UnknownNameError("arch", name, ARCHITECTURES)
    arch = ARCHITECTURES[name]
    for key in params:
        if key not in arch.params:
            allowed = ", ".join(arch.params) or "none"
            raise ConfigError(
                f"arch_params.{key}: not a parameter of {name!r}; allowed: {allowed}"
            )
    return arch.build(input_shape=tuple(input_shape), num_classes=num_classes, **params)

