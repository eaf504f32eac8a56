"""Per-step hooks of the training loop: a gradient transform, a loss term on the
parameters and a per-round or per-step callback.

Every hook sees the K stacked models at once, as module-layout views ``{name: [K, *shape]}``
of the flat parameter and gradient buffers (index ``[k]`` for model k), and must treat the
models independently to keep model k's training independent of its stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from leakbench.errors import ConfigError

Tensors = dict[str, torch.Tensor]
CALLBACK_EVERY = ("round", "step")


@dataclass(frozen=True)
class Progress:
    """Where training is, for a callback.

    Attributes:
        round: the round just finished (or in progress, for a per-step callback), from 0;
            a round is an epoch, or as many DP-SGD steps as an epoch has batches.
        step: optimiser steps taken so far.
        params: the parameters after the last step, ``{name: [K, *shape]}`` (live views:
            copy what must outlive the call).
    """

    round: int
    step: int
    params: Tensors


@dataclass(frozen=True)
class Hooks:
    """What the training loop calls besides the loss gradient.

    Attributes:
        grad_transform: ``grad_transform(grads, params)``, called after the loss gradient
            (and DP noise) is in ``grads`` and before the optimiser step; changes
            ``grads`` in place (e.g. share only a fraction of each gradient).
        param_loss: ``param_loss(params) -> [K]``, model k's extra loss term on its own
            parameters (e.g. a malicious regulariser); its gradient is added to the loss
            gradient, after DP clipping and noise (it depends on no record).
        callback: ``callback(progress)`` after every round or step (``every``).
        every: ``"round"`` or ``"step"``.

    Raises:
        ConfigError: for another value of ``every``.
    """

    grad_transform: Callable[[Tensors, Tensors], None] | None = None
    param_loss: Callable[[Tensors], torch.Tensor] | None = None
    callback: Callable[[Progress], None] | None = None
    every: str = "round"

    def __post_init__(self) -> None:
        if self.every not in CALLBACK_EVERY:
            raise ConfigError(
                f"every: {self.every!r} is not allowed; allowed: {', '.join(CALLBACK_EVERY)}"
            )


def with_callback(hooks: Hooks, callback: Callable[[Progress], None]) -> Hooks:
    """``hooks`` that also call ``callback``: after every step, or after every round where
    ``hooks`` already has a per-round callback (which runs first)."""
    if hooks.callback is None:
        return replace(hooks, callback=callback, every="step")
    first = hooks.callback

    def both(progress: Progress) -> None:
        first(progress)
        callback(progress)

    return replace(hooks, callback=both)
