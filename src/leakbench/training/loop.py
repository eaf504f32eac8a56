"""The one training loop: plain training and DP-SGD, fast path and fallback alike.

Each step takes the sampler's next batch (model k's rows in row k), has the engine write
the loss gradient into the flat gradient buffer (for DP-SGD, the sum of clipped
per-record gradients, then per-model noise and the ``1 / (q n)`` scale of
:class:`~leakbench.training.private.PrivateStep`), adds the gradient of the hooks'
parameter loss, applies their gradient transform, and takes one optimiser step on the
flat buffer; the callback runs after each round or step (:mod:`~leakbench.training.hooks`).
A model the batch marks inactive (it has finished its own steps,
:class:`~leakbench.training.samplers.RaggedEpochSampler`) keeps its parameters through
the step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from leakbench.errors import ConfigError
from leakbench.training.augment import Augmenter
from leakbench.training.engine import Engine
from leakbench.training.hooks import Hooks, Progress
from leakbench.training.optim import CosineSchedule, Optimizer
from leakbench.training.private import PrivateStep, add_noise
from leakbench.training.samplers import Batch, Sampler


def train_loop(
    *,
    engine: Engine,
    flat: torch.Tensor,
    optimizer: Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    rows: torch.Tensor,
    generators: Sequence[torch.Generator],
    sampler: Sampler,
    hooks: Hooks,
    private: PrivateStep | None,
    schedule: CosineSchedule | None = None,
    rates: Callable[[int], torch.Tensor] | None = None,
    augment: Augmenter | None = None,
) -> None:
    """Train the K models whose parameters are ``flat`` (``flat.grad`` is the gradient
    buffer, overwritten each step).

    Args:
        engine: runs the models' passes.
        flat: the flat parameter buffer, with ``flat.grad`` of the same size.
        optimizer: steps ``flat``.
        x: the pool's inputs ``[N, *input_shape]`` on the device.
        y: the pool's labels ``[N]`` on the device.
        rows: int64 ``[K, n]``, model k's pool rows (padded, for a sampler that knows
            each model's count).
        generators: model k's generator (batches, dropout masks, DP noise).
        sampler: the rounds of batches.
        hooks: the gradient transform, parameter loss and callback.
        private: DP-SGD's clipping and noise, or None.
        schedule: the learning-rate schedule, stepped after every optimiser step, or None.
        rates: per-model learning-rate factors [K] at a stack step
            (:func:`~leakbench.training.optim.model_rates`), or None: model k's update of
            the step is scaled by its factor.
        augment: the image augmentation of each model's batch, or None.
    """
    count = rows.shape[0]
    weights, grads = engine.views(flat), engine.views(flat.grad)
    params, module_grads = engine.unpack(flat), engine.unpack(flat.grad)
    noise = None if private is None else torch.empty(engine.size)
    step = 0
    for round_index, batches in enumerate(sampler.rounds(rows, generators)):
        for batch in batches:
            idx = batch.index.reshape(-1).to(x.device)
            xb = x.index_select(0, idx).view(count, batch.index.shape[1], *x.shape[1:])
            if augment is not None:
                xb = augment(xb, _counted(batch))
            engine.gradient(
                weights,
                grads,
                xb,
                y.index_select(0, idx),
                weight=None if batch.weight is None else batch.weight.to(x.device),
                max_norm=None if private is None else private.max_norm,
                generators=generators,
            )
            if private is not None:
                add_noise(engine, flat.grad, generators, private.std, noise)
                flat.grad.mul_(private.scale)
            if hooks.param_loss is not None:
                flat.grad.add_(_param_loss_grad(engine, flat, hooks))
            if hooks.grad_transform is not None:
                hooks.grad_transform(module_grads, params)
            idle = _idle_models(batch)
            frozen = {name: p[idle].clone() for name, p in params.items()} if idle else None
            before = None if rates is None else flat.detach().clone()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            if before is not None and rates is not None:
                _scale_update(engine, flat, before, rates(step))
            if frozen is not None:
                for name, p in params.items():
                    p[idle] = frozen[name]
            step += 1
            if hooks.callback is not None and hooks.every == "step":
                hooks.callback(Progress(round_index, step, params))
        if hooks.callback is not None and hooks.every == "round":
            hooks.callback(Progress(round_index, step, params))


def _counted(batch: Batch) -> torch.Tensor:
    """bool [K, B]: the records that count in model k's loss (weight > 0)."""
    if batch.weight is None:
        return torch.ones(batch.index.shape, dtype=torch.bool)
    return batch.weight > 0


def _scale_update(
    engine: Engine, flat: torch.Tensor, before: torch.Tensor, factors: torch.Tensor
) -> None:
    """``flat = before + factors[k] * (flat - before)`` on model k's parameters."""
    with torch.no_grad():
        new, old = engine.unpack(flat), engine.unpack(before)
        for name, p in new.items():
            scale = factors.to(device=p.device, dtype=p.dtype).view(-1, *[1] * (p.dim() - 1))
            p.sub_(old[name]).mul_(scale).add_(old[name])


def _idle_models(batch: Batch) -> list[int]:
    """The models that do not take this batch's step."""
    if batch.active is None:
        return []
    return torch.nonzero(~batch.active).flatten().tolist()


def _param_loss_grad(engine: Engine, flat: torch.Tensor, hooks: Hooks) -> torch.Tensor:
    """Gradient of ``sum_k param_loss(params)[k]`` with respect to the flat buffer."""
    assert hooks.param_loss is not None
    with torch.enable_grad():
        leaf = flat.detach().requires_grad_(True)
        loss = hooks.param_loss(engine.unpack(leaf))
        if loss.shape != (engine.count,):
            raise ConfigError(
                f"param_loss: a result of shape {list(loss.shape)} is not allowed; "
                f"allowed: one loss per model, shape [{engine.count}]"
            )
        (grad,) = torch.autograd.grad(loss.sum(), leaf)
    return grad
