"""Train K models of one architecture at once, as one stacked computation.

Every parameter carries a leading model axis [K, ...]; ``torch.func.vmap`` over
``functional_call`` runs the K forward and backward passes as batched kernels (batched
matmuls for linear layers, grouped convolutions for conv layers). Model k trains only on
the pool rows where ``keep[k]`` is true (the membership mask of the LiRA code), with its
own seed for initialisation and for its batch order.

The loss is the sum over models of each model's mean cross-entropy, so model k's gradient
is exactly the gradient it would get alone; Adam and SGD act elementwise, so stacked
optimisation is the same computation as K independent runs (:mod:`.sequential`), up to
floating-point summation order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap

from leakbench.errors import ConfigError
from leakbench.models import build_model
from leakbench.training.config import TrainConfig
from leakbench.training.device import get_device


@dataclass
class StackedModels:
    """K trained models of one architecture; ``params[name]`` has shape [K, ...]."""

    arch: str
    arch_params: dict[str, Any]
    input_shape: tuple[int, ...]
    num_classes: int
    seeds: tuple[int, ...]
    params: dict[str, torch.Tensor]

    @property
    def count(self) -> int:
        """Number of models K."""
        return len(self.seeds)

    def template(self) -> nn.Module:
        """A single model of this architecture (its own weights are never used)."""
        return build_model(
            self.arch,
            input_shape=self.input_shape,
            num_classes=self.num_classes,
            **self.arch_params,
        )


def init_model(models: StackedModels, seed: int) -> nn.Module:
    """Model initialised from ``seed`` exactly as slot k of the stacked trainer is."""
    torch.manual_seed(seed)
    return models.template()


def member_rows(keep: np.ndarray) -> np.ndarray:
    """Row indices of each model's training set, as an int64 array [K, n].

    Raises:
        ConfigError: if ``keep`` is not a 2-d boolean mask with the same count per row.
    """
    keep = np.asarray(keep)
    if keep.ndim != 2 or keep.dtype != bool:
        raise ConfigError(f"keep: expected a boolean mask [models, records], got {keep.dtype}"
                          f"{list(keep.shape)}")
    counts = keep.sum(axis=1)
    if counts.min() < 1 or counts.min() != counts.max():
        raise ConfigError(
            f"keep: every model must train on the same number (>= 1) of records; "
            f"got counts {sorted(set(counts.tolist()))}"
        )
    return np.stack([np.flatnonzero(row) for row in keep]).astype(np.int64)


def make_optimizer(params: Sequence[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    """Adam (fused kernel where available) or plain SGD with the config's L2 factor."""
    if config.optimizer == "adam":
        return torch.optim.Adam(
            params, lr=config.lr, weight_decay=config.weight_decay, fused=True
        )
    return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)


