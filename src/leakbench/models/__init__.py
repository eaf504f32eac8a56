"""Model architectures, registered under the names configs use.

Each builder module declares its architectures with ``@register_architecture``; importing
them here fills :data:`ARCHITECTURES`. Every builder returns one plain ``nn.Module``;
:mod:`leakbench.training` trains K of them at once.
"""

from leakbench.models import conv, dense, recurrent, resnet, text, wrn
from leakbench.models.registry import (
    ARCHITECTURES,
    INPUTS,
    Architecture,
    build_model,
    get_architecture,
    register_architecture,
)

__all__ = [
    "ARCHITECTURES",
    "INPUTS",
    "Architecture",
    "build_model",
    "conv",
    "dense",
    "get_architecture",
    "recurrent",
    "register_architecture",
    "resnet",
    "text",
    "wrn",
]
