"""K models of one ``nn.Sequential`` architecture run as one batched computation.

Parameters live in one flat buffer (and their gradients in another), viewed per layer
with a leading model axis; each view is a reshape of the module's own layout:

* a linear layer's weight is ``[K, out, in]`` and its bias ``[K, out, 1]``; activations
  are feature-major, ``[K, features, B]``, so the forward pass is one batched matmul
  ``torch.baddbmm(bias, weight, h)`` on contiguous operands, as is each product of the
  backward pass. (Measured on CPU against batch-major ``[K, B, features]``: equal for
  wide layers and 3-4x faster for narrow ones such as a 2-class output layer.)
* a convolution's K filter banks are concatenated, ``[K * out, in, kh, kw]``, and run as
  one grouped convolution (``groups = K``) on activations ``[B, K * C, H, W]``, where
  model k owns channels ``k*C .. k*C + C - 1``; ReLU and max-pooling act per channel,
  hence per model, unchanged. These activations are kept channels-last in memory: the
  grouped convolution then ran 1.6x faster on CPU than in NCHW, within 12% of K separate
  convolutions (``torch.func.vmap`` over the module measured no faster than NCHW).

An input shared by every model (prediction) has no model axis until the first layer with
weights, which runs one ordinary matmul or convolution against the K concatenated weight
sets. Every layout change is a reshape or transpose, so model k computes exactly the
function of the single module holding its parameters.

Training runs the backward pass by hand (:meth:`StackedNet.backward`) and writes each
gradient straight into the flat gradient buffer with ``out=`` kernels. Against autograd
this saves allocating, zeroing and freeing K gradient sets every step (measured up to
twice as fast for the Purchase-sized MLP on CPU); convolution and pooling call the ATen
backward kernels that autograd calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from leakbench.training import clipping as clipping_lib

SUPPORTED = (nn.Flatten, nn.Linear, nn.ReLU, nn.Conv2d, nn.MaxPool2d)


class StackedNet:
    """The stacked forward and backward passes of K models shaped like ``template``.

    Args:
        template: a single model from :func:`leakbench.models.build_model`.
        count: the number of models K.

    Raises:
        TypeError: if ``template`` holds a layer other than Flatten (of all but the batch
            axis), Linear, ReLU, Conv2d (zero padding, with bias) or MaxPool2d.
    """

    def __init__(self, template: nn.Sequential, count: int) -> None:
        for layer in template:
            ok = isinstance(layer, SUPPORTED)
            if isinstance(layer, nn.Flatten):
                ok = (layer.start_dim, layer.end_dim) == (1, -1)
            if isinstance(layer, nn.Conv2d):
                ok = layer.bias is not None and layer.padding_mode == "zeros"
            if not ok:
                raise TypeError(f"StackedNet: layer {layer!r} is not supported")
        self.layers = list(template)
        self.count = count
        self.shapes: dict[str, tuple[int, ...]] = {}  # compute-layout shape per parameter
        for i, layer in enumerate(self.layers):
            if isinstance(layer, nn.Linear):
                self.shapes[f"{i}.weight"] = (count, layer.out_features, layer.in_features)
                self.shapes[f"{i}.bias"] = (count, layer.out_features, 1)
            elif isinstance(layer, nn.Conv2d):
                self.shapes[f"{i}.weight"] = (count * layer.out_channels, *layer.weight.shape[1:])
                self.shapes[f"{i}.bias"] = (count * layer.out_channels,)
        self.size = sum(math.prod(s) for s in self.shapes.values())
        self._first_weighted = min(int(name.split(".")[0]) for name in self.shapes)

    # -- parameters ---------------------------------------------------------------------

    def views(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Compute-layout views into a flat parameter (or gradient) buffer."""
        out, offset = {}, 0
        for name, shape in self.shapes.items():
            size = math.prod(shape)
            out[name] = flat[offset : offset + size].view(shape)
            offset += size
        return out

    def model_views(self, flat: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
        """Views of model k's parameters in a flat buffer, shaped as in the single module."""
        out = {}
        for name, view in self.views(flat).items():
            rows = view.shape[0] // self.count  # model k owns rows k*rows .. k*rows + rows-1
            out[name] = view[k * rows : (k + 1) * rows].reshape(self.module_shape(name))
        return out

    def module_shape(self, name: str) -> torch.Size:
        """Shape of parameter ``name`` in the single module."""
        return self.layers[int(name.split(".")[0])].get_parameter(name.split(".")[1]).shape

    def pack(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Module-layout parameters ``{name: [K, *shape]}`` -> a new flat buffer."""
        return torch.cat([params[name].reshape(-1) for name in self.shapes])

    def unpack(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """A flat buffer -> module-layout parameters ``{name: [K, *shape]}``.

        The tensors are contiguous views into ``flat`` (no copy: the layouts differ only
        by a reshape).
        """
        return {
            name: view.view(self.count, *self.module_shape(name))
            for name, view in self.views(flat).items()
        }

    # -- passes -------------------------------------------------------------------------

    def forward(
        self,
        params: Mapping[str, torch.Tensor],
        x: torch.Tensor,
        *,
        shared: bool,
        tape: list[Any] | None = None,
    ) -> torch.Tensor:
        """Logits ``[K, B, num_classes]`` (a transposed view of feature-major ``[K, C, B]``).

        Args:
            params: compute-layout parameters (:meth:`views` of a flat buffer).
            x: one batch per model ``[K, B, *input_shape]``, or, if ``shared``, one batch
                ``[B, *input_shape]`` that every model sees.
            shared: whether ``x`` is shared by all models.
            tape: an empty list to fill with what :meth:`backward` needs (training only).
        """
        k = self.count
        h, layout, owned = x, ("shared" if shared else "per_model"), False
        for i, layer in enumerate(self.layers):
            saved: Any = None
            if isinstance(layer, nn.ReLU):
                h = torch.relu_(h) if owned else torch.relu(h)  # in place on our own output
                saved = h
            elif isinstance(layer, nn.Flatten):
                saved = (h.shape, layout)
                if layout == "grouped":  # [B, K * C, H, W] -> [K, C * H * W, B]
                    h, layout = h.reshape(h.shape[0], k, -1).permute(1, 2, 0), "features"
                elif layout == "per_model":  # [K, B, *shape] -> [K, prod(shape), B]
                    h, layout = h.flatten(2).transpose(1, 2), "features"
                else:
                    h = h.flatten(1)
            elif isinstance(layer, nn.Linear):
                weight, bias = params[f"{i}.weight"], params[f"{i}.bias"]
                if layout == "per_model":  # [K, B, in] -> [K, in, B]
                    h = h.transpose(1, 2)
                saved = h
                if layout == "shared":  # [K * out, in] @ [in, B]: one matmul for all models
                    h = torch.addmm(bias.flatten(0, 1), weight.flatten(0, 1), h.t())
                    h = h.view(k, -1, h.shape[1])
                else:
                    h = torch.baddbmm(bias, weight, h)
                layout, owned = "features", True
            else:  # nn.Conv2d or nn.MaxPool2d
                if layout == "per_model":  # [K, B, C, H, W] -> [B, K * C, H, W]
                    h, layout = h.transpose(0, 1).flatten(1, 2), "grouped"
                h = h.contiguous(memory_format=torch.channels_last)
                if isinstance(layer, nn.MaxPool2d):
                    out, indices = torch.ops.aten.max_pool2d_with_indices(h, *_pool_args(layer))
                    saved, h = (h, indices), out
                else:
                    groups = layer.groups * (1 if layout == "shared" else k)
                    weight, bias = params[f"{i}.weight"], params[f"{i}.bias"]
                    saved = (h, groups)
                    h = F.conv2d(
                        h, weight, bias, layer.stride, layer.padding, layer.dilation, groups
                    )
                    layout = "grouped"
                owned = True
            if tape is not None:
                tape.append(saved)
        return h.transpose(1, 2)

    def backward(
        self,
        params: Mapping[str, torch.Tensor],
        grads: Mapping[str, torch.Tensor],
        tape: list[Any],
        grad: torch.Tensor,
        *,
        max_norm: float | None = None,
    ) -> torch.Tensor | None:
        """Write every parameter's gradient into ``grads`` (views of a flat buffer).

        Args:
            params: the parameters the forward pass used.
            grads: compute-layout views of the gradient buffer; overwritten.
            tape: filled by :meth:`forward` with ``shared=False``.
            grad: the loss gradient with respect to the logits, ``[K, B, num_classes]``.
            max_norm: if given, ``grad`` holds per-record loss gradients and ``grads``
                receives each model's sum of per-record gradients clipped to this norm
                (:mod:`~leakbench.training.clipping`).

        Returns:
            With ``max_norm``, the per-record gradient norms ``[K, B]`` before clipping.
        """
        grad = grad.transpose(1, 2)  # feature-major, like the activations
        clipping = max_norm is not None
        pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []
        norms2: torch.Tensor | float = 0.0
        for i in range(len(self.layers) - 1, self._first_weighted - 1, -1):
            layer, saved = self.layers[i], tape[i]
            needs_input_grad = i > self._first_weighted
            if isinstance(layer, nn.ReLU):  # d relu(z) / dz = 1[relu(z) > 0]
                grad = torch.ops.aten.threshold_backward(grad, saved, 0)
            elif isinstance(layer, nn.Flatten):
                shape, layout = saved
                if layout == "grouped":
                    grad = grad.permute(2, 0, 1).reshape(shape)
                    grad = grad.contiguous(memory_format=torch.channels_last)
                else:
                    grad = grad.transpose(1, 2).reshape(shape)
            elif isinstance(layer, nn.Linear):  # z = W h + b: dW = g h^T, db = sum_B g, dh = W^T g
                weight = params[f"{i}.weight"]
                if clipping:
                    norms2 = norms2 + clipping_lib.linear_norms2(grad, saved)
                    pending.append((i, grad, saved))
                else:
                    torch.bmm(grad, saved.transpose(1, 2), out=grads[f"{i}.weight"])
                    torch.sum(grad, dim=2, keepdim=True, out=grads[f"{i}.bias"])
                if needs_input_grad:
                    grad = torch.bmm(weight.transpose(1, 2), grad)
            elif isinstance(layer, nn.MaxPool2d):
                inputs, indices = saved
                grad = torch.ops.aten.max_pool2d_with_indices_backward(
                    grad, inputs, *_pool_args(layer), indices
                )
            else:  # nn.Conv2d
                inputs, groups = saved
                weight = params[f"{i}.weight"]
                if clipping:
                    per_weight, per_bias = clipping_lib.conv_per_sample(
                        grad, inputs, layer, self.count
                    )
                    norms2 = norms2 + clipping_lib.conv_norms2(per_weight, per_bias)
                    pending.append((i, per_weight, per_bias))
                mask = [needs_input_grad, not clipping, not clipping]
                if any(mask):
                    grad_input, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
                        grad, inputs, weight, [weight.shape[0]], _pair(layer.stride),
                        _pair(layer.padding), _pair(layer.dilation), False, [0, 0], groups,
                        mask,
                    )  # fmt: skip
                    if not clipping:
                        grads[f"{i}.weight"].copy_(grad_weight)
                        grads[f"{i}.bias"].copy_(grad_bias)
                    grad = grad_input
        if not clipping:
            return None
        assert isinstance(norms2, torch.Tensor)
        factor = clipping_lib.clip_factors(norms2, max_norm)  # [K, B]
        for i, first, second in pending:
            if isinstance(self.layers[i], nn.Linear):  # first: d [K, out, B]; second: h
                scaled = first * factor[:, None, :]
                torch.bmm(scaled, second.transpose(1, 2), out=grads[f"{i}.weight"])
                torch.sum(scaled, dim=2, keepdim=True, out=grads[f"{i}.bias"])
            else:  # first: [B, K, out, in*kh*kw]; second: [B, K, out]
                out = grads[f"{i}.weight"]
                out.copy_(torch.einsum("kb,bkoc->koc", factor, first).reshape(out.shape))
                grads[f"{i}.bias"].copy_(torch.einsum("kb,bko->ko", factor, second).reshape(-1))
        return norms2.sqrt()


def cross_entropy_grad(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Gradient of ``L = sum_k sum_i w_ki CE(z_ki, y_ki)`` with respect to the logits.

    ``dL/dz_ki = w_ki (softmax(z_ki) - onehot(y_ki))``. The default ``w_ki = 1 / B`` makes
    L each model's mean cross-entropy over its batch of B records, summed over models, so
    model k's gradient is the one ``F.cross_entropy`` (mean reduction) gives it alone;
    DP-SGD passes ``w_ki`` = 1 for real records and 0 for padding, so each row is one
    record's own gradient.

    Args:
        logits: ``[K, B, C]`` (any strides; computed feature-major, ``[K, C, B]``).
        labels: ``[K * B]`` int64, model-major like ``logits.flatten(0, 1)``.
        weights: ``[K, B]`` per-record weights, or None for 1 / B.

    Returns:
        ``[K, B, C]``, a transposed view of a contiguous ``[K, C, B]`` tensor.
    """
    count, batch, classes = logits.shape
    grad = torch.softmax(logits.transpose(1, 2), dim=1)
    ids = torch.arange(classes, device=logits.device).view(1, classes, 1)
    onehot = labels.view(count, 1, batch) == ids  # elementwise: deterministic on any device
    grad.sub_(onehot.to(grad.dtype))
    if weights is None:
        grad.mul_(1.0 / batch)
    else:
        grad.mul_(weights.view(count, 1, batch))
    return grad.transpose(1, 2)


def _pair(value: int | tuple[int, ...]) -> list[int]:
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
