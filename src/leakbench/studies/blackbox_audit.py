"""The black-box multi-run audit of leakbench's own DP-SGD (Jagielski, Ullman and Oprea
2020, "Auditing differentially private machine learning: how private is private SGD?",
sections 3-4: many models trained with and without a canary record, each scored by the
canary's loss, the bound from the attack's Clopper-Pearson rates).

``trials`` models of one architecture train stacked through the library's DP-SGD (Poisson
sampling, per-record clipping, plain SGD), all on the same ``records`` pool records with one
extra input feature that is zero in every record, plus one canary record. The canary is
out of distribution rather than a mislabelled natural record: its input is
``canary_value`` on the extra feature and zero elsewhere, with label 0, so apart from the
bias its gradient lies in weights no other record's gradient touches (the direction of
least data variance, as in Jagielski et al.'s ClipBKD, section 4); a mislabelled record
would share its gradient's direction with the data and drown in it. Its gradient norm
exceeds C, so clipping acts on it as on any record.

A seeded fair coin puts the canary in about half of the models; the others hold it absent
(:func:`~leakbench.training.stacked.train_stacked`'s ``absent``): it draws its Poisson
uniform but is never sampled, so those models are exactly the add/remove neighbour without
it under the same q, T, sigma and scale (the calibration of ``records + 1`` records), and
share every other draw with the run that has it. The auditor sees only each final model's
loss on the canary and scores a model by ``-CE(f(x_c), y_c)``;
:func:`~leakbench.privacy.audit_scores` picks the threshold on half the models (the
held-out models) and bounds epsilon on the other half. Beside the bound stand the
accountant's epsilon, the Clopper-Pearson ceiling of the evaluated models (perfect
separation) and the optimal-test bounds of the mechanism itself for the same numbers of
models (:mod:`leakbench.privacy.optimal`: the subsampled Gaussian along the canary
coordinate with this cell's q, T and sigma, every iterate and final model), so the gap
shows what the black-box view loses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from leakbench.attacks.base import cross_entropy
from leakbench.errors import ConfigError
from leakbench.privacy import (
    STATISTICS,
    DiracMechanism,
    DPConfig,
    audit_scores,
    calibrate,
    clopper_pearson_ceiling,
    mechanism_optimal_bound,
)
from leakbench.seeding import derive_seed
from leakbench.studies.audit_settings import (
    AuditSettings,
    Check,
    even_check,
    integer_check,
    positive_check,
    training_checks,
)
from leakbench.training import TrainConfig, predict_logits, train_stacked

CANARY_LABEL = 0  # the canary record's label


@dataclass(frozen=True)
class BlackBoxCell(AuditSettings):
    """The black-box audit cell's settings (config section ``privacy.blackbox``; the
    dataset and model are ``privacy.audit``'s).

    Attributes:
        dataset: the pool the records come from.
        model: the architecture (:data:`~leakbench.studies.audit_settings.AUDIT_MODELS`).
        records: training records besides the canary, drawn from the pool by the seed.
        batch_size: expected batch size; q = 1 / ceil((records + 1) / batch_size).
        epochs: passes; T = epochs * ceil((records + 1) / batch_size).
        lr: SGD's learning rate.
        trials: models, each with the canary by a fair coin (even, >= 8: each half of
            each side holds at least one model).
        canary_value: the canary's value on the extra feature (> 0).
        repeats: simulations whose median is each optimal-test bound (>= 1).
        held_out: simulated runs of each kind the optimal test's threshold is chosen on.

    Raises:
        ConfigError: naming the key ``privacy.blackbox.<key>``, its value and what is allowed.
    """

    section = "blackbox"

    dataset: str
    model: str = "logreg"
    records: int = 3
    batch_size: int = 1
    epochs: int = 2
    lr: float = 0.1
    trials: int = 10000
    canary_value: float = 10.0
    repeats: int = 11
    held_out: int = 100000

    def checks(self) -> tuple[Check, ...]:
        return (
            *training_checks(self),
            even_check(self, "trials", 8),
            positive_check(self, "canary_value"),
            integer_check(self, "repeats", 1),
            integer_check(self, "held_out", 1),
        )


@dataclass(frozen=True)
class BlackBoxAudit:
    """The black-box audit of one epsilon.

    Attributes:
        target_epsilon: the epsilon asked for.
        epsilon: the accountant's epsilon for (sigma, q, T) at delta.
        noise_multiplier: sigma, as calibrated.
        sample_rate: q.
        steps: T.
        trials: models audited.
        with_canary: models trained with the canary.
        epsilon_lower: the 95% lower bound on the evaluation half.
        threshold: the loss-score threshold chosen on the held-out half.
        tp: evaluated models with the canary guessed in.
        fn: evaluated models with the canary guessed out.
        fp: evaluated models without the canary guessed in.
        tn: evaluated models without the canary guessed out.
        ceiling: the largest bound the evaluated half allows (perfect separation).
        optimal: the optimal-test bound of the mechanism (every iterate) for the same
            numbers of models, each evaluated.
        final_model_optimal: the same for the final-model view of the mechanism.
    """

    target_epsilon: float
    epsilon: float
    noise_multiplier: float
    sample_rate: float
    steps: int
    trials: int
    with_canary: int
    epsilon_lower: float
    threshold: float
    tp: int
    fn: int
    fp: int
    tn: int
    ceiling: float
    optimal: float
    final_model_optimal: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def canary_cell(
    *, x: np.ndarray, y: np.ndarray, records: int, canary_value: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The cell's training rows: ``records`` pool records (seeded) with a zero feature
    appended, then the canary (module docstring) as the last row.

    Returns:
        ``(x [records + 1, features + 1] float32, y [records + 1] int64)``.

    Raises:
        ConfigError: if the pool holds fewer than ``records`` records.
    """
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    if records > len(x):
        raise ConfigError(
            f"privacy.blackbox.records: {records} is not allowed; "
            f"allowed: at most the pool's {len(x)}"
        )
    rows = np.sort(np.random.default_rng(derive_seed(seed, "records")).permutation(len(x)))
    rows = rows[:records]
    canary = np.zeros((1, x.shape[1] + 1), np.float32)
    canary[0, -1] = canary_value
    x_cell = np.concatenate([x[rows], np.zeros((records, 1), np.float32)], axis=1)
    return (
        np.concatenate([x_cell, canary]),
        np.concatenate([np.asarray(y, dtype=np.int64)[rows], [CANARY_LABEL]]),
    )


