"""A small convolutional network for 28x28 grey-scale images (MNIST, Fashion-MNIST)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from torch import nn

from leakbench.errors import ConfigError
from leakbench.models.checks import positive_sizes
from leakbench.models.registry import register_architecture


@register_architecture(
    "cnn",
    description="conv-ReLU-maxpool per channel count, then linear; param channels",
    example={"arch_params": {"channels": [2, 3]}, "input_shape": [1, 8, 8], "num_classes": 3},
)
def cnn(
    *, input_shape: tuple[int, ...], num_classes: int, channels: Sequence[int] = (16, 32)
) -> nn.Sequential:
    """Convolutional network: per entry of ``channels`` a 3x3 convolution (padding 1), ReLU
    and 2x2 max-pooling, then one linear layer on the flattened feature map.

    With the default channels [16, 32] a [1, 28, 28] input becomes [32, 7, 7] before the
    linear layer.

    Raises:
        ConfigError: if ``input_shape`` is not [channels, height, width] or the pooling
            shrinks it to nothing.
    """
    if len(input_shape) != 3:
        raise ConfigError(
            f"input_shape: {list(input_shape)} is not allowed for arch 'cnn'; "
            "allowed: an image shape [channels, height, width]"
        )
    sizes = [input_shape[0], *positive_sizes("arch_params.channels", channels)]
    height, width = input_shape[1], input_shape[2]
    layers: list[nn.Module] = []
    for c_in, c_out in itertools.pairwise(sizes):
        layers += [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        height, width = height // 2, width // 2
    if height < 1 or width < 1:
        raise ConfigError(
            f"arch_params.channels: {list(channels)} is not allowed for input {list(input_shape)}; "
            f"allowed: at most {_max_pools(input_shape)} layers (each halves height and width)"
        )
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(sizes[-1] * height * width, num_classes))


def _max_pools(input_shape: tuple[int, ...]) -> int:
    side, count = min(input_shape[1:]), 0
    while side >= 2:
        side, count = side // 2, count + 1
    return count
