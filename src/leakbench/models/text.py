"""A convolutional network for sentence classification on token ids (Kim 2014)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from leakbench.models.checks import positive_int, positive_sizes, probability, sequence_length
from leakbench.models.registry import register_architecture


class TextCNN(nn.Module):
    """Embedding, one 1-d convolution per window width with ReLU and max over time, the
    pooled features concatenated, dropout, one linear layer (Kim 2014, "Convolutional
    neural networks for sentence classification", section 2; embeddings learned from a
    random start, the CNN-rand variant of section 3.3).

    Kim's l2 max-norm constraint on the last layer's weights is left out.

    Args:
        vocab: token ids lie in ``[0, vocab)``.
        embed_dim: embedding width (Kim: 300).
        filters: feature maps per window width (Kim: 100).
        widths: window widths (Kim: 3, 4, 5).
        dropout: dropout probability on the pooled features (Kim: 0.5); 0 leaves the
            dropout layer out.
        num_classes: output logits.
    """

    def __init__(
        self,
        *,
        vocab: int,
        embed_dim: int,
        filters: int,
        widths: Sequence[int],
        dropout: float,
        num_classes: int,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed_dim)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, filters, w) for w in widths)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.linear = nn.Linear(filters * len(widths), num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """int64 token ids ``[B, seq_len]`` -> logits ``[B, num_classes]``."""
        embedded = self.embedding(tokens).transpose(1, 2)  # [B, embed_dim, seq_len]
        pooled = [torch.relu(conv(embedded)).amax(dim=2) for conv in self.convs]
        return self.linear(self.dropout(torch.cat(pooled, dim=1)))


@register_architecture(
    "textcnn",
    description="text CNN (Kim 2014): embedding, conv1d 3/4/5, max over time; token ids",
    example={
        "arch_params": {"vocab": 20, "embed_dim": 6, "filters": 3, "dropout": 0.5},
        "input_shape": [12],
        "num_classes": 3,
    },
    inputs="tokens",
)
def textcnn(
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    vocab: int,
    embed_dim: int = 300,
    filters: int = 100,
    widths: Sequence[int] = (3, 4, 5),
    dropout: float = 0.5,
) -> TextCNN:
    """Kim's text CNN (:class:`TextCNN`) for token sequences of shape ``[seq_len]``.

    The defaults are Kim's (2014, section 3.1): 300-d embeddings, 100 maps per width,
    widths 3, 4, 5, dropout 0.5. Inputs are int64 token ids in ``[0, vocab)``; float
    input is refused by the embedding.

    Raises:
        ConfigError: for an input shape other than ``[seq_len]`` with ``seq_len`` at
            least the widest window, or a bad parameter value.
    """
    widths = positive_sizes("arch_params.widths", widths)
    sequence_length("textcnn", input_shape, minimum=max(widths))
    return TextCNN(
        vocab=positive_int("arch_params.vocab", vocab, minimum=2),
        embed_dim=positive_int("arch_params.embed_dim", embed_dim),
        filters=positive_int("arch_params.filters", filters),
        widths=widths,
        dropout=probability("arch_params.dropout", dropout),
        num_classes=num_classes,
    )
