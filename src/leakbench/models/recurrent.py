"""A GRU classifier on token ids: embedding, gated recurrent unit, linear.

The recurrence is written with ``nn.Linear`` layers instead of ``torch.nn.GRU``, whose
fused kernel ``torch.func.vmap`` cannot batch: the stacked trainer's fallback needs
``vmap`` over models and over records (per-sample gradients for DP-SGD). Opacus's
``DPGRU`` is built the same way for the same reason.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from leakbench.models.checks import positive_int, sequence_length
from leakbench.models.registry import register_architecture


class GRULayer(nn.Module):
    """One GRU layer over a sequence, with the equations and weight layout of
    ``torch.nn.GRU`` (Cho et al. 2014, "Learning phrase representations using RNN
    encoder-decoder for statistical machine translation", section 2.3; the reset gate
    multiplies ``W_hn h + b_hn``, as in cuDNN, rather than ``h``)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    ``input.weight`` stacks ``W_ir, W_iz, W_in`` like ``weight_ih_l{k}`` and
    ``hidden.weight`` stacks ``W_hr, W_hz, W_hn`` like ``weight_hh_l{k}``; weights and
    biases start uniform in ``[-1/sqrt(hidden), 1/sqrt(hidden)]``, as torch's.

    Args:
        input_size: features per time step.
        hidden: hidden state width.
    """

    def __init__(self, input_size: int, hidden: int) -> None:
        super().__init__()
        self.input = nn.Linear(input_size, 3 * hidden)
        self.hidden = nn.Linear(hidden, 3 * hidden)
        bound = 1 / math.sqrt(hidden)
        for p in (self.input.weight, self.input.bias, self.hidden.weight, self.hidden.bias):
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, T, input_size] -> [B, T, hidden]``: the hidden state after each step,
        starting from zeros."""
        width = self.hidden.in_features
        gates_x = self.input(x)  # all time steps at once: [B, T, 3 * hidden]
        h = torch.zeros(x.shape[0], width, dtype=x.dtype, device=x.device)
        states = []
        for t in range(x.shape[1]):
            xr, xz, xn = gates_x[:, t].split(width, dim=1)
            hr, hz, hn = self.hidden(h).split(width, dim=1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
            states.append(h)
        return torch.stack(states, dim=1)


class GRUClassifier(nn.Module):
    """Embedding, ``layers`` stacked :class:`GRULayer`, and a linear layer on the top
    layer's last hidden state (the model Melis et al. 2019, section V, train on Yelp).

    Args:
        vocab: token ids lie in ``[0, vocab)``.
        embed_dim: embedding width.
        hidden: GRU hidden state width.
        layers: stacked GRU layers.
        num_classes: output logits.
    """

    def __init__(
        self, *, vocab: int, embed_dim: int, hidden: int, layers: int, num_classes: int
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed_dim)
        self.grus = nn.ModuleList(
            GRULayer(embed_dim if i == 0 else hidden, hidden) for i in range(layers)
        )
        self.linear = nn.Linear(hidden, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """int64 token ids ``[B, seq_len]`` -> logits ``[B, num_classes]``."""
        states = self.embedding(tokens)
        for gru in self.grus:
            states = gru(states)
        return self.linear(states[:, -1])


@register_architecture(
    "gru",
    description="embedding, GRU, linear on the last hidden state; token ids",
    example={
        "arch_params": {"vocab": 20, "embed_dim": 6, "hidden": 5, "layers": 2},
        "input_shape": [7],
        "num_classes": 3,
    },
    inputs="tokens",
)
def gru(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    vocab: int,
    embed_dim: int = 100,
    hidden: int = 128,
    layers: int = 1,
) -> GRUClassifier:
    """A :class:`GRUClassifier` for token sequences of shape ``[seq_len]``.

    The default embedding width 100 is Melis et al.'s (2019, section V) for Yelp.
    Inputs are int64 token ids in ``[0, vocab)``; float input is refused by the
    embedding.

    Raises:
        ConfigError: for an input shape other than ``[seq_len]`` or a bad parameter value.
    """
    sequence_length("gru", input_shape)
    return GRUClassifier(
        vocab=positive_int("arch_params.vocab", vocab, minimum=2),
        embed_dim=positive_int("arch_params.embed_dim", embed_dim),
        hidden=positive_int("arch_params.hidden", hidden),
        layers=positive_int("arch_params.layers", layers),
        num_classes=num_classes,
    )
