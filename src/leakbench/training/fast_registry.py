"""The registry of hand-written stacked layers: one handler per ``nn.Module`` type.

A handler holds one layer type's pieces of :class:`~leakbench.training.stacked_net.StackedNet`:
the compute-layout shapes of its parameters for K models, its stacked forward pass, its
hand-written backward pass and, for DP-SGD, its per-sample gradient norms and clipped
sums. Handlers are registered by layer type, as Opacus registers its grad samplers
(``@register_grad_sampler(nn.Linear)``), so a fast path is added one layer type at a
time; a model whose every layer has a handler trains on the fast path, any other trains
through the :mod:`torch.func` fallback (:mod:`~leakbench.training.functional`).

Activations flow between handlers in one of four layouts (:class:`Flow`):

* ``"shared"``: one batch every model sees, ``[B, *shape]`` (prediction);
* ``"per_model"``: one batch per model, ``[K, B, *shape]`` (training input);
* ``"features"``: feature-major ``[K, features, B]`` (after a linear layer);
* ``"grouped"``: channels of the K models side by side, ``[B, K * C, H, W]``, channels-last.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class Flow:
    """The activation between two layers of the stacked forward pass.

    Attributes:
        h: the activation tensor.
        layout: ``"shared"``, ``"per_model"``, ``"features"`` or ``"grouped"``.
        owned: whether ``h`` was computed by this pass (so it may be changed in place).
        count: the number of models K.
    """

    h: torch.Tensor
    layout: str
    owned: bool
    count: int


@dataclass(frozen=True)
class ClipTerm:
    """One layer's share of DP-SGD clipping.

    Attributes:
        norms2: the squared norms ``[K, B]`` of each record's gradient of this layer's
            parameters.
        write: ``write(factor)`` writes ``sum_i factor[k, i] g_ki`` (the clipped sum,
            ``factor`` of shape ``[K, B]``) into the layer's gradient views.
    """

    norms2: torch.Tensor
    write: Callable[[torch.Tensor], None]


@dataclass
class BackwardStep:
    """What a handler's backward pass needs besides its own tensors.

    Attributes:
        count: the number of models K.
        needs_input_grad: whether the gradient at the layer's input is needed (false for
            the first layer with parameters).
        clipping: whether DP-SGD per-sample clipping is on: a layer with parameters then
            appends a :class:`ClipTerm` to ``terms`` instead of writing its gradient.
        terms: the clipping terms, in backward order.
    """

    count: int
    needs_input_grad: bool
    clipping: bool
    terms: list[ClipTerm] = field(default_factory=list)


class StackedLayer(ABC):
    """A layer type's stacked passes.

    Attributes:
        gives_logits: whether the layer leaves the ``"features"`` layout that the stacked
            logits are read from (a model on the fast path must end with such a layer).
    """

    gives_logits = False

    def accepts(self, layer: nn.Module) -> bool:
        """Whether this handler computes ``layer`` exactly (e.g. a supported padding)."""
        return True

    def shapes(self, layer: nn.Module, count: int) -> dict[str, tuple[int, ...]]:
        """Compute-layout shape, for K = ``count`` models, of each of the layer's parameters
        (by the parameter's name in the layer); each is a reshape of ``[K, *shape]``."""
        return {}

    @abstractmethod
    def forward(self, layer: nn.Module, params: Mapping[str, torch.Tensor], flow: Flow) -> Any:
        """Advance ``flow`` through the layer; return what :meth:`backward` needs."""

    @abstractmethod
    def backward(
        self,
        layer: nn.Module,
        params: Mapping[str, torch.Tensor],
        grads: Mapping[str, torch.Tensor],
        saved: Any,
        grad: torch.Tensor,
        step: BackwardStep,
    ) -> torch.Tensor:
        """Write the layer's parameter gradients into ``grads`` (or, when clipping, append
        its :class:`ClipTerm`) and return the gradient at its input."""


STACKED_LAYERS: dict[type[nn.Module], StackedLayer] = {}


def register_stacked_layer(
    *layer_types: type[nn.Module],
) -> Callable[[type[StackedLayer]], type[StackedLayer]]:
    """Class decorator: register one instance of the handler for each of ``layer_types``.

    The lookup is by exact type, as for Opacus's grad samplers: a subclass of a
    registered layer may compute something else and needs its own handler.
    """

    def register(handler: type[StackedLayer]) -> type[StackedLayer]:
        instance = handler()
        for layer_type in layer_types:
            STACKED_LAYERS[layer_type] = instance
        return handler

    return register


def handler_for(layer: nn.Module) -> StackedLayer | None:
    """The registered handler that computes ``layer``, or None."""
    handler = STACKED_LAYERS.get(type(layer))
    return handler if handler is not None and handler.accepts(layer) else None
