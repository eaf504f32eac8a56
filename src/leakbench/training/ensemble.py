"""K trained models of one architecture, held as stacked parameters."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from leakbench.models import build_model, get_architecture

INPUT_DTYPES = {"float": np.float32, "tokens": np.int64}
"""The array dtype of each kind of input an architecture takes (``Architecture.inputs``)."""

_GLOBAL_RNG = threading.Lock()  # seeded_model seeds torch's global generator


def seeded_model(
    *,
    arch: str,
    arch_params: Mapping[str, Any],
    input_shape: Sequence[int],
    num_classes: int,
    seed: int,
) -> nn.Module:
    """One freshly initialised model: torch's default initialisation drawn from ``seed``.

    Both trainers initialise model k this way, so they start from identical weights. The
    caller's global torch RNG state is left as it was. Safe to call from several threads
    at once (:mod:`~leakbench.training.workers`): one builds at a time.
    """
    with _GLOBAL_RNG, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(
            arch, input_shape=tuple(input_shape), num_classes=num_classes, **arch_params
        )


@dataclass(frozen=True)
class StackedModels:
    """K models of one architecture.

    Attributes:
        arch: architecture name (a key of :data:`leakbench.models.ARCHITECTURES`).
        arch_params: the architecture's parameters (``hidden``, ``channels``).
        input_shape: shape of one input record.
        num_classes: number of output logits.
        seeds: model k's seed (its initialisation and its batch order).
        params: ``name -> tensor [K, *shape]``; ``params[name][k]`` is parameter ``name``
            of model k, with the names and shapes of the single ``nn.Module`` that
            :func:`leakbench.models.build_model` returns.
        privacy: for DP-SGD models, the noise calibration they were trained with
            (:meth:`leakbench.privacy.Calibration.as_dict`: accountant, noise multiplier,
            sampling rate, steps, clipping norm, delta, target and reported epsilon);
            None for ordinary training.
    """

    arch: str
    arch_params: dict[str, Any]
    input_shape: tuple[int, ...]
    num_classes: int
    seeds: tuple[int, ...]
    params: dict[str, torch.Tensor]
    privacy: dict[str, Any] | None = None

    @property
    def count(self) -> int:
        """The number of models K."""
        return len(self.seeds)

    @property
    def inputs(self) -> str:
        """What the architecture takes: ``"float"`` records or ``"tokens"`` (int64 ids)."""
        return get_architecture(self.arch).inputs

    def template(self) -> nn.Module:
        """A single model of this architecture, for its structure (its weights are not K's)."""
        return seeded_model(
            arch=self.arch,
            arch_params=self.arch_params,
            input_shape=self.input_shape,
            num_classes=self.num_classes,
            seed=0,
        )

    def model(self, k: int) -> nn.Module:
        """Model k as a plain ``nn.Module`` in eval mode."""
        module = self.template()
        module.load_state_dict({name: p[k] for name, p in self.params.items()})
        return module.eval()
