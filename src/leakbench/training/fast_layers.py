"""The built-in fast-path handlers: Flatten, Linear, ReLU, Tanh, Conv2d and MaxPool2d.

Layouts and the stacking of parameters are described in
:mod:`~leakbench.training.stacked_net`; DP-SGD's per-sample pieces in
:mod:`~leakbench.training.clipping`. The backward passes write each gradient straight into
the flat gradient buffer with ``out=`` kernels; convolution and pooling call the ATen
backward kernels that autograd calls.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from leakbench.training import clipping as clipping_lib
from leakbench.training.fast_registry import (
    BackwardStep,
    ClipTerm,
    Flow,
    StackedLayer,
    register_stacked_layer,
)

_Params = Mapping[str, torch.Tensor]


@register_stacked_layer(nn.Flatten)
class StackedFlatten(StackedLayer):
    """Flatten of all but the batch axis: a reshape into the ``"features"`` layout."""

    def accepts(self, layer: nn.Module) -> bool:
        return (layer.start_dim, layer.end_dim) == (1, -1)  # type: ignore[union-attr]

    def forward(self, layer: nn.Module, params: _Params, flow: Flow) -> Any:
        saved = (flow.h.shape, flow.layout)
        if flow.layout == "grouped":  # [B, K * C, H, W] -> [K, C * H * W, B]
            flow.h = flow.h.reshape(flow.h.shape[0], flow.count, -1).permute(1, 2, 0)
            flow.layout = "features"
        elif flow.layout == "per_model":  # [K, B, *shape] -> [K, prod(shape), B]
            flow.h, flow.layout = flow.h.flatten(2).transpose(1, 2), "features"
        else:
            flow.h = flow.h.flatten(1)
        return saved

    def backward(
        self,
        layer: nn.Module,
        params: _Params,
        grads: _Params,
        saved: Any,
        grad: torch.Tensor,
        step: BackwardStep,
    ) -> torch.Tensor:
        shape, layout = saved
        if layout == "grouped":
            grad = grad.permute(2, 0, 1).reshape(shape)
            return grad.contiguous(memory_format=torch.channels_last)
        return grad.transpose(1, 2).reshape(shape)


class _StackedActivation(StackedLayer):
    """An activation without parameters, elementwise in any layout: in place on an
    activation this pass computed, out of place on one it was given; its output is saved,
    and the backward pass is ``grad * f'(z)`` written from that output.

    A subclass names three functions: ``in_place`` and ``out_of_place`` (f) and
    ``backward_of_output`` (``(grad, f(z)) -> grad * f'(z)``).
    """

    in_place: Callable[[torch.Tensor], torch.Tensor]
    out_of_place: Callable[[torch.Tensor], torch.Tensor]
    backward_of_output: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def forward(self, layer: nn.Module, params: _Params, flow: Flow) -> Any:
        flow.h = self.in_place(flow.h) if flow.owned else self.out_of_place(flow.h)
        return flow.h

    def backward(
        self,
        layer: nn.Module,
        params: _Params,
        grads: _Params,
        saved: Any,
        grad: torch.Tensor,
        step: BackwardStep,
    ) -> torch.Tensor:
        return self.backward_of_output(grad, saved)


def _relu_backward(grad: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.ops.aten.threshold_backward(grad, out, 0)  # 1[relu(z) > 0]


@register_stacked_layer(nn.ReLU)
class StackedReLU(_StackedActivation):
    """ReLU; ``d relu(z) / dz = 1[relu(z) > 0]``."""

    in_place = staticmethod(torch.relu_)
    out_of_place = staticmethod(torch.relu)
    backward_of_output = staticmethod(_relu_backward)


@register_stacked_layer(nn.Tanh)
class StackedTanh(_StackedActivation):
    """Tanh; ``d tanh(z) / dz = 1 - tanh(z)^2``."""

    in_place = staticmethod(torch.tanh_)
    out_of_place = staticmethod(torch.tanh)
    backward_of_output = staticmethod(torch.ops.aten.tanh_backward)


@register_stacked_layer(nn.Linear)
class StackedLinear(StackedLayer):
    """``z = W h + b`` for K models: one batched matmul on feature-major activations.

    Weight ``[K, out, in]``, bias ``[K, out, 1]``. The backward pass is ``dW = g h^T``,
    ``db = sum_B g``, ``dh = W^T g``; with clipping, the ghost norms of
    :func:`~leakbench.training.clipping.linear_norms2` and one matmul of the scaled ``g``.
    """

    gives_logits = True

    def shapes(self, layer: nn.Module, count: int) -> dict[str, tuple[int, ...]]:
        assert isinstance(layer, nn.Linear)
        return {
            "weight": (count, layer.out_features, layer.in_features),
            "bias": (count, layer.out_features, 1),
        }

    def accepts(self, layer: nn.Module) -> bool:
        return layer.bias is not None  # type: ignore[union-attr]

    def forward(self, layer: nn.Module, params: _Params, flow: Flow) -> Any:
        weight, bias = params["weight"], params["bias"]
        h = flow.h
        if flow.layout == "per_model":  # [K, B, in] -> [K, in, B]
            h = h.transpose(1, 2)
        saved = h
        if flow.layout == "shared":  # [K * out, in] @ [in, B]: one matmul for all models
            h = torch.addmm(bias.flatten(0, 1), weight.flatten(0, 1), h.t())
            h = h.view(flow.count, -1, h.shape[1])
        else:
            h = torch.baddbmm(bias, weight, h)
        flow.h, flow.layout, flow.owned = h, "features", True
        return saved

    def backward(
        self,
        layer: nn.Module,
        params: _Params,
        grads: _Params,
        saved: Any,
        grad: torch.Tensor,
        step: BackwardStep,
    ) -> torch.Tensor:
        if step.clipping:
            write = functools.partial(_write_linear, grad, saved, grads)
            step.terms.append(ClipTerm(clipping_lib.linear_norms2(grad, saved), write))
        else:
            torch.bmm(grad, saved.transpose(1, 2), out=grads["weight"])
            torch.sum(grad, dim=2, keepdim=True, out=grads["bias"])
        if step.needs_input_grad:
            grad = torch.bmm(params["weight"].transpose(1, 2), grad)
        return grad


def _write_linear(
    delta: torch.Tensor, inputs: torch.Tensor, grads: _Params, factor: torch.Tensor
) -> None:
    scaled = delta * factor[:, None, :]
    torch.bmm(scaled, inputs.transpose(1, 2), out=grads["weight"])
    torch.sum(scaled, dim=2, keepdim=True, out=grads["bias"])


def _to_grouped(flow: Flow) -> None:
    """``[K, B, C, H, W]`` -> ``[B, K * C, H, W]``; channels-last in memory either way."""
    if flow.layout == "per_model":
        flow.h, flow.layout = flow.h.transpose(0, 1).flatten(1, 2), "grouped"
    flow.h = flow.h.contiguous(memory_format=torch.channels_last)


@register_stacked_layer(nn.Conv2d)
class StackedConv2d(StackedLayer):
    """K convolutions as one grouped convolution (``groups = K``), filter banks
    concatenated ``[K * out, in, kh, kw]``; zero padding, with bias."""

    def shapes(self, layer: nn.Module, count: int) -> dict[str, tuple[int, ...]]:
        assert isinstance(layer, nn.Conv2d)
        return {
            "weight": (count * layer.out_channels, *layer.weight.shape[1:]),
            "bias": (count * layer.out_channels,),
        }

    def accepts(self, layer: nn.Module) -> bool:
        return layer.bias is not None and layer.padding_mode == "zeros"  # type: ignore[union-attr]

    def forward(self, layer: nn.Module, params: _Params, flow: Flow) -> Any:
        assert isinstance(layer, nn.Conv2d)
        _to_grouped(flow)
        groups = layer.groups * (1 if flow.layout == "shared" else flow.count)
        saved = (flow.h, groups)
        flow.h = F.conv2d(
            flow.h,
            params["weight"],
            params["bias"],
            layer.stride,
            layer.padding,  # type: ignore[arg-type]
            layer.dilation,
            groups,
        )
        flow.layout, flow.owned = "grouped", True
        return saved

    def backward(
        self,
        layer: nn.Module,
        params: _Params,
        grads: _Params,
        saved: Any,
        grad: torch.Tensor,
        step: BackwardStep,
    ) -> torch.Tensor:
        assert isinstance(layer, nn.Conv2d)
        inputs, groups = saved
        weight = params["weight"]
        if step.clipping:
            per_weight, per_bias = clipping_lib.conv_per_sample(grad, inputs, layer, step.count)
            write = functools.partial(_write_conv, per_weight, per_bias, grads)
            step.terms.append(ClipTerm(clipping_lib.conv_norms2(per_weight, per_bias), write))
        mask = [step.needs_input_grad, not step.clipping, not step.clipping]
        if any(mask):
            grad_input, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
                grad, inputs, weight, [weight.shape[0]], _pair(layer.stride),
                _pair(layer.padding), _pair(layer.dilation), False, [0, 0], groups, mask,
            )  # fmt: skip
            if not step.clipping:
                grads["weight"].copy_(grad_weight)
                grads["bias"].copy_(grad_bias)
            grad = grad_input
        return grad


def _write_conv(
    per_weight: torch.Tensor, per_bias: torch.Tensor, grads: _Params, factor: torch.Tensor
) -> None:
    out = grads["weight"]
    out.copy_(torch.einsum("kb,bkoc->koc", factor, per_weight).reshape(out.shape))
    grads["bias"].copy_(torch.einsum("kb,bko->ko", factor, per_bias).reshape(-1))


@register_stacked_layer(nn.MaxPool2d)
class StackedMaxPool2d(StackedLayer):
    """Max-pooling acts per channel, hence per model, on the grouped layout unchanged."""

    def forward(self, layer: nn.Module, params: _Params, flow: Flow) -> Any:
        assert isinstance(layer, nn.MaxPool2d)
        _to_grouped(flow)
        out, indices = torch.ops.aten.max_pool2d_with_indices(flow.h, *_pool_args(layer))
        saved = (flow.h, indices)
        flow.h, flow.owned = out, True
        return saved

    def backward(
        self,
        layer: nn.Module,
        params: _Params,
        grads: _Params,
        saved: Any,
        grad: torch.Tensor,
        step: BackwardStep,
    ) -> torch.Tensor:
        assert isinstance(layer, nn.MaxPool2d)
        inputs, indices = saved
        return torch.ops.aten.max_pool2d_with_indices_backward(
            grad, inputs, *_pool_args(layer), indices
        )


def _pair(value: Any) -> list[int]:
    return [value, value] if isinstance(value, int) else list(value)


def _pool_args(layer: nn.MaxPool2d) -> tuple[list[int], list[int], list[int], list[int], bool]:
    """``kernel_size, stride, padding, dilation, ceil_mode`` as ATen's pooling ops take them."""
    stride = layer.stride if layer.stride is not None else layer.kernel_size
    return (
        _pair(layer.kernel_size),
        _pair(stride),
        _pair(layer.padding),
        _pair(layer.dilation),
        layer.ceil_mode,
    )
