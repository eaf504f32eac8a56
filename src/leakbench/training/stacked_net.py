"""K models of one ``nn.Sequential`` architecture run as one batched computation.

Parameters live in one flat buffer (and their gradients in another), viewed per layer
with a leading model axis; each view is a reshape of the module's own layout:

* a linear layer's weight is ``[K, out, in]`` and its bias ``[K, out, 1]``; activations
  are feature-major, ``[K, features, B]``, so the forward pass is one batched matmul
  ``torch.baddbmm(bias, weight, h)`` on contiguous operands, as is each product of the
  backward pass. (Measured on CPU against batch-major ``[K, B, features]``: equal for
  wide layers and 3-4x faster for narrow ones such as a 2-class output layer.)
* a convolution's K filter banks are concatenated, ``[K * out, in, kh, kw]``, and run as
  one grouped convolution (``groups = K``) on activations ``[B, K * C, H, W]``, where
  model k owns channels ``k*C .. k*C + C - 1``; ReLU and max-pooling act per channel,
  hence per model, unchanged. These activations are kept channels-last in memory: the
  grouped convolution then ran 1.6x faster on CPU than in NCHW, within 12% of K separate
  convolutions (``torch.func.vmap`` over the module measured no faster than NCHW).

An input shared by every model (prediction) has no model axis until the first layer with
weights, which runs one ordinary matmul or convolution against the K concatenated weight
sets. Every layout change is a reshape or transpose, so model k computes exactly the
function of the single module holding its parameters.

Training runs the backward pass by hand (:meth:`StackedNet.backward`) and writes each
gradient straight into the flat gradient buffer with ``out=`` kernels. Against autograd
this saves allocating, zeroing and freeing K gradient sets every step (measured up to
twice as fast for the Purchase-sized MLP on CPU); convolution and pooling call the ATen
backward kernels that autograd calls.

Each layer type's passes live in its handler (:mod:`~leakbench.training.fast_registry`,
built-in ones in :mod:`~leakbench.training.fast_layers`); this class chains them. A model
of other layers trains through :class:`~leakbench.training.functional.FuncNet`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

import leakbench.training.fast_layers  # noqa: F401  (registers the built-in handlers)
from leakbench.training import clipping as clipping_lib
from leakbench.training.fast_registry import BackwardStep, Flow, StackedLayer, handler_for


class StackedNet:
    """The stacked forward and backward passes of K models shaped like ``template``.

    Args:
        template: a single ``nn.Sequential`` model, e.g. from
            :func:`leakbench.models.build_model`.
        count: the number of models K.

    Raises:
        TypeError: if ``template`` is not a chain of layers that :meth:`supports`.
    """

    def __init__(self, template: nn.Module, count: int) -> None:
        if not self.supports(template):
            bad = [m for m in template.children() if handler_for(m) is None] or [template]
            raise TypeError(f"StackedNet: layer {bad[0]!r} is not supported")
        self.layers = list(template.children())
        self.handlers: list[StackedLayer] = [handler_for(m) for m in self.layers]  # type: ignore[misc]
        self.count = count
        self.shapes: dict[str, tuple[int, ...]] = {}  # compute-layout shape per parameter
        self._names: list[list[tuple[str, str]]] = []  # per layer: (name in layer, full name)
        for i, (layer, handler) in enumerate(zip(self.layers, self.handlers, strict=True)):
            shapes = handler.shapes(layer, count)
            self._names.append([(name, f"{i}.{name}") for name in shapes])
            self.shapes.update({f"{i}.{name}": shape for name, shape in shapes.items()})
        self.size = sum(math.prod(s) for s in self.shapes.values())
        self._first_weighted = min(i for i, names in enumerate(self._names) if names)

    @staticmethod
    def supports(template: nn.Module) -> bool:
        """Whether ``template`` is an ``nn.Sequential`` whose every layer has a registered
        handler, with parameters in some layer and logits from the last."""
        if not isinstance(template, nn.Sequential) or len(template) == 0:
            return False
        handlers = [handler_for(m) for m in template.children()]
        if any(h is None for h in handlers):
            return False
        weighted = any(h.shapes(m, 1) for h, m in zip(handlers, template.children(), strict=True))  # type: ignore[union-attr]
        return weighted and handlers[-1].gives_logits  # type: ignore[union-attr]

    # -- parameters ---------------------------------------------------------------------

    def views(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Compute-layout views into a flat parameter (or gradient) buffer."""
        out, offset = {}, 0
        for name, shape in self.shapes.items():
            size = math.prod(shape)
            out[name] = flat[offset : offset + size].view(shape)
            offset += size
        return out

    def model_views(self, flat: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
        """Views of model k's parameters in a flat buffer, shaped as in the single module."""
        return {name: view[k] for name, view in self.unpack(flat).items()}

    def module_shape(self, name: str) -> torch.Size:
        """Shape of parameter ``name`` in the single module."""
        return self.layers[int(name.split(".")[0])].get_parameter(name.split(".")[1]).shape

    def pack(self, params: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Module-layout parameters ``{name: [K, *shape]}`` -> a new flat buffer."""
        return torch.cat([params[name].reshape(-1) for name in self.shapes])

    def unpack(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """A flat buffer -> module-layout parameters ``{name: [K, *shape]}``.

        The tensors are contiguous views into ``flat`` (no copy: the layouts differ only
        by a reshape).
        """
        return {
            name: view.view(self.count, *self.module_shape(name))
            for name, view in self.views(flat).items()
        }

    # -- passes -------------------------------------------------------------------------

    def forward(
        self,
        params: Mapping[str, torch.Tensor],
        x: torch.Tensor,
        *,
        shared: bool,
        tape: list[Any] | None = None,
    ) -> torch.Tensor:
        """Logits ``[K, B, num_classes]`` (a transposed view of feature-major ``[K, C, B]``).

        Args:
            params: compute-layout parameters (:meth:`views` of a flat buffer).
            x: one batch per model ``[K, B, *input_shape]``, or, if ``shared``, one batch
                ``[B, *input_shape]`` that every model sees.
            shared: whether ``x`` is shared by all models.
            tape: an empty list to fill with what :meth:`backward` needs (training only).
        """
        flow = Flow(x, "shared" if shared else "per_model", False, self.count)
        for layer, handler, names in zip(self.layers, self.handlers, self._names, strict=True):
            saved = handler.forward(layer, {n: params[full] for n, full in names}, flow)
            if tape is not None:
                tape.append(saved)
        return flow.h.transpose(1, 2)

    def backward(
        self,
        params: Mapping[str, torch.Tensor],
        grads: Mapping[str, torch.Tensor],
        tape: list[Any],
        grad: torch.Tensor,
        *,
        max_norm: float | None = None,
    ) -> torch.Tensor | None:
        """Write every parameter's gradient into ``grads`` (views of a flat buffer).

        Args:
            params: the parameters the forward pass used.
            grads: compute-layout views of the gradient buffer; overwritten.
            tape: filled by :meth:`forward` with ``shared=False``.
            grad: the loss gradient with respect to the logits, ``[K, B, num_classes]``.
            max_norm: if given, ``grad`` holds per-record loss gradients and ``grads``
                receives each model's sum of per-record gradients clipped to this norm
                (:mod:`~leakbench.training.clipping`).

        Returns:
            With ``max_norm``, the per-record gradient norms ``[K, B]`` before clipping.
        """
        grad = grad.transpose(1, 2)  # feature-major, like the activations
        step = BackwardStep(count=self.count, needs_input_grad=True, clipping=max_norm is not None)
        for i in range(len(self.layers) - 1, self._first_weighted - 1, -1):
            step.needs_input_grad = i > self._first_weighted
            names = self._names[i]
            grad = self.handlers[i].backward(
                self.layers[i],
                {n: params[full] for n, full in names},
                {n: grads[full] for n, full in names},
                tape[i],
                grad,
                step,
            )
        if max_norm is None:
            return None
        norms2: torch.Tensor | float = 0.0
        for term in step.terms:
            norms2 = norms2 + term.norms2
        assert isinstance(norms2, torch.Tensor)
        factor = clipping_lib.clip_factors(norms2, max_norm)  # [K, B]
        for term in step.terms:
            term.write(factor)
        return norms2.sqrt()

    # -- the engine interface (:mod:`~leakbench.training.engine`) ----------------------

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
        """One step's loss gradient into ``grads`` (see :meth:`backward`).

        ``x`` is ``[K, B, *input_shape]``, ``y`` the labels ``[K * B]``, ``weight`` the
        per-record weights of :func:`cross_entropy_grad`. No layer on the fast path draws
        random numbers, so ``generators`` is unused.
        """
        tape: list[Any] = []
        logits = self.forward(params, x, shared=False, tape=tape)
        return self.backward(
            params, grads, tape, cross_entropy_grad(logits, y, weight), max_norm=max_norm
        )

    def logits(self, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Every model's logits ``[K, B, C]`` on one shared batch ``x`` (eval mode)."""
        return self.forward(params, x, shared=True)


def cross_entropy_grad(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Gradient of ``L = sum_k sum_i w_ki CE(z_ki, y_ki)`` with respect to the logits.

    ``dL/dz_ki = w_ki (softmax(z_ki) - onehot(y_ki))``. The default ``w_ki = 1 / B`` makes
    L each model's mean cross-entropy over its batch of B records, summed over models, so
    model k's gradient is the one ``F.cross_entropy`` (mean reduction) gives it alone;
    DP-SGD passes ``w_ki`` = 1 for real records and 0 for padding, so each row is one
    record's own gradient.

    Args:
        logits: ``[K, B, C]`` (any strides; computed feature-major, ``[K, C, B]``).
        labels: ``[K * B]`` int64, model-major like ``logits.flatten(0, 1)``.
        weights: ``[K, B]`` per-record weights, or None for 1 / B.

    Returns:
        ``[K, B, C]``, a transposed view of a contiguous ``[K, C, B]`` tensor.
    """
    count, batch, classes = logits.shape
    grad = torch.softmax(logits.transpose(1, 2), dim=1)
    ids = torch.arange(classes, device=logits.device).view(1, classes, 1)
    onehot = labels.view(count, 1, batch) == ids  # elementwise: deterministic on any device
    grad.sub_(onehot.to(grad.dtype))
    if weights is None:
        grad.mul_(1.0 / batch)
    else:
        grad.mul_(weights.view(count, 1, batch))
    return grad.transpose(1, 2)
