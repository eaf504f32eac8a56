"""The two engines that run K stacked models, and the choice between them.

``"fast"`` is :class:`~leakbench.training.stacked_net.StackedNet`, the hand-written passes
for chains of layers with a registered handler; ``"func"`` is
:class:`~leakbench.training.functional.FuncNet`, ``torch.func`` for any ``nn.Module``;
``"auto"`` takes the fast path whenever every layer has a handler. Both hold parameters
in one flat buffer whose :meth:`Engine.unpack` views are ``{name: [K, *shape]}``, and
both serve the one training loop (:mod:`~leakbench.training.loop`) and prediction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import torch
from torch import nn

from leakbench.errors import ConfigError
from leakbench.training.fast_registry import handler_for
from leakbench.training.functional import FuncNet
from leakbench.training.stacked_net import StackedNet

ENGINES = ("auto", "fast", "func")


class Engine(Protocol):
    """What the training loop and prediction need from an engine."""

    count: int
    size: int

    def views(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """The engine's own (compute-layout) views of a flat buffer."""
        ...

    def unpack(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Module-layout views ``{name: [K, *shape]}`` of a flat buffer."""
        ...

    def pack(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``{name: [K, *shape]}`` -> a new flat buffer."""
        ...

    def gradient(
        self,
        params: Mapping[str, torch.Tensor],
        grads: Mapping[str, torch.Tensor],
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        weight: torch.Tensor | None,
        max_norm: float | None,
        generators: Sequence[torch.Generator],
    ) -> torch.Tensor | None:
        """One step's loss gradient into ``grads``; per-record norms when clipping."""
        ...

    def logits(self, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Logits ``[K, B, C]`` of every model on one shared batch, in eval mode."""
        ...


def make_engine(*, template: nn.Module, count: int, engine: str = "auto") -> Engine:
    """The engine named ``engine`` for K = ``count`` models shaped like ``template``.

    Raises:
        ConfigError: for an unknown engine name, or ``"fast"`` for a model with a layer
            that has no fast-path handler (naming the layer).
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine: {engine!r} is not allowed; allowed: {', '.join(ENGINES)}")
    fast = StackedNet.supports(template)
    if engine == "fast" and not fast:
        layers = list(template.children()) if isinstance(template, nn.Sequential) else []
        bad = next((m for m in layers if handler_for(m) is None), template)
        raise ConfigError(
            f"engine: 'fast' is not allowed for a model with {type(bad).__name__} "
            "(no fast-path handler); allowed: auto, func"
        )
    if engine == "func" or not fast:
        return FuncNet(template, count)
    return StackedNet(template, count)
