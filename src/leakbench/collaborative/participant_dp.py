"""Participant-level differential privacy for synchronised SGD, the defence Melis et al. 2019
try in Section VIII-D (McMahan et al. 2018, "Learning differentially private recurrent
language models", Algorithm 1 with every participant in every round).

Each round every participant's update Δθ^k is clipped to L2 norm C over all its parameters
together, Δθ^k · min(1, C / ||Δθ^k||_2), and the server adds one draw of N(0, sigma^2 C^2 I)
to the sum of the clipped updates; the global model moves by that noised sum, so every
participant, the adversary included, sees only the noised aggregate. The noise is added
once by the server, as in McMahan et al.'s trusted-aggregator model, rather than by each
participant: with noise of variance sigma^2 C^2 / K from each of K participants the sum
would carry the same noise, but the adversary would know its own share and subtract it,
leaving the others' updates under less noise than the accountant assumed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor

from leakbench.errors import ConfigError

Params = dict[str, Tensor]


@dataclass(frozen=True)
class ParticipantDP:
    """The clipping norm C and noise multiplier sigma of one run.

    Attributes:
        clip: C > 0, the L2 norm each participant's update is clipped to.
        noise_multiplier: sigma >= 0; the noise on the sum has standard deviation sigma * C.
        key: the config key named when a value is refused.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """

    clip: float
    noise_multiplier: float
    key: str = "privacy"

    def __post_init__(self) -> None:
        for name, value, ok, allowed in (
            ("max_grad_norm", self.clip, _positive(self.clip), "a finite number > 0"),
            (
                "noise_multiplier",
                self.noise_multiplier,
                _positive(self.noise_multiplier) or self.noise_multiplier == 0,
                "a finite number >= 0",
            ),
        ):
            if not ok:
                raise ConfigError(
                    f"{self.key}.{name}: {value!r} is not allowed; allowed: {allowed}"
                )

    @property
    def std(self) -> float:
        """sigma * C, the standard deviation of each entry of the server's noise."""
        return self.noise_multiplier * self.clip


def _positive(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def norm(update: Mapping[str, Tensor]) -> Tensor:
    """||Δθ||_2 over every tensor of ``update`` together."""
    return torch.sqrt(sum((v.to(torch.float64) ** 2).sum() for v in update.values()))


def clip_update(update: Mapping[str, Tensor], *, clip: float) -> Params:
    """``update`` scaled by min(1, C / ||update||_2) (McMahan et al. 2018, ClipFn with flat
    clipping): unchanged when its norm is at most C, of norm exactly C otherwise."""
    total = float(norm(update))
    scale = 1.0 if total <= clip else clip / total
    return {k: v * scale for k, v in update.items()}


def noise(like: Mapping[str, Tensor], *, std: float, generator: torch.Generator) -> Params:
    """Independent N(0, std^2) entries shaped like ``like``, drawn in its key order from
    ``generator`` (the same seed gives the same bytes)."""
    return {
        k: torch.randn(v.shape, generator=generator, dtype=v.dtype) * std for k, v in like.items()
    }


def server_aggregate(
    updates: list[Mapping[str, Tensor]], *, dp: ParticipantDP, generator: torch.Generator
) -> tuple[list[Params], Params]:
    """The clipped updates clip(Δθ^k, C) and the server's aggregate
    sum_k clip(Δθ^k, C) + N(0, sigma^2 C^2 I), one noise draw from ``generator`` (module
    docstring). A participant who subtracts its own clipped update from the aggregate is
    left with the others' clipped updates plus the whole noise."""
    clipped = [clip_update(u, clip=dp.clip) for u in updates]
    drawn = noise(clipped[0], std=dp.std, generator=generator)
    total = {k: sum((u[k] for u in clipped), drawn[k]) for k in clipped[0]}
    return clipped, total
