"""Wide residual networks for 32x32 colour images (CIFAR), with GroupNorm.

Zagoruyko and Komodakis 2016, "Wide Residual Networks" (BMVC), section 2 and table 1: a
3x3 stem convolution with 16 filters, then three groups of N = (depth - 4) / 6
pre-activation blocks on 16k, 32k and 64k channels (k the widening factor, stride 2 into
the second and third group), a final normalisation and ReLU, global average pooling and one
linear layer. Each block is norm - ReLU - 3x3 conv - norm - ReLU - 3x3 conv, added to its
input; where the width or the stride changes, the shortcut is a 1x1 convolution of the
block's pre-activated input. WRN-16-4 (depth 16, k = 4) is the default; the LiRA
reference code (Carlini et al. 2022) trains the same family (WRN-28-2 there).

Batch normalisation is replaced by group normalisation, for the reason
:mod:`leakbench.models.resnet` gives (a record's gradient must not depend on the other
records of its batch, for per-sample clipping). Convolutions have no bias; the
normalisation that follows each one shifts instead.
"""

from __future__ import annotations

import torch
from torch import nn

from leakbench.errors import ConfigError
from leakbench.models.checks import positive_int
from leakbench.models.registry import register_architecture


class WideBlock(nn.Module):
    """One pre-activation block (Zagoruyko and Komodakis 2016, figure 1(c) without dropout).

    Args:
        channels_in: input channels.
        channels_out: output channels.
        stride: 1, or 2 where the group halves height and width.
        groups: GroupNorm groups (divides both channel counts).
    """

    def __init__(self, channels_in: int, channels_out: int, stride: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, channels_in)
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False)
        self.norm2 = nn.GroupNorm(groups, channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False)
        self.shortcut = (
            nn.Conv2d(channels_in, channels_out, 1, stride=stride, bias=False)
            if channels_in != channels_out or stride != 1
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, channels_in, H, W] -> [B, channels_out, ceil(H / stride), ceil(W / stride)]``."""
        activated = torch.relu(self.norm1(x))
        out = self.conv2(torch.relu(self.norm2(self.conv1(activated))))
        return out + (x if self.shortcut is None else self.shortcut(activated))


@register_architecture(
    "wrn",
    description="Wide ResNet (Zagoruyko and Komodakis 2016), WRN-16-4 by default, GroupNorm",
    example={
        "arch_params": {"depth": 10, "width": 1, "base_channels": 4, "groups": 2},
        "input_shape": [3, 8, 8],
        "num_classes": 3,
    },
)
def wrn(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    depth: int = 16,
    width: int = 4,
    base_channels: int = 16,
    groups: int = 16,
) -> nn.Sequential:
    """WRN-depth-width: stem convolution, three groups of (depth - 4) / 6 wide blocks on
    ``base_channels`` x width x 1, 2, 4 channels, GroupNorm, ReLU, global average pooling,
    linear.

    The defaults are WRN-16-4 (64/128/256 channels, two blocks per group): 2,748,890
    parameters for 10 classes (the paper lists 2.7M for WRN-16-4). Convolution weights are
    drawn as the WRN authors' code draws them: normal with standard deviation
    sqrt(2 / (kernel height x kernel width x output channels)), He et al.'s (2015, "Delving
    deep into rectifiers", section 2.2) rule on the fan-out; GroupNorm starts at scale 1
    and shift 0, the linear layer at torch's default.

    Args:
        input_shape: ``[3, height, width]``, e.g. CIFAR's [3, 32, 32].
        num_classes: output logits.
        depth: 6N + 4 for N >= 1 blocks per group (16 for WRN-16-k, 28 for WRN-28-k).
        width: the widening factor k.
        base_channels: channels of the stem; the groups have base x k x 1, 2, 4 (16 in
            the paper).
        groups: GroupNorm groups in every normalisation; divides ``base_channels``.

    Raises:
        ConfigError: for an input shape other than [3, H, W], a non-positive parameter, a
            depth not of the form 6N + 4, or ``groups`` not dividing ``base_channels``.
    """
    if len(input_shape) != 3 or input_shape[0] != 3:
        raise ConfigError(
            f"input_shape: {list(input_shape)} is not allowed for arch 'wrn'; "
            "allowed: a colour image shape [3, height, width]"
        )
    depth = positive_int("arch_params.depth", depth)
    width = positive_int("arch_params.width", width)
    base = positive_int("arch_params.base_channels", base_channels)
    groups = positive_int("arch_params.groups", groups)
    if depth < 10 or (depth - 4) % 6:
        raise ConfigError(
            f"arch_params.depth: {depth} is not allowed; allowed: 6N + 4 with N >= 1 "
            "(10, 16, 22, 28, ...)"
        )
    if base % groups:
        raise ConfigError(
            f"arch_params.groups: {groups} is not allowed with base_channels {base}; "
            f"allowed: a divisor of {base}"
        )
    blocks = (depth - 4) // 6
    layers: list[nn.Module] = [nn.Conv2d(3, base, 3, padding=1, bias=False)]
    channels = base
    for stage in range(3):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(WideBlock(channels, base * width * 2**stage, stride, groups))
            channels = base * width * 2**stage
    layers += [
        nn.GroupNorm(groups, channels),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, num_classes),
    ]
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    return model