def blackbox_audit(
    *,
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    cell: BlackBoxCell,
    dp: DPConfig,
    seed: int,
) -> BlackBoxAudit:
    """Train the cell's ``trials`` models at ``dp``'s epsilon in one stacked call and audit
    them by the canary's loss (module docstring).

    Args:
        x: the pool's inputs ``[N, features]``.
        y: the pool's labels ``[N]``.
        num_classes: number of classes.
        cell: the cell's settings.
        dp: the DP-SGD budget (finite epsilon).
        seed: the seed every draw derives from (records, coins, models, split, simulations).

    Raises:
        ConfigError: if the pool holds fewer than ``records`` records, or a half of the
            audit would hold no model with or without the canary.
    """
    x_cell, y_cell = canary_cell(
        x=x, y=y, records=cell.records, canary_value=cell.canary_value, seed=seed
    )
    n = len(x_cell)
    coin = np.random.default_rng(derive_seed(seed, "coin")).random(cell.trials) < 0.5
    absent = np.zeros((cell.trials, n), dtype=bool)
    absent[~coin, -1] = True
    models = train_stacked(
        arch=cell.model,
        arch_params={},
        x=x_cell,
        y=y_cell,
        num_classes=num_classes,
        keep=np.ones((cell.trials, n), dtype=bool),
        absent=absent,
        seeds=[derive_seed(seed, "model", k) for k in range(cell.trials)],
        config=TrainConfig(
            epochs=cell.epochs, batch_size=cell.batch_size, lr=cell.lr, optimizer="sgd", privacy=dp
        ),
    )
    logits = predict_logits(models, x_cell[-1:])[:, 0]  # [K, classes]
    scores = -cross_entropy(logits, np.full(cell.trials, CANARY_LABEL))
    result = audit_scores(
        scores=scores, member=coin, delta=dp.delta, seed=derive_seed(seed, "split")
    )
    claimed = calibrate(dp, records=n, batch_size=cell.batch_size, epochs=cell.epochs)
    mechanism = DiracMechanism(
        noise_multiplier=claimed.noise_multiplier,
        sample_rate=claimed.sample_rate,
        steps=claimed.steps,
    )
    counts = {"members": int(coin.sum()), "non_members": int((~coin).sum())}
    optimal = {
        view: mechanism_optimal_bound(
            mechanism=mechanism,
            view=view,
            held_out=cell.held_out,
            delta=dp.delta,
            seed=seed,
            repeats=cell.repeats,
            **counts,
        )
        for view in STATISTICS
    }
    return BlackBoxAudit(
        target_epsilon=dp.epsilon,
        epsilon=claimed.epsilon,
        noise_multiplier=claimed.noise_multiplier,
        sample_rate=claimed.sample_rate,
        steps=claimed.steps,
        trials=cell.trials,
        with_canary=counts["members"],
        epsilon_lower=result.epsilon_lower,
        threshold=result.threshold,
        tp=result.tp,
        fn=result.fn,
        fp=result.fp,
        tn=result.tn,
        ceiling=clopper_pearson_ceiling(**counts, delta=dp.delta, split=True),
        optimal=optimal["every_iterate"],
        final_model_optimal=optimal["final_model"],
    )
