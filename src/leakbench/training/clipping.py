"""Per-sample gradient norms and clipping for the stacked backward pass (DP-SGD).

DP-SGD clips each record's gradient to norm at most C before summing,
``g_i <- g_i * min(1, C / ||g_i||_2)`` (Abadi et al. 2016, Algorithm 1), where ``||g_i||``
is the norm over every parameter of the model. The per-sample gradients are never all
materialised for linear layers: for ``z = W h + b`` record i's gradients are
``dW_i = d_i h_i^T`` and ``db_i = d_i`` (d_i the gradient at z), so
``||dW_i||^2 + ||db_i||^2 = ||d_i||^2 (||h_i||^2 + 1)`` (the "ghost norm" of Goodfellow 2015,
"Efficient per-example gradient computations"). The clipped sum is then one matmul with
the clip factors folded into ``d``: ``sum_i c_i dW_i = (d * c) h^T``. Convolutions sum
over positions, so their per-sample weight gradients are formed explicitly from the
unfolded input (``[B, K, out, in * kh * kw]``, small for the models here).

The clip factor is Opacus's, ``min(1, C / (||g_i|| + 1e-6))``, so a test can compare the
clipped sums with Opacus's ``DPOptimizer``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-6  # Opacus's guard in the clip factor


def linear_norms2(delta: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """``||dW_i||^2 + ||db_i||^2 = ||d_i||^2 (||h_i||^2 + 1)`` per model and record, [K, B].

    Args:
        delta: the gradient at the layer's output, feature-major ``[K, out, B]``.
        inputs: the layer's input, ``[K, in, B]``.
    """
    return delta.square().sum(dim=1) * (inputs.square().sum(dim=1) + 1.0)


def conv_per_sample(
    delta: torch.Tensor, inputs: torch.Tensor, layer: nn.Conv2d, count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-record weight and bias gradients of K stacked convolutions.

    Args:
        delta: the gradient at the grouped convolution's output, ``[B, K * out, H', W']``.
        inputs: its input, ``[B, K * in, H, W]``.
        layer: the single model's convolution (groups = 1).
        count: K.

    Returns:
        ``([B, K, out, in * kh * kw], [B, K, out])``; model k's weight gradient for record b
        reshapes to the layer's ``[out, in, kh, kw]``.
    """
    if layer.groups != 1:
        raise TypeError(f"per-sample clipping: {layer!r} with groups != 1 is not supported")
    batch = delta.shape[0]
    cols = F.unfold(
        inputs,
        layer.kernel_size,
        dilation=layer.dilation,
        padding=layer.padding,
        stride=layer.stride,
    )
    cols = cols.view(batch, count, -1, cols.shape[-1])  # [B, K, in * kh * kw, L]
    d = delta.reshape(batch, count, layer.out_channels, -1)  # [B, K, out, L]
    return torch.matmul(d, cols.transpose(2, 3)), d.sum(dim=3)


def conv_norms2(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Squared per-record norms [K, B] of :func:`conv_per_sample`'s gradients."""
    return (weight.square().sum(dim=(2, 3)) + bias.square().sum(dim=2)).t()


def clip_factors(norms2: torch.Tensor, max_norm: float) -> torch.Tensor:
    """``min(1, C / (||g_i|| + 1e-6))`` for squared norms ``[K, B]``."""
    return (max_norm / (norms2.sqrt() + EPS)).clamp_(max=1.0)
