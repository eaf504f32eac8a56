"""The purpose-built white-box audit cell of leakbench's own DP-SGD (Nasr et al. 2021,
"Adversary instantiation", section 3: the gradient-canary adversary that sees every iterate,
and the one that sees only the final model).

``trials`` models of one architecture train stacked, all on the same ``records`` pool
records with one extra input feature that is zero in every record, through the library's
DP-SGD (plain SGD, no weight decay). A seeded fair coin puts the canary in about half of
them: a Dirac gradient along the weight of class 0 on the zero feature, a coordinate no
record's gradient touches, inserted where a seeded Poisson draw at the trainer's rate q
samples it (:class:`~leakbench.training.dirac.DiracCanary`). With plain SGD at learning rate
lr the coordinate's step-t update is ``-lr * scale * (c_t C + N(0, sigma^2 C^2))`` (c_t = 1
when the canary is sampled and clipped to C), so ``x_t = -update / (lr * scale * C)`` is the
exact mechanism of :mod:`leakbench.privacy.optimal`. The every-iterate auditor scores a run
by :func:`~leakbench.privacy.optimal.dirac_canary_llr` of its ``x_1..x_T``; the final-model
auditor by :func:`~leakbench.privacy.optimal.final_model_llr` of ``sum_t x_t``, the final
parameter's displacement along the canary; each is the exact likelihood ratio, hence the
most powerful test, of its view. Each auditor knows the mechanism it audits, so its
threshold is chosen on held-out runs simulated from the claimed (q, T, sigma)
(:func:`~leakbench.privacy.optimal.choose_test`, independent of the trained models) and
every trained model is a trial of :func:`~leakbench.privacy.audit.known_mechanism_audit`
(that threshold on every model, or one chosen on half the models if that bounds more, each
at half the error probability, so a trainer that departs from its claim is not missed for
want of a threshold).
Beside each bound stand the accountant's epsilon, the Clopper-Pearson ceiling of the trial
count and the optimal-test bound: the same statistic, threshold and numbers of models with
and without the canary on runs simulated from the exact mechanism, so on a correct DP-SGD
audit and optimal test differ by Monte-Carlo noise alone. The auditor scores with the noise
multiplier the calibration claims, so a trainer that adds less noise or skips clipping than
it claims is caught.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from leakbench.errors import ConfigError
from leakbench.privacy import (
    STATISTICS,
    DiracMechanism,
    DPConfig,
    calibrate,
    choose_test,
    clopper_pearson_ceiling,
    known_mechanism_audit,
    optimal_test_bound,
    union_level,
)
from leakbench.seeding import derive_seed
from leakbench.studies.audit_settings import (
    AuditSettings,
    Check,
    even_check,
    integer_check,
    positive,
    training_checks,
)
from leakbench.training import TrainConfig, seeded_model, train_stacked
from leakbench.training.dirac import DiracCanary

CONFIDENCE = 0.95  # of every reported bound (the audits' default)


@dataclass(frozen=True)
class AuditCell(AuditSettings):
    """The white-box audit cell's settings (config section ``privacy.audit``).

    Attributes:
        dataset: the pool the records come from.
        model: the architecture (:data:`~leakbench.studies.audit_settings.AUDIT_MODELS`).
        records: training records, drawn from the pool by the seed.
        batch_size: expected batch size; q = 1 / ceil(records / batch_size).
        epochs: passes; T = epochs * ceil(records / batch_size).
        lr: SGD's learning rate.
        trials: models, each with the canary by a fair coin (even, >= 4).
        canary_norm: the canary gradient's norm in units of C (> 1: clipping must act).
        repeats: simulations whose median is the optimal-test bound (>= 1).
        held_out: simulated runs of each kind (with, without the canary) the test's
            threshold is chosen on (>= 1).

    Raises:
        ConfigError: naming the key ``privacy.audit.<key>``, its value and what is allowed.
    """

    section = "audit"

    dataset: str
    model: str = "logreg"
    records: int = 4
    batch_size: int = 1
    epochs: int = 2
    lr: float = 0.1
    trials: int = 50000
    canary_norm: float = 10.0
    repeats: int = 11
    held_out: int = 100000

    def checks(self) -> tuple[Check, ...]:
        return (
            *training_checks(self),
            even_check(self, "trials", 4),
            ("canary_norm", positive(self.canary_norm) and self.canary_norm > 1, "a number > 1"),
            integer_check(self, "repeats", 1),
            integer_check(self, "held_out", 1),
        )


@dataclass(frozen=True)
class WhiteBoxAudit:
    """The white-box audits of one epsilon.

    Attributes:
        target_epsilon: the epsilon asked for.
        epsilon: the accountant's epsilon for (sigma, q, T) at delta.
        noise_multiplier: sigma, as calibrated.
        sample_rate: q.
        steps: T.
        trials: models audited.
        with_canary: models trained with the canary.
        every_iterate: the 95% lower bound of the every-iterate audit.
        final_model: the 95% lower bound of the final-model audit.
        ceiling: the largest bound the trial count allows (perfect separation).
        every_iterate_optimal: the optimal-test bound of the every-iterate view: the same
            test, threshold and counts on the exact mechanism.
        final_model_optimal: the same for the final-model view.
    """

    target_epsilon: float
    epsilon: float
    noise_multiplier: float
    sample_rate: float
    steps: int
    trials: int
    with_canary: int
    every_iterate: float
    final_model: float
    ceiling: float
    every_iterate_optimal: float
    final_model_optimal: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def whitebox_audit(
    *,
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    cell: AuditCell,
    dp: DPConfig,
    seed: int,
) -> WhiteBoxAudit:
    """Train the cell's ``trials`` models at ``dp``'s epsilon in one stacked call and audit
    them (module docstring).

    Args:
        x: the pool's inputs ``[N, features]``.
        y: the pool's labels ``[N]``.
        num_classes: number of classes.
        cell: the cell's settings.
        dp: the DP-SGD budget (finite epsilon).
        seed: the seed every draw derives from (records, coins, models, canary steps).

    Raises:
        ConfigError: if the pool holds fewer than ``records`` records, or a side of the
            audit would hold fewer than 2 models with or without the canary.
    """
    coin = np.random.default_rng(derive_seed(seed, "coin")).random(cell.trials) < 0.5
    seeds = [derive_seed(seed, "model", k) for k in range(cell.trials)]
    claimed = calibrate(dp, records=cell.records, batch_size=cell.batch_size, epochs=cell.epochs)
    q, steps, sigma = claimed.sample_rate, claimed.steps, claimed.noise_multiplier
    draws = np.stack([np.random.default_rng(derive_seed(s, "canary")).random(steps) for s in seeds])
    observed = canary_trajectories(
        x=x,
        y=y,
        num_classes=num_classes,
        cell=cell,
        dp=dp,
        sampled=torch.from_numpy((draws < q) & coin[:, None]),
        seeds=seeds,
        seed=seed,
    )
    mechanism = DiracMechanism(noise_multiplier=sigma, sample_rate=q, steps=steps)
    counts = {"members": int(coin.sum()), "non_members": int((~coin).sum())}
    bounds: dict[str, float] = {}
    for view in STATISTICS:
        test = choose_test(
            mechanism=mechanism,
            view=view,
            held_out=cell.held_out,
            delta=dp.delta,
            seed=derive_seed(seed, "threshold", view),
            **counts,
        )
        bounds[view] = known_mechanism_audit(
            scores=STATISTICS[view](observations=observed, mechanism=mechanism),
            member=coin,
            threshold=test.threshold,
            delta=dp.delta,
            seed=derive_seed(seed, "split", view),
            selection_bound=test.expected_bound,
        ).epsilon_lower
        bounds[f"{view}_optimal"] = optimal_test_bound(
            mechanism=mechanism,
            test=test,
            delta=dp.delta,
            seed=derive_seed(seed, "optimal", view),
            repeats=cell.repeats,
            **counts,
        )
    return WhiteBoxAudit(
        target_epsilon=dp.epsilon,
        epsilon=claimed.epsilon,
        noise_multiplier=sigma,
        sample_rate=q,
        steps=steps,
        trials=cell.trials,
        with_canary=counts["members"],
        ceiling=clopper_pearson_ceiling(
            **counts, delta=dp.delta, confidence=union_level(CONFIDENCE), split=False
        ),
        **bounds,
    )


def canary_trajectories(
    *,
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    cell: AuditCell,
    dp: DPConfig,
    sampled: torch.Tensor,
    seeds: list[int],
    seed: int,
) -> np.ndarray:
    """Train ``len(seeds)`` models of the cell stacked at ``dp``'s epsilon with Dirac
    canaries and return what the white-box auditor sees: each canary coordinate's step
    updates in units of ``-lr * scale * C`` (module docstring).

    The cell's ``records`` pool records (drawn by ``seed``) get one extra zero feature per
    canary; canary j is the weight of class 0 on extra feature j.

    Args:
        sampled: bool ``[K, T]`` (one canary) or ``[K, T, m]`` (m canaries), whether each
            model's canary is in each step's batch.
        seeds: one seed per model.

    Returns:
        float64 ``[K, T]`` or ``[K, T, m]``.

    Raises:
        ConfigError: if the pool holds fewer than ``records`` records.
    """
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    if cell.records > len(x):
        raise ConfigError(
            f"privacy.audit.records: {cell.records} is not allowed; "
            f"allowed: at most the pool's {len(x)}"
        )
    rows = np.sort(np.random.default_rng(derive_seed(seed, "records")).permutation(len(x)))
    rows = rows[: cell.records]
    features, many = x.shape[1], sampled.ndim == 3
    extra = sampled.shape[2] if many else 1
    x_cell = np.concatenate([x[rows], np.zeros((cell.records, extra), np.float32)], axis=1)
    shape = {"arch": cell.model, "arch_params": {}, "input_shape": (features + extra,)}
    param = _first_linear(seeded_model(**shape, num_classes=num_classes, seed=seeds[0]))
    index: tuple[int, ...] | tuple[torch.Tensor, ...] = (
        (torch.zeros(extra, dtype=torch.long), torch.arange(features, features + extra))
        if many
        else (0, features)
    )
    claimed = calibrate(dp, records=cell.records, batch_size=cell.batch_size, epochs=cell.epochs)
    scale = 1.0 / claimed.expected_batch_size(cell.records)
    canary = DiracCanary(
        param=param,
        index=index,
        sampled=sampled,
        norm=cell.canary_norm * dp.max_grad_norm,
        max_norm=dp.max_grad_norm,
        scale=scale,
    )
    train_stacked(
        arch=cell.model,
        arch_params={},
        x=x_cell,
        y=np.asarray(y)[rows],
        num_classes=num_classes,
        keep=np.ones((len(seeds), cell.records), dtype=bool),
        seeds=seeds,
        config=TrainConfig(
            epochs=cell.epochs, batch_size=cell.batch_size, lr=cell.lr, optimizer="sgd", privacy=dp
        ),
        hooks=canary.hooks(),
    )
    initial = torch.stack(
        [
            _coordinates(seeded_model(**shape, num_classes=num_classes, seed=s), param, index)
            for s in seeds
        ]
    )
    return (-canary.updates(initial) / (cell.lr * scale * dp.max_grad_norm)).numpy()


def _coordinates(
    model: nn.Module, param: str, index: tuple[int, ...] | tuple[torch.Tensor, ...]
) -> torch.Tensor:
    """The canary coordinates of a parameter of ``model`` (their initial values, which the
    white-box auditor knows)."""
    return dict(model.named_parameters())[param].detach()[index]


def _first_linear(model: nn.Module) -> str:
    """The name of the weight of ``model``'s first Linear layer."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            return f"{name}.weight"
    raise ConfigError(f"privacy.audit.model: {model!r} is not allowed; allowed: a Linear layer")
