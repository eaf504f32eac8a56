"""The white-box one-run audit of leakbench's own DP-SGD (Steinke, Nasr and Jagielski 2023,
"Privacy Auditing with One (1) Training Run", section 5 and their white-box experiments:
m Dirac gradient canaries in a single training run).

One model of the white-box audit cell (:class:`~leakbench.studies.whitebox_audit.AuditCell`:
its dataset, model, records, batch size, epochs, learning rate and canary norm) trains once
through the library's DP-SGD on the cell's records with ``canaries`` extra input features
that are zero in every record. Canary j is a Dirac gradient of norm ``canary_norm * C``
along the weight of class 0 on extra feature j, a coordinate no record's gradient touches
(:class:`~leakbench.training.dirac.DiracCanary` with m coordinates); a seeded fair coin
includes each canary, and an included canary is inserted where its own seeded Poisson draw
at the trainer's rate q samples it. The noise of different coordinates is independent, so
each canary's observations ``x_{j,1..T}`` (its coordinate's updates in units of
``-lr * scale * C``, as in the white-box cell) follow the mechanism of
:mod:`leakbench.privacy.optimal` with the cell's (q, T, sigma), whichever other canaries
are in. The auditor scores every canary by its every-iterate log-likelihood ratio
(:func:`~leakbench.privacy.optimal.dirac_canary_llr`, at the claimed sigma), guesses "in"
for the top k+ and "out" for the bottom k- and bounds epsilon from the number of right
guesses (:func:`~leakbench.privacy.one_run.one_run_audit`, their main theorem).

The guess counts (k+, k-) are chosen among the configured candidates before the trained
model is looked at: on ``held_out`` one-run experiments simulated from the claimed
mechanism, the pair whose mean number of right guesses gives the largest bound. Beside the
bound stand the accountant's epsilon, the ceiling (the bound had every one of the k+ + k-
guesses been right) and the optimal-test bound: the same procedure (m canaries with fresh
fair coins, the same statistic and guess counts) on ``repeats`` experiments simulated from
the exact mechanism, median bound.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from leakbench.privacy import (
    DiracMechanism,
    DPConfig,
    calibrate,
    dirac_canary_llr,
    one_run_audit,
    one_run_ceiling,
    one_run_guesses,
    one_run_lower_bound,
)
from leakbench.seeding import derive_seed
from leakbench.studies.audit_settings import AuditSettings, Check, int_at_least, integer_check
from leakbench.studies.whitebox_audit import AuditCell, canary_trajectories


@dataclass(frozen=True)
class OneRunCell(AuditSettings):
    """The one-run audit's settings (config section ``privacy.one_run``; the cell is
    ``privacy.audit``'s).

    Attributes:
        canaries: m, the Dirac canaries of the single run (>= 2).
        k_plus: candidate numbers of "in" guesses (integers >= 0).
        k_minus: candidate numbers of "out" guesses (integers >= 0); every pair of the two
            lists is a candidate, and the largest pair makes at most m guesses.
        held_out: simulated experiments the guess counts are chosen on (>= 1).
        repeats: simulated experiments whose median is the optimal-test bound (>= 1).

    Raises:
        ConfigError: naming the key ``privacy.one_run.<key>``, its value and what is allowed.
    """

    section = "one_run"

    canaries: int = 5000
    k_plus: tuple[int, ...] = (50, 100, 250, 500, 1000, 1500, 2500)
    k_minus: tuple[int, ...] = (0, 50, 100, 250, 500, 1000, 1500, 2500)
    held_out: int = 20
    repeats: int = 11

    def __post_init__(self) -> None:
        object.__setattr__(self, "k_plus", tuple(self.k_plus))
        object.__setattr__(self, "k_minus", tuple(self.k_minus))
        super().__post_init__()

    def checks(self) -> tuple[Check, ...]:
        counts_ok = _counts(self.k_plus) and _counts(self.k_minus)
        largest = max(self.k_plus) + max(self.k_minus) if counts_ok else 0
        return (
            integer_check(self, "canaries", 2),
            ("k_plus", _counts(self.k_plus), "a non-empty list of integers >= 0"),
            ("k_minus", _counts(self.k_minus), "a non-empty list of integers >= 0"),
            (
                "k_minus",
                not counts_ok or 0 < largest <= self.canaries,
                f"a list whose largest plus k_plus' largest is in 1..canaries ({self.canaries})",
            ),
            integer_check(self, "held_out", 1),
            integer_check(self, "repeats", 1),
        )


@dataclass(frozen=True)
class OneRunWhiteBoxAudit:
    """The white-box one-run audit of one epsilon.

    Attributes:
        target_epsilon: the epsilon asked for.
        epsilon: the accountant's epsilon for (sigma, q, T) at delta.
        noise_multiplier: sigma, as calibrated.
        sample_rate: q.
        steps: T.
        canaries: m.
        included: canaries the coins put in.
        k_plus: "in" guesses made.
        k_minus: "out" guesses made.
        correct: right guesses.
        epsilon_lower: the 95% lower bound (Steinke et al.'s theorem).
        ceiling: the bound had all k+ + k- guesses been right.
        optimal: the optimal-test bound (module docstring).
    """

    target_epsilon: float
    epsilon: float
    noise_multiplier: float
    sample_rate: float
    steps: int
    canaries: int
    included: int
    k_plus: int
    k_minus: int
    correct: int
    epsilon_lower: float
    ceiling: float
    optimal: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def simulated_experiment(
    *, mechanism: DiracMechanism, canaries: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """One one-run experiment on the exact mechanism: fair coins for ``canaries`` canaries
    and each canary's every-iterate score, all drawn from ``seed``.

    Returns:
        ``(scores float64 [m], included bool [m])``.
    """
    included = np.random.default_rng(derive_seed(seed, "coin")).random(canaries) < 0.5
    runs = {
        canary: mechanism.simulate(
            runs=canaries, canary=canary, seed=derive_seed(seed, "runs", int(canary))
        )
        for canary in (True, False)
    }
    observations = np.where(included[:, None], runs[True], runs[False])
    return dirac_canary_llr(observations=observations, mechanism=mechanism), included


def choose_guesses(
    *, mechanism: DiracMechanism, cell: OneRunCell, delta: float, seed: int
) -> tuple[int, int]:
    """The candidate pair (k+, k-) whose mean number of right guesses on ``cell.held_out``
    simulated experiments (:func:`simulated_experiment`) gives the largest bound
    (:func:`~leakbench.privacy.one_run.one_run_lower_bound`); ties go to the first pair
    in the order of the candidate lists."""
    pairs = [
        (k_plus, k_minus)
        for k_plus in cell.k_plus
        for k_minus in cell.k_minus
        if k_plus + k_minus > 0
    ]
    right = np.zeros(len(pairs))
    for experiment in range(cell.held_out):
        scores, included = simulated_experiment(
            mechanism=mechanism, canaries=cell.canaries, seed=derive_seed(seed, experiment)
        )
        truth = np.where(included, 1, -1)
        for i, (k_plus, k_minus) in enumerate(pairs):
            guesses = one_run_guesses(scores=scores, k_plus=k_plus, k_minus=k_minus)
            right[i] += np.count_nonzero(guesses == truth)
    bounds = [
        one_run_lower_bound(
            canaries=cell.canaries,
            guesses=k_plus + k_minus,
            correct=int(right[i] / cell.held_out),
            delta=delta,
        )
        for i, (k_plus, k_minus) in enumerate(pairs)
    ]
    return pairs[int(np.argmax(bounds))]


def one_run_optimal_bound(
    *,
    mechanism: DiracMechanism,
    canaries: int,
    k_plus: int,
    k_minus: int,
    delta: float,
    repeats: int,
    seed: int,
) -> float:
    """The optimal-test bound of the one-run audit: the median, over ``repeats``
    experiments simulated from the exact mechanism (:func:`simulated_experiment`), of the
    bound of the same guessing rule with the same counts."""
    bounds = []
    for repeat in range(repeats):
        scores, included = simulated_experiment(
            mechanism=mechanism, canaries=canaries, seed=derive_seed(seed, repeat)
        )
        bounds.append(
            one_run_audit(
                scores=scores, included=included, k_plus=k_plus, k_minus=k_minus, delta=delta
            ).epsilon_lower
        )
    return float(np.median(bounds))


def one_run_whitebox_audit(
    *,
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    cell: AuditCell,
    one_run: OneRunCell,
    dp: DPConfig,
    seed: int,
) -> OneRunWhiteBoxAudit:
    """Train one model of ``cell`` with ``one_run.canaries`` Dirac canaries at ``dp``'s
    epsilon and audit it (module docstring).

    Args:
        x: the pool's inputs ``[N, features]``.
        y: the pool's labels ``[N]``.
        num_classes: number of classes.
        cell: the white-box cell (records, model, optimiser, canary norm).
        one_run: the one-run settings.
        dp: the DP-SGD budget (finite epsilon).
        seed: the seed every draw derives from.

    Raises:
        ConfigError: if the pool holds fewer than ``cell.records`` records.
    """
    m = one_run.canaries
    claimed = calibrate(dp, records=cell.records, batch_size=cell.batch_size, epochs=cell.epochs)
    q, steps, sigma = claimed.sample_rate, claimed.steps, claimed.noise_multiplier
    included = np.random.default_rng(derive_seed(seed, "coin")).random(m) < 0.5
    draws = np.random.default_rng(derive_seed(seed, "canary")).random((steps, m))
    observed = canary_trajectories(
        x=x,
        y=y,
        num_classes=num_classes,
        cell=cell,
        dp=dp,
        sampled=torch.from_numpy((draws < q) & included)[None],
        seeds=[derive_seed(seed, "model")],
        seed=seed,
    )[0].T  # [m, T]
    mechanism = DiracMechanism(noise_multiplier=sigma, sample_rate=q, steps=steps)
    k_plus, k_minus = choose_guesses(
        mechanism=mechanism, cell=one_run, delta=dp.delta, seed=derive_seed(seed, "guesses")
    )
    result = one_run_audit(
        scores=dirac_canary_llr(observations=observed, mechanism=mechanism),
        included=included,
        k_plus=k_plus,
        k_minus=k_minus,
        delta=dp.delta,
    )
    return OneRunWhiteBoxAudit(
        target_epsilon=dp.epsilon,
        epsilon=claimed.epsilon,
        noise_multiplier=sigma,
        sample_rate=q,
        steps=steps,
        canaries=m,
        included=int(included.sum()),
        k_plus=k_plus,
        k_minus=k_minus,
        correct=result.correct,
        epsilon_lower=result.epsilon_lower,
        ceiling=one_run_ceiling(canaries=m, guesses=k_plus + k_minus, delta=dp.delta),
        optimal=one_run_optimal_bound(
            mechanism=mechanism,
            canaries=m,
            k_plus=k_plus,
            k_minus=k_minus,
            delta=dp.delta,
            repeats=one_run.repeats,
            seed=derive_seed(seed, "optimal"),
        ),
    )


def _counts(values: tuple[object, ...]) -> bool:
    return len(values) > 0 and all(int_at_least(value, 0) for value in values)