def epoch_batches(order: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    """Consecutive slices of ``order`` along its last axis; the last may be shorter."""
    for start in range(0, order.shape[-1], batch_size):
        yield order[..., start : start + batch_size]


# Above this many weights a layer is compute-bound: one plain matmul per model beats a
# batched matmul, whose backward zero-fills and copies [K, out, in] gradients.
LARGE_LAYER = 65536

Params = dict[str, list[torch.Tensor]]


def _dense_forward(template: nn.Sequential, x_per_model: bool) -> Callable[..., torch.Tensor]:
    """Forward of a Flatten/Linear/ReLU stack over K models' per-model weight lists."""
    layers = [(str(i), type(m)) for i, m in enumerate(template)]

    def forward(params: Params, xb: torch.Tensor) -> torch.Tensor:
        k = len(next(iter(params.values())))
        h = xb.flatten(2) if x_per_model else xb.flatten(1).expand(k, -1, -1)
        for name, kind in layers:
            if kind is nn.Linear:
                ws, bs = params[f"{name}.weight"], params[f"{name}.bias"]
                if ws[0].numel() >= LARGE_LAYER:
                    h = torch.stack(
                        [torch.addmm(b, hk, w.t()) for hk, w, b in zip(h.unbind(0), ws, bs)]
                    )
                else:
                    weight, bias = torch.stack(ws), torch.stack(bs)
                    h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
            elif kind is nn.ReLU:
                h = torch.relu(h)
        return h

    return forward


def stacked_forward(template: nn.Module, *, x_per_model: bool) -> Callable[..., torch.Tensor]:
    """``f(params, x) -> logits [K, B, C]`` for K models; ``params[name]`` lists K tensors.

    ``x`` is [K, B, ...] (one batch per model) if ``x_per_model``, else [B, ...] shared by
    all models. Dense stacks run batched matmuls for small layers and one matmul per model
    for large ones; anything else (convolutions) goes through ``torch.func.vmap`` over
    ``functional_call`` on the stacked weights. Every path computes the same function.
    """
    if isinstance(template, nn.Sequential) and all(
        isinstance(m, (nn.Flatten, nn.Linear, nn.ReLU)) for m in template
    ):
        return _dense_forward(template, x_per_model)
    batched = vmap(
        lambda p, xb: functional_call(template, p, (xb,)), in_dims=(0, 0 if x_per_model else None)
    )
    return lambda params, xb: batched({k: torch.stack(v) for k, v in params.items()}, xb)


def _check_inputs(x: np.ndarray, y: np.ndarray, keep: np.ndarray, seeds: Sequence[int]) -> None:
    if len(x) != len(y) or keep.shape[1] != len(x):
        raise ConfigError(
            f"x, y, keep: {len(x)} inputs, {len(y)} labels and masks over {keep.shape[1]} "
            "records must agree"
        )
    if keep.shape[0] != len(seeds):
        raise ConfigError(f"seeds: {len(seeds)} seeds for {keep.shape[0]} models; need one each")


def train_stacked(
    *,
    arch: str,
    arch_params: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    keep: np.ndarray,
    seeds: Sequence[int],
    config: TrainConfig,
) -> StackedModels:
    """Train one model per row of ``keep`` in a single stacked computation."""
    rows = member_rows(keep)
    _check_inputs(x, y, keep, seeds)
    device = get_device()
    shell = StackedModels(arch, dict(arch_params), tuple(x.shape[1:]), num_classes,
                          tuple(int(s) for s in seeds), {})
    singles = [dict(init_model(shell, seed).named_parameters()) for seed in shell.seeds]
    params: Params = {
        name: [p[name].detach().to(device).requires_grad_() for p in singles]
        for name in singles[0]
    }
    template = shell.template().to(device)
    forward = stacked_forward(template, x_per_model=True)
    optimizer = make_optimizer([t for ts in params.values() for t in ts], config)
    generators = [torch.Generator().manual_seed(seed) for seed in shell.seeds]
    x_t = torch.as_tensor(x, device=device)
    y_t = torch.as_tensor(y, device=device)
    rows_t = torch.as_tensor(rows)
    n = rows.shape[1]
    for _ in range(config.epochs):
        perms = torch.stack([torch.randperm(n, generator=g) for g in generators])
        order = torch.gather(rows_t, 1, perms).to(device)
        for idx in epoch_batches(order, config.batch_size):
            flat = idx.flatten()
            xb = x_t.index_select(0, flat).view(*idx.shape, *x_t.shape[1:])
            logits = forward(params, xb)
            losses = F.cross_entropy(
                logits.flatten(0, 1), y_t.index_select(0, flat), reduction="none"
            ).view(idx.shape)
            optimizer.zero_grad(set_to_none=True)
            losses.mean(dim=1).sum().backward()
            optimizer.step()
    shell.params = {k: torch.stack(v).detach().cpu() for k, v in params.items()}
    return shell


@torch.no_grad()
def predict_logits(models: StackedModels, x: np.ndarray, *, batch_size: int = 4096) -> np.ndarray:
    """Logits of every model on every input: float32 [K, N, num_classes]."""
    device = get_device()
    template = models.template().to(device).eval()
    params = {k: list(v.to(device).unbind(0)) for k, v in models.params.items()}
    forward = stacked_forward(template, x_per_model=False)
    x_t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    chunks = [
        forward(params, x_t[i : i + batch_size].to(device)).cpu()
        for i in range(0, len(x_t), batch_size)
    ]
    if not chunks:
        return np.zeros((models.count, 0, models.num_classes), dtype=np.float32)
    return torch.cat(chunks, dim=1).numpy()
