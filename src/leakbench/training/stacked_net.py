"""K models of one ``nn.Sequential`` architecture evaluated as one batched computation.

Activations carry the model axis in one of two layouts:

* stacked ``[K, B, F]`` for dense layers: a linear layer is one batched matmul
  (``torch.baddbmm``) with weights packed as ``[K, in, out]``, which multiplies without
  transposing (measured faster than the ``[K, out, in]`` layout of ``nn.Linear`` on CPU);
* grouped ``[B, K * C, H, W]`` for image layers: a convolution is one grouped convolution
  with the K filter banks concatenated (``groups = K``), and ReLU and max-pooling act per
  channel, hence per model, unchanged.

An input shared by all models (prediction) has no model axis until the first layer with
weights, which then runs one ordinary matmul or convolution against the K concatenated
weight sets. Every layout change is a reshape, so model k computes exactly the function of
the single module with its parameters.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

SUPPORTED = (nn.Flatten, nn.Linear, nn.ReLU, nn.Conv2d, nn.MaxPool2d)


class StackedNet:
    """The stacked forward pass of K models shaped like ``template``.

    Args:
        template: a single model from :func:`leakbench.models.build_model`.
        count: the number of models K.

    Raises:
        TypeError: if ``template`` holds a layer other than Flatten (of all but the batch
            axis), Linear, ReLU, Conv2d (zero padding, with bias) or MaxPool2d.
    """

    def __init__(self, template: nn.Sequential, count: int) -> None:
        for layer in template:
            ok = isinstance(layer, SUPPORTED) and not (
                isinstance(layer, nn.Flatten) and (layer.start_dim, layer.end_dim) != (1, -1)
            )
            if isinstance(layer, nn.Conv2d):
                ok = layer.bias is not None and layer.padding_mode == "zeros"
            if not ok:
                raise TypeError(f"StackedNet: layer {layer!r} is not supported")
        self.layers = list(template)
        self.count = count

    def pack(self, params: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Module-layout parameters ``[K, *shape]`` -> fresh contiguous compute-layout tensors."""
        packed = {}
        for i, layer in enumerate(self.layers):
            weight, bias = params.get(f"{i}.weight"), params.get(f"{i}.bias")
            if isinstance(layer, nn.Linear):
                packed[f"{i}.weight"] = weight.transpose(1, 2).contiguous()
                packed[f"{i}.bias"] = bias.unsqueeze(1).clone()
            elif isinstance(layer, nn.Conv2d):
                packed[f"{i}.weight"] = weight.flatten(0, 1).clone()
                packed[f"{i}.bias"] = bias.flatten().clone()
        return packed

    def unpack(self, packed: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Compute-layout tensors -> module-layout parameters ``[K, *shape]`` (contiguous)."""
        params = {}
        k = self.count
        for i, layer in enumerate(self.layers):
            weight, bias = packed.get(f"{i}.weight"), packed.get(f"{i}.bias")
            if isinstance(layer, nn.Linear):
                params[f"{i}.weight"] = weight.transpose(1, 2).contiguous()
                params[f"{i}.bias"] = bias.squeeze(1).contiguous()
            elif isinstance(layer, nn.Conv2d):
                params[f"{i}.weight"] = weight.reshape(k, -1, *weight.shape[1:]).contiguous()
                params[f"{i}.bias"] = bias.reshape(k, -1).contiguous()
        return params

    def forward(
        self, packed: Mapping[str, torch.Tensor], x: torch.Tensor, *, shared: bool
    ) -> torch.Tensor:
        """Logits ``[K, B, num_classes]``.

        Args:
            packed: parameters from :meth:`pack`.
            x: one batch per model ``[K, B, *input_shape]``, or, if ``shared``, one batch
                ``[B, *input_shape]`` that every model sees.
            shared: whether ``x`` is shared by all models.
        """
        k = self.count
        h, layout = x, ("shared" if shared else "per_model")
        for i, layer in enumerate(self.layers):
            if isinstance(layer, nn.ReLU):
                h = torch.relu(h)
            elif isinstance(layer, nn.MaxPool2d):
                if layout == "per_model":
                    h, layout = _to_grouped(h), "grouped"
                h = F.max_pool2d(
                    h, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                    ceil_mode=layer.ceil_mode,
                )  # fmt: skip
            elif isinstance(layer, nn.Flatten):
                if layout == "grouped":
                    h, layout = h.reshape(h.shape[0], k, -1).transpose(0, 1), "stacked"
                elif layout == "per_model":
                    h, layout = h.flatten(2), "stacked"
                else:
                    h = h.flatten(1)
            elif isinstance(layer, nn.Linear):
                weight, bias = packed[f"{i}.weight"], packed[f"{i}.bias"]
                if layout == "shared":  # [B, in] @ [in, K * out]: one matmul for all models
                    flat = torch.addmm(bias.flatten(), h, weight.transpose(0, 1).flatten(1))
                    h = flat.view(h.shape[0], k, -1).transpose(0, 1)
                else:
                    h = torch.baddbmm(bias, h, weight)
                layout = "stacked"
            else:  # nn.Conv2d
                weight, bias = packed[f"{i}.weight"], packed[f"{i}.bias"]
                groups = layer.groups
                if layout == "per_model":
                    h = _to_grouped(h)
                if layout != "shared":
                    groups *= k
                h = F.conv2d(h, weight, bias, layer.stride, layer.padding, layer.dilation, groups)
                layout = "grouped"
        return h


def _to_grouped(x: torch.Tensor) -> torch.Tensor:
    """``[K, B, C, H, W]`` -> ``[B, K * C, H, W]`` (model k owns channels k*C .. k*C + C-1)."""
    return x.transpose(0, 1).flatten(1, 2)
