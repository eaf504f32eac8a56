"""The fallback engine: K models of any ``nn.Module`` through :mod:`torch.func`.

Model k's parameters are the k-th slices of ``[K, *shape]`` tensors, module-layout views
into one flat buffer (as for the fast path, so the optimiser, DP noise and hooks see one
layout). One step vmaps ``grad`` of the single model's loss (``functional_call`` on the
parameter slices) over the model axis; each model's gradient is then exactly the one it
would get alone. For DP-SGD a second, inner ``vmap`` over the records gives every record's
own gradient (the per-sample gradients of Opacus's functorch mode), each clipped with
Opacus's factor ``min(1, C / (||g_i|| + 1e-6))`` (Abadi et al. 2016, Algorithm 1) and
summed.

Dropout masks are drawn outside ``vmap``, from each model's own generator
(:func:`~leakbench.training.func_layers.dropout_mask`), layer by layer in module order,
and passed in as buffers; layers ``vmap`` cannot run get a stand-in
(:mod:`~leakbench.training.func_layers`). Model k's result therefore does not depend on
the other models in its stack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from leakbench.training import clipping as clipping_lib
from leakbench.training.func_layers import MaskedDropout, dropout_mask, vmap_safe

_Tensors = Mapping[str, torch.Tensor]


class FuncNet:
    """K models shaped like ``template``, run with ``functional_call`` + ``vmap``.

    Args:
        template: a single model (any ``nn.Module`` whose forward ``vmap`` can run once
            the stand-ins are in place; no batch normalisation, which keeps running
            statistics).
        count: the number of models K.
    """

    def __init__(self, template: nn.Module, count: int) -> None:
        self.count = count
        self.shapes = {name: p.shape for name, p in template.named_parameters()}
        self.size = count * sum(math.prod(s) for s in self.shapes.values())
        self._train = vmap_safe(template, training=True)
        self._eval = vmap_safe(template, training=False)
        self._dropouts = [
            (f"{name}.mask", m.p)
            for name, m in self._train.named_modules()
            if isinstance(m, MaskedDropout)
        ]
        self._mask_shapes: dict[str, tuple[int, ...]] | None = None

    # -- parameters ---------------------------------------------------------------------

    def unpack(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """A flat buffer -> ``{name: [K, *shape]}``, contiguous views in module order."""
        out, offset = {}, 0
        for name, shape in self.shapes.items():
            size = self.count * math.prod(shape)
            out[name] = flat[offset : offset + size].view(self.count, *shape)
            offset += size
        return out

    views = unpack  # the engine's compute layout is the module layout

    def pack(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``{name: [K, *shape]}`` -> a new flat buffer."""
        return torch.cat([params[name].reshape(-1) for name in self.shapes])

    # -- passes -------------------------------------------------------------------------

    def gradient(
        self,
        params: _Tensors,
        grads: _Tensors,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        weight: torch.Tensor | None,
        max_norm: float | None,
        generators: Sequence[torch.Generator],
    ) -> torch.Tensor | None:
        """One step's loss gradient into ``grads`` (module-layout views, overwritten).

        Args:
            params: ``{name: [K, *shape]}``.
            grads: ``{name: [K, *shape]}``, receives the gradient.
            x: ``[K, B, *input_shape]``, model k's batch.
            y: labels ``[K * B]``, model-major.
            weight: per-record weights ``[K, B]`` of the loss ``sum_i w_ki CE_ki``, or None
                for each model's mean cross-entropy.
            max_norm: if given, each record's gradient (of its weighted loss) is clipped
                to this norm before the sum.
            generators: model k's generator, which draws its dropout masks.

        Returns:
            With ``max_norm``, the per-record gradient norms ``[K, B]`` before clipping.
        """
        self._place(x)
        labels = y.view(self.count, -1)
        masks = self._masks(x, weight, generators)
        if weight is None:
            weight = torch.full(labels.shape, 1.0 / labels.shape[1], device=x.device)
        if max_norm is None:
            summed = vmap(grad(self._loss))(dict(params), masks, x, labels, weight)
            for name, g in summed.items():
                grads[name].copy_(g)
            return None
        per_record = vmap(vmap(grad(self._record_loss), in_dims=(None, 0, 0, 0, 0)))(
            dict(params), masks, x, labels, weight
        )  # {name: [K, B, *shape]}
        norms2 = sum(g.flatten(2).square().sum(dim=2) for g in per_record.values())
        assert isinstance(norms2, torch.Tensor)
        factor = clipping_lib.clip_factors(norms2, max_norm)
        for name, g in per_record.items():
            grads[name].copy_(torch.einsum("kb,kb...->k...", factor, g))
        return norms2.sqrt()

    def logits(self, params: _Tensors, x: torch.Tensor) -> torch.Tensor:
        """Every model's logits ``[K, B, C]`` on one shared batch ``x`` (eval mode)."""
        self._place(x)
        return vmap(lambda p: functional_call(self._eval, p, (x,)))(dict(params))

    # -- helpers ------------------------------------------------------------------------

    def _loss(
        self, params: _Tensors, masks: _Tensors, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor
    ) -> torch.Tensor:
        """One model's weighted cross-entropy ``sum_i w_i CE(f(x_i), y_i)`` on its batch."""
        logits = functional_call(self._train, {**params, **masks}, (x,))
        return (F.cross_entropy(logits, y, reduction="none") * w).sum()

    def _record_loss(
        self, params: _Tensors, masks: _Tensors, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor
    ) -> torch.Tensor:
        """One record's weighted cross-entropy (a batch of one inside the inner vmap)."""
        one = {name: m[None] for name, m in masks.items()}
        return self._loss(params, one, x[None], y[None], w[None])

    def _place(self, x: torch.Tensor) -> None:
        """Keep the modules' buffers on the device of the data."""
        for module in (self._train, self._eval):
            module.to(x.device)

    def _masks(
        self,
        x: torch.Tensor,
        weight: torch.Tensor | None,
        generators: Sequence[torch.Generator],
    ) -> dict[str, torch.Tensor]:
        """Every dropout layer's masks ``[K, B, *features]``, model k's from its generator.

        Model k draws masks for its own records only (all B, or its sampled records,
        which come first, when ``weight`` marks padding), so the draws it takes from its
        generator do not depend on how much the other models' batches were padded; its
        padding rows get ones (their loss weight is 0).
        """
        if not self._dropouts:
            return {}
        if self._mask_shapes is None:
            self._mask_shapes = self._probe(x[0, :1])
        batch = x.shape[1]
        counts = [batch] * self.count if weight is None else (weight > 0).sum(dim=1).tolist()
        out = {}
        for name, p in self._dropouts:
            features = self._mask_shapes[name]
            masks = torch.ones(self.count, batch, *features)
            for k, (count, generator) in enumerate(zip(counts, generators, strict=True)):
                masks[k, :count] = dropout_mask(p=p, shape=(count, *features), generator=generator)
            out[name] = masks.to(x.device)
        return out

    def _probe(self, record: torch.Tensor) -> dict[str, tuple[int, ...]]:
        """The input shape of each dropout layer for one record (the eval copy, where
        dropout is the identity, run once on ``record``)."""
        shapes: dict[str, tuple[int, ...]] = {}
        handles = [
            self._eval.get_submodule(name.rpartition(".")[0]).register_forward_pre_hook(
                lambda _m, args, name=name: shapes.__setitem__(name, tuple(args[0].shape[1:]))
            )
            for name, _ in self._dropouts
        ]
        with torch.no_grad():
            self._eval(record)
        for handle in handles:
            handle.remove()
        return shapes
