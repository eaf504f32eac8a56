"""Model architectures, registered under the names configs use.

Every builder returns a plain single-model ``torch.nn.Sequential`` of Flatten, Linear,
ReLU, Conv2d and MaxPool2d layers; :mod:`leakbench.training` trains K of them at once.
"""

from leakbench.models.registry import ARCHITECTURES, Architecture, build_model, get_architecture

__all__ = ["ARCHITECTURES", "Architecture", "build_model", "get_architecture"]
