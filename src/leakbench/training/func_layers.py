"""Stand-ins that let :mod:`torch.func` run layers it cannot run as they are.

The fallback engine (:mod:`~leakbench.training.functional`) vmaps ``functional_call`` of
one model over the model axis of stacked parameters. Two layer types need a stand-in with
the same parameters:

* ``nn.Dropout`` would draw its mask from torch's global RNG (under ``vmap``'s
  ``randomness="different"``), so model k's masks would depend on the stack it trains
  in. In training it becomes :class:`MaskedDropout`, which multiplies by a mask the engine
  draws from model k's own generator and passes in as a buffer; in eval mode it is the
  identity, as ``nn.Dropout`` is.
* ``nn.GRU`` runs a fused kernel that has no batching rule (under ``vmap`` it fails with a
  shape error); :class:`VmapGRU` computes the same recurrence (the equations of
  ``torch.nn.GRU``'s documentation, Cho et al. 2014) from elementwise ops and matmuls.

Stand-ins are registered per layer type (:func:`register_func_substitute`), like the
fast path's handlers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

Substitute = Callable[[nn.Module, bool], nn.Module]
FUNC_SUBSTITUTES: dict[type[nn.Module], Substitute] = {}


def register_func_substitute(layer_type: type[nn.Module]) -> Callable[[Substitute], Substitute]:
    """Decorator: ``substitute(layer, training) -> module`` stands in for ``layer_type``."""

    def register(substitute: Substitute) -> Substitute:
        FUNC_SUBSTITUTES[layer_type] = substitute
        return substitute

    return register


def vmap_safe(template: nn.Module, *, training: bool) -> nn.Module:
    """A copy of ``template`` with every registered layer type replaced by its stand-in
    (same qualified names, same parameter names), in train or eval mode."""
    module = copy.deepcopy(template)
    for name, child in list(module.named_modules()):
        substitute = FUNC_SUBSTITUTES.get(type(child))
        if substitute is not None and name:
            parent, _, attr = name.rpartition(".")
            setattr(module.get_submodule(parent), attr, substitute(child, training))
    return module.train(training)


class MaskedDropout(nn.Module):
    """Dropout with a given mask: ``x * mask``, where the buffer ``mask`` (passed to
    ``functional_call``) is 0 for a dropped unit and ``1 / (1 - p)`` for a kept one."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.register_buffer("mask", torch.ones(()), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask


@register_func_substitute(nn.Dropout)
def _dropout(layer: nn.Module, training: bool) -> nn.Module:
    assert isinstance(layer, nn.Dropout)
    return MaskedDropout(layer.p) if training else nn.Identity()


def dropout_mask(*, p: float, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """One model's dropout mask: unit kept where ``u >= p`` for ``u ~ U[0, 1)`` drawn from
    ``generator``, scaled by ``1 / (1 - p)`` so the expected activation is unchanged
    (Srivastava et al. 2014, Section 4, with the scaling moved from test to training time,
    as ``nn.Dropout`` computes it)."""
    kept = torch.rand(shape, generator=generator) >= p
    return kept * (1.0 / (1.0 - p)) if p < 1 else torch.zeros(shape)


class VmapGRU(nn.Module):
    """``nn.GRU`` (unidirectional, with biases, no dropout between layers) from plain ops.

    For each layer and step, with ``x`` the input and ``h`` the previous hidden state:
    ``r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)``, ``z = sigmoid(W_iz x + b_iz + W_hz h +
    b_hz)``, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    The parameters keep ``nn.GRU``'s names and shapes.

    Raises:
        TypeError: for a bidirectional GRU, one without biases or with dropout.
    """

    def __init__(self, gru: nn.GRU) -> None:
        if gru.bidirectional or not gru.bias or gru.dropout:
            raise TypeError(f"VmapGRU: {gru!r} is not supported (bidirectional, bias or dropout)")
        super().__init__()
        self.hidden_size, self.num_layers = gru.hidden_size, gru.num_layers
        self.batch_first = gru.batch_first
        for name, param in gru.named_parameters():
            self.register_parameter(name, nn.Parameter(param.detach().clone()))

    def forward(
        self, x: torch.Tensor, hx: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(output, h_n)`` as ``nn.GRU`` returns them, for batched input."""
        seq = x if self.batch_first else x.transpose(0, 1)  # [B, T, features]
        if hx is None:
            hx = seq.new_zeros(self.num_layers, seq.shape[0], self.hidden_size)
        finals = []
        for layer in range(self.num_layers):
            w_hh = getattr(self, f"weight_hh_l{layer}")
            b_hh = getattr(self, f"bias_hh_l{layer}")
            w_ih = getattr(self, f"weight_ih_l{layer}")
            gates_x = F.linear(seq, w_ih, getattr(self, f"bias_ih_l{layer}"))
            h, outputs = hx[layer], []
            for t in range(seq.shape[1]):
                x_r, x_z, x_n = gates_x[:, t].chunk(3, dim=-1)
                h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
                r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
                n = torch.tanh(x_n + r * h_n)
                h = (1 - z) * n + z * h
                outputs.append(h)
            seq = torch.stack(outputs, dim=1)
            finals.append(h)
        output = seq if self.batch_first else seq.transpose(0, 1)
        return output, torch.stack(finals)


@register_func_substitute(nn.GRU)
def _gru(layer: nn.Module, training: bool) -> nn.Module:
    assert isinstance(layer, nn.GRU)
    return VmapGRU(layer)
