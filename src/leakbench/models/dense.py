"""Fully connected architectures: logistic regression and the multilayer perceptron."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence

from torch import nn

from leakbench.errors import ConfigError
from leakbench.models.checks import one_of, positive_sizes
from leakbench.models.registry import register_architecture

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}
"""The hidden-layer nonlinearities ``mlp`` takes (``arch_params.activation``)."""


@register_architecture(
    "logreg",
    description="multinomial logistic regression (one linear layer)",
    example={"arch_params": {}, "input_shape": [6], "num_classes": 3},
)
def logreg(*, input_shape: tuple[int, ...], num_classes: int) -> nn.Sequential:
    """Multinomial logistic regression: one linear layer on the flattened input.

    The softmax is left to the loss (cross-entropy on logits), as for every architecture.
    """
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))


@register_architecture(
    "mlp",
    description="multilayer perceptron; params hidden (default [64, 64]), activation, dropout",
    example={
        "arch_params": {"hidden": [8, 5], "activation": "tanh"},
        "input_shape": [6],
        "num_classes": 3,
    },
)
def mlp(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    hidden: Sequence[int] = (64, 64),
    activation: str = "relu",
    dropout: float = 0.0,
) -> nn.Sequential:
    """Multilayer perceptron: Linear and ``activation`` per entry of ``hidden``, then a
    linear output layer.

    The default [64, 64] ReLU net is a small tabular model (Adult); the Purchase-shaped
    benchmark model uses [1024, 512, 256, 128], with Tanh in Nasr et al. (2018, "Machine
    learning with membership privacy using adversarial regularization"). Image input is
    flattened first.

    ``dropout`` p > 0 adds ``nn.Dropout(p)`` after each hidden activation (Srivastava et
    al. 2014), the training-time defence Shokri et al. 2017 (section VIII-B) name beside L2
    regularisation; p = 0 builds no dropout layer.

    Raises:
        ConfigError: for bad ``hidden`` sizes, an ``activation`` not in
            :data:`ACTIVATIONS`, or a ``dropout`` outside [0, 1).
    """
    widths = [math.prod(input_shape), *positive_sizes("arch_params.hidden", hidden)]
    act = ACTIVATIONS[one_of("arch_params.activation", activation, tuple(ACTIVATIONS))]
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ConfigError(
            f"arch_params.dropout: {dropout!r} is not allowed; allowed: a number 0 <= p < 1"
        )
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in itertools.pairwise(widths):
        layers += [nn.Linear(fan_in, fan_out), act()]
        if dropout > 0:
            layers.append(nn.Dropout(float(dropout)))
    return nn.Sequential(*layers, nn.Linear(widths[-1], num_classes))
