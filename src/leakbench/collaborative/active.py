"""Active property inference by multi-task learning (Melis et al. 2019, Section IV-E,
Fig. 7).

The adversary extends its local copy of the joint model with a property head connected
to the last hidden layer (the input of the model's output layer) and uploads the update
of the joint loss. Weighting convention: the paper's formula (Section IV-E) is
L_mt = alpha·L(x, y; θ) + (1 - alpha)·L(x, p; θ), but its Fig. 7 calls alpha = 0 the passive attack
and the AUC rises with alpha; the released code weights the property loss by alpha. leakbench
follows the code and the figure:

    L_mt = (1 - alpha)·L(x, y; θ) + alpha·L(x, p; θ),

so alpha = 0 is the passive adversary (main task only) and alpha = 1 trains the shared layers on
the property alone. The head is the adversary's own: it is trained with its share of the
loss and never uploaded.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad

from leakbench.errors import ConfigError

Params = dict[str, Tensor]


def check_alpha(alpha: float, *, key: str) -> float:
    """``alpha`` if 0 <= alpha <= 1.

    Raises:
        ConfigError: naming ``key``, the value and the allowed range.
    """
    if isinstance(alpha, bool) or not 0 <= alpha <= 1:
        raise ConfigError(f"{key}: {alpha!r} is not allowed; allowed: 0 <= alpha <= 1")
    return float(alpha)


def carries_head(model: nn.Module) -> bool:
    """Whether ``model`` has the output layer a property head attaches to
    (:func:`output_layer`)."""
    return isinstance(model, nn.Sequential) and isinstance(model[-1], nn.Linear)


def output_layer(model: nn.Module, *, key: str) -> tuple[str, nn.Linear]:
    """The name and module of ``model``'s output layer: the last module of an
    ``nn.Sequential`` that ends in ``nn.Linear`` (the registry's mlp and logreg).

    Raises:
        ConfigError: naming ``key`` if the model has no such layer.
    """
    if carries_head(model):
        return list(model._modules)[-1], model[-1]
    raise ConfigError(
        f"{key}: {type(model).__name__} is not allowed for the active attack; allowed: an "
        "architecture that is an nn.Sequential ending in nn.Linear (mlp)"
    )


def new_head(model: nn.Module, *, key: str, generator: torch.Generator) -> Params:
    """The property head: a linear layer from the last hidden layer to 2 logits (has /
    lacks the property), initialised as ``nn.Linear`` is (uniform ±1/sqrt(fan_in)) from
    ``generator``."""
    _, last = output_layer(model, key=key)
    bound = last.in_features**-0.5
    shape = (2, last.in_features)
    weight = (torch.rand(shape, generator=generator) * 2 - 1) * bound
    bias = (torch.rand(2, generator=generator) * 2 - 1) * bound
    return {"weight": weight.to(last.weight.dtype), "bias": bias.to(last.weight.dtype)}


def multitask_loss(
    *, main_logits: Tensor, y: Tensor, prop_logits: Tensor, p: Tensor, alpha: float
) -> Tensor:
    """L_mt = (1 - alpha)·CE(main_logits, y) + alpha·CE(prop_logits, p), cross-entropies
    averaged over the batch (the module docstring's convention)."""
    ce = nn.functional.cross_entropy
    return (1 - alpha) * ce(main_logits, y) + alpha * ce(prop_logits, p)


def adversary_update(
    *,
    model: nn.Module,
    params: Mapping[str, Tensor],
    head: Mapping[str, Tensor],
    x: Tensor,
    y: Tensor,
    p: Tensor,
    alpha: float,
    lr: float,
    key: str,
) -> tuple[Params, Params]:
    """One SGD step of the multi-task loss at the global parameters ``params``.

    Returns:
        The adversary's update of the joint model, -lr ∇_θ L_mt (what it uploads), and
        its head after the step, head - lr ∇_head L_mt.
    """
    name, _ = output_layer(model, key=key)
    body = model[:-1]
    prefix = f"{name}."

    def loss(theta: Mapping[str, Tensor], h: Mapping[str, Tensor]) -> Tensor:
        inner = {k: v for k, v in theta.items() if not k.startswith(prefix)}
        hidden = functional_call(body, inner, (x,))
        main = nn.functional.linear(hidden, theta[f"{prefix}weight"], theta[f"{prefix}bias"])
        prop = nn.functional.linear(hidden, h["weight"], h["bias"])
        return multitask_loss(main_logits=main, y=y, prop_logits=prop, p=p, alpha=alpha)

    g_theta, g_head = grad(loss, argnums=(0, 1))(dict(params), dict(head))
    update = {k: -lr * g_theta[k] for k in params}
    return update, {k: head[k] - lr * g_head[k] for k in head}
