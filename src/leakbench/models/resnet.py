"""A ResNet-20-style network for 32x32 colour images (CIFAR), with GroupNorm.

He et al. (2016, "Deep residual learning for image recognition", section 4.2) build their
CIFAR-10 ResNets from a 3x3 convolution with 16 filters, three stages of n basic blocks
(two 3x3 convolutions each) on 16, 32 and 64 filters with stride 2 between stages, global
average pooling and one linear layer: 6n + 2 weighted layers, 20 for n = 3. Shortcuts are
identities, zero-padded where the width doubles (their option A), so they hold no
parameters.

Batch normalisation is replaced by group normalisation (Wu and He 2018, "Group
normalization"): BatchNorm mixes the records of a batch, so a record's gradient depends on
the others and per-sample clipping (DP-SGD) no longer bounds its influence. GroupNorm
normalises each record alone; it is the usual choice for DP training of ResNets (Kurakin
et al. 2022, "Toward training at ImageNet scale with differential privacy"; De et al.
2022, "Unlocking high-accuracy differentially private image classification through
scale", who use 16 groups). Convolutions have no bias: the normalisation's shift takes
its place.
"""

from __future__ import annotations

import torch
from torch import nn

from leakbench.errors import ConfigError
from leakbench.models.checks import positive_int
from leakbench.models.registry import register_architecture


class BasicBlock(nn.Module):
    """Two 3x3 convolutions, each followed by GroupNorm, with ReLU between and after the
    sum with the shortcut (He et al. 2016, figure 2 and section 4.2, option A).

    Args:
        channels_in: input channels.
        channels_out: output channels (``channels_in`` or twice it).
        stride: 1, or 2 where the stage halves height and width.
        groups: GroupNorm groups (divides ``channels_out``).
    """

    def __init__(self, channels_in: int, channels_out: int, stride: int, groups: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False)
        self.norm1 = nn.GroupNorm(groups, channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False)
        self.norm2 = nn.GroupNorm(groups, channels_out)
        self.stride = stride
        self.extra = channels_out - channels_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, channels_in, H, W] -> [B, channels_out, ceil(H / stride), ceil(W / stride)]``."""
        out = torch.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        shortcut = x[:, :, :: self.stride, :: self.stride]
        if self.extra:  # option A: the new channels of the identity are zeros
            shortcut = nn.functional.pad(shortcut, (0, 0, 0, 0, 0, self.extra))
        return torch.relu(out + shortcut)


@register_architecture(
    "resnet20",
    description="ResNet-20 (He et al. 2016) with GroupNorm, for [3, H, W] images",
    example={
        "arch_params": {"base_channels": 4, "groups": 2, "blocks": 1},
        "input_shape": [3, 8, 8],
        "num_classes": 3,
    },
)
def resnet20(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    base_channels: int = 16,
    groups: int = 16,
    blocks: int = 3,
) -> nn.Sequential:
    """ResNet-20-style network: stem convolution, three stages of ``blocks`` basic blocks
    on ``base_channels`` x 1, 2, 4 channels, global average pooling, linear.

    The defaults are the paper's ResNet-20 (16/32/64 channels, n = 3): 269,722
    parameters for 10 classes. Convolution weights are drawn as in He et al. (2015,
    "Delving deep into rectifiers", section 2.2), which section 4.2 cites; GroupNorm
    starts at scale 1 and shift 0, the linear layer at torch's default.

    Args:
        input_shape: ``[3, height, width]``, e.g. CIFAR's [3, 32, 32].
        num_classes: output logits.
        base_channels: channels of the stem and the first stage (16 in the paper).
        groups: GroupNorm groups in every normalisation; divides ``base_channels``.
        blocks: basic blocks per stage (the paper's n; depth 6n + 2).

    Raises:
        ConfigError: for an input shape other than [3, H, W], a non-positive parameter or
            ``groups`` not dividing ``base_channels``.
    """
    if len(input_shape) != 3 or input_shape[0] != 3:
        raise ConfigError(
            f"input_shape: {list(input_shape)} is not allowed for arch 'resnet20'; "
            "allowed: a colour image shape [3, height, width]"
        )
    base = positive_int("arch_params.base_channels", base_channels)
    groups = positive_int("arch_params.groups", groups)
    blocks = positive_int("arch_params.blocks", blocks)
    if base % groups:
        raise ConfigError(
            f"arch_params.groups: {groups} is not allowed with base_channels {base}; "
            f"allowed: a divisor of {base}"
        )
    layers: list[nn.Module] = [
        nn.Conv2d(3, base, 3, padding=1, bias=False),
        nn.GroupNorm(groups, base),
        nn.ReLU(),
    ]
    width = base
    for stage in range(3):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(BasicBlock(width, base * 2**stage, stride, groups))
            width = base * 2**stage
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)]
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    return model
