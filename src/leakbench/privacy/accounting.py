"""Noise calibration: the noise multiplier that spends a target (epsilon, delta) budget.

DP-SGD with Poisson sampling at rate q for T steps and Gaussian noise of standard deviation
sigma * C on the sum of clipped per-sample gradients is (epsilon, delta)-DP with the
epsilon an accountant computes from (sigma, q, T, delta) (Abadi et al. 2016, section 3.1;
Mironov 2017 for Renyi DP). Opacus's accountants do that computation here; leakbench
only chooses q and T the way Opacus's ``DPDataLoader`` does: q = 1 / ceil(n / B) and
ceil(n / B) steps per epoch, so an epoch sees n records in expectation.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Any

from leakbench.privacy.settings import DPConfig


@dataclass(frozen=True)
class Calibration:
    """What DP-SGD runs with, and what the accountant says it spends.

    Attributes:
        accountant: the Opacus accountant (``rdp`` or ``prv``).
        noise_multiplier: sigma; the noise added to a summed gradient has std sigma * C.
        sample_rate: q, each record's probability of joining a step's batch.
        steps: T, the number of noisy steps.
        max_grad_norm: C, the per-sample clipping norm.
        delta: the delta the budget is spent at.
        target_epsilon: the epsilon asked for.
        epsilon: the epsilon the accountant reports for (sigma, q, T) at delta, <= target.
    """

    accountant: str
    noise_multiplier: float
    sample_rate: float
    steps: int
    max_grad_norm: float
    delta: float
    target_epsilon: float
    epsilon: float

    def expected_batch_size(self, records: int) -> float:
        """q * n, the divisor of the noisy gradient sum (Opacus's mean reduction)."""
        return self.sample_rate * records

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.lru_cache(maxsize=64)
def calibrate(dp: DPConfig, *, records: int, batch_size: int, epochs: int) -> Calibration:
    """The smallest noise multiplier (to Opacus's binary-search tolerance of 0.01 in epsilon)
    that keeps ``epochs`` passes over ``records`` records in batches of ``batch_size`` in
    expectation within ``dp``'s (epsilon, delta).

    Memoised (the arguments are hashable, the result frozen): the audit cells and the
    trainer ask for the same budget's calibration several times in one job, and the
    accountant's search takes seconds.

    Raises:
        ConfigError: from :class:`DPConfig`, for an infinite epsilon (no DP to calibrate).
        ValueError: from Opacus, if the budget needs a noise multiplier above 1e6.
    """
    per_epoch = math.ceil(records / batch_size)
    return _calibration(dp, sample_rate=1.0 / per_epoch, steps=epochs * per_epoch)


@functools.lru_cache(maxsize=64)
def calibrate_rounds(dp: DPConfig, *, rounds: int) -> Calibration:
    """The smallest noise multiplier sigma (Opacus's search, as :func:`calibrate`) that keeps
    ``rounds`` rounds of participant-level DP within ``dp``'s (epsilon, delta): every
    participant takes part in every round (sampling rate q = 1), its update is clipped to
    L2 norm C and the server adds N(0, sigma^2 C^2) to the sum (McMahan et al. 2018,
    "Learning differentially private recurrent language models", Algorithm 1 with q = 1;
    the defence Melis et al. 2019 try in Section VIII-D).

    Each round is the Gaussian mechanism of sensitivity C, whose Renyi DP at order a is
    a / (2 sigma^2) (Mironov 2017, Proposition 7); T rounds compose to
    RDP_T(a) = T a / (2 sigma^2) (Proposition 1), and the accountant converts it to
    epsilon(delta) = min_a [RDP_T(a) + log((a - 1) / a) - (log delta + log a) / (a - 1)]
    (Balle et al. 2020, Theorem 21; Opacus's ``rdp`` accountant over its orders). With
    ``dp.accountant == "prv"`` the PRV accountant does the composition instead.

    Raises:
        ConfigError: from :class:`DPConfig`; ValueError: for an infinite epsilon or
            ``rounds`` < 1.
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"calibrate_rounds: rounds {rounds!r} is not allowed; allowed: >= 1")
    return _calibration(dp, sample_rate=1.0, steps=rounds)


def _calibration(dp: DPConfig, *, sample_rate: float, steps: int) -> Calibration:
    """sigma from Opacus's search for ``steps`` steps at ``sample_rate``, and the epsilon
    its accountant reports for it."""
    from opacus.accountants import create_accountant
    from opacus.accountants.utils import get_noise_multiplier

    if not dp.private:
        raise ValueError("calibrate: epsilon = inf needs no noise; train without DP instead")
    sigma = get_noise_multiplier(
        target_epsilon=dp.epsilon,
        target_delta=dp.delta,
        sample_rate=sample_rate,
        steps=steps,
        accountant=dp.accountant,
    )
    accountant = create_accountant(mechanism=dp.accountant)
    accountant.history = [(sigma, sample_rate, steps)]
    return Calibration(
        accountant=dp.accountant,
        noise_multiplier=float(sigma),
        sample_rate=sample_rate,
        steps=steps,
        max_grad_norm=dp.max_grad_norm,
        delta=dp.delta,
        target_epsilon=dp.epsilon,
        epsilon=float(accountant.get_epsilon(delta=dp.delta)),
    )
