"""Fully connected architectures: logistic regression and the ReLU multilayer perceptron."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from torch import nn

from leakbench.models.checks import positive_sizes


def logreg(*, input_shape: tuple[int, ...], num_classes: int) -> nn.Sequential:
    """Multinomial logistic regression: one linear layer on the flattened input.

    The softmax is left to the loss (cross-entropy on logits), as for every architecture.
    """
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))


def mlp(
    *, input_shape: tuple[int, ...], num_classes: int, hidden: Sequence[int] = (64, 64)
) -> nn.Sequential:
    """Multilayer perceptron: Linear-ReLU per entry of ``hidden``, then a linear output layer.

    The default [64, 64] is a small tabular model (Adult); the Purchase-shaped benchmark
    model uses [1024, 512, 256, 128]. Image input is flattened first.
    """
    widths = [math.prod(input_shape), *positive_sizes("arch_params.hidden", hidden)]
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in itertools.pairwise(widths):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], num_classes))
