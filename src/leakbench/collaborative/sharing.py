"""Selective gradient sharing, the defence of Melis et al. 2019, Section VIII-A (Table V).

Following Shokri & Shmatikov 2015 ("Privacy-preserving deep learning", Section IV), whom
Melis et al. cite for it, a participant uploads only a fraction θ_u of its update: the
entries of largest absolute value over all its parameters; the others are sent as zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor

from leakbench.errors import ConfigError

Params = dict[str, Tensor]


def check_fraction(fraction: float, *, key: str) -> float:
    """``fraction`` if 0 < fraction <= 1.

    Raises:
        ConfigError: naming ``key``, the value and the allowed range.
    """
    if isinstance(fraction, bool) or not 0 < fraction <= 1:
        raise ConfigError(f"{key}: {fraction!r} is not allowed; allowed: 0 < fraction <= 1")
    return float(fraction)


def kept_entries(*, total: int, fraction: float) -> int:
    """ceil(fraction * total), the product rounded to 9 decimals first so that a
    float such as 0.1 * 30 = 3.0000000000000004 counts 3: the entries a participant
    shares (at least one)."""
    return max(1, math.ceil(round(fraction * total, 9)))


def share_largest(update: Mapping[str, Tensor], *, fraction: float) -> Params:
    """The shared part of ``update`` ``{name: tensor}``: its :func:`kept_entries` entries
    of largest ``|value|`` over all tensors together, the others zero. Ties are broken by
    position (the earlier entry in the update's order is kept), so the choice is
    deterministic."""
    fraction = check_fraction(fraction, key="share_fraction")
    flat = torch.cat([v.flatten() for v in update.values()])
    kept = kept_entries(total=flat.numel(), fraction=fraction)
    order = torch.argsort(flat.abs(), descending=True, stable=True)
    mask = torch.zeros(flat.numel(), dtype=torch.bool)
    mask[order[:kept]] = True
    shared = torch.where(mask, flat, torch.zeros_like(flat))
    out, start = {}, 0
    for name, value in update.items():
        out[name] = shared[start : start + value.numel()].reshape(value.shape)
        start += value.numel()
    return out
