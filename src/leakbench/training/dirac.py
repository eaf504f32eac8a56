"""A Dirac gradient canary for white-box DP-SGD audits, inserted and observed by hooks.

The canary is a gradient ``g_c = r e_j``: norm r (chosen above the clipping norm C) along
one parameter coordinate j that no record's gradient touches (Nasr et al. 2021, "Adversary
instantiation", section 3, the gradient canary of their strongest adversary). In a step
where the canary is sampled, DP-SGD adds its clipped gradient to the sum of clipped record
gradients before the noise; addition commutes, so the gradient transform of
:class:`~leakbench.training.hooks.Hooks`, which sees ``(sum + noise) * scale``, adds
``clip(g_c) * scale`` and the result is the same. The canary is clipped by the same
function as the records (:func:`~leakbench.training.clipping.clip_factors`, looked up at
call time), so a trainer whose clipping is broken inserts it unclipped. A per-step callback
records the coordinate after every step, the iterates the accountant's threat model releases.
Several canaries, each in its own coordinate (the one-run audit of Steinke, Nasr and
Jagielski 2023), are one :class:`DiracCanary` whose index is a tuple of index tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from leakbench.errors import ConfigError
from leakbench.training import clipping as clipping_lib
from leakbench.training.hooks import Hooks, Progress, Tensors


@dataclass
class DiracCanary:
    """Insert Dirac gradient canaries into K stacked models and record their coordinates.

    Attributes:
        param: the parameter's name in the single module (e.g. ``"1.weight"``).
        index: the coordinate within one model's parameter: a tuple of ints (one canary),
            or of equal-length 1-d index tensors (m canaries, one coordinate each).
        sampled: bool ``[K, T]`` (one canary) or ``[K, T, m]``, whether model k's canary
            is in step t's batch (all false for a canary the model is trained without).
        norm: r, the canary gradient's norm before clipping.
        max_norm: C, the clipping norm the records are clipped to.
        scale: what the trainer multiplies the noisy gradient sum by, ``1 / (q n)``.
        trajectory: the coordinates of each model after each step so far, ``[K]`` (or
            ``[K, m]``) each.

    Raises:
        ConfigError: if the norms or the scale are not positive.
    """

    param: str
    index: tuple[int, ...] | tuple[torch.Tensor, ...]
    sampled: torch.Tensor
    norm: float
    max_norm: float
    scale: float
    trajectory: list[torch.Tensor] = field(default_factory=list, init=False)
    _step: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        for key in ("norm", "max_norm", "scale"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"{key}: {getattr(self, key)!r} is not allowed; allowed: > 0")

    def inserted(self) -> float:
        """The canary's contribution to a sampled step's gradient: ``r * c * scale`` with
        c the clip factor of a gradient of norm r."""
        norms2 = torch.tensor([[self.norm**2]], dtype=torch.float64)
        factor = float(clipping_lib.clip_factors(norms2, self.max_norm)[0, 0])
        return self.norm * factor * self.scale

    def insert(self, grads: Tensors, params: Tensors) -> None:
        """Gradient transform: add the clipped canary to the models that sample it now.

        Raises:
            ConfigError: when called for more steps than ``sampled`` holds.
        """
        if self._step >= self.sampled.shape[1]:
            raise ConfigError(
                f"steps: {self._step + 1} is not allowed; allowed: at most {self.sampled.shape[1]}"
            )
        column = self.sampled[:, self._step].to(grads[self.param].dtype)
        grads[self.param][(slice(None), *self.index)] += self.inserted() * column.to(
            grads[self.param].device
        )
        self._step += 1

    def observe(self, progress: Progress) -> None:
        """Per-step callback: record every model's canary coordinate."""
        value = progress.params[self.param][(slice(None), *self.index)]
        self.trajectory.append(value.detach().to("cpu", torch.float64).clone())

    def hooks(self) -> Hooks:
        """The hooks that insert the canary and record its coordinate every step."""
        return Hooks(grad_transform=self.insert, callback=self.observe, every="step")

    def updates(self, initial: torch.Tensor) -> torch.Tensor:
        """Each step's change of the coordinates, float64 ``[K, T]`` (or ``[K, T, m]``), from
        the models' initial values ``initial`` ``[K]`` (or ``[K, m]``)."""
        path = torch.stack([initial.to(torch.float64), *self.trajectory], dim=1)
        return path.diff(dim=1)
