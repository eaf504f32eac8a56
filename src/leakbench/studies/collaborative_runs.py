"""The runs of one collaborative grid row at one K (Melis et al. 2019): one run per
fraction of property records in the target's property batches (Section VI-B, Fig. 4),
scheduled as the row says (half of the rounds, Section VI-B; a window of rounds, Section
VI-C and Fig. 5; a target that joins late, Section VII-B and Fig. 10), each with the final
global model's main-task accuracy, and optionally whole-run inference (Section IV-D).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from leakbench.collaborative.partition import Partition, task_labels
from leakbench.collaborative.property_inference import TrialSettings, run_trial
from leakbench.collaborative.schedule import (
    Schedule,
    check_join_round,
    check_window,
    control,
    late_join,
    property_count,
    window,
)
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.metrics import auc
from leakbench.seeding import derive_seed
from leakbench.studies.collaborative_tokens import records

DIGITS = 4


def check_schedule(row: Mapping[str, Any], *, key: str) -> None:
    """A row's fractions, window and join round, before any training.

    Raises:
        ConfigError: naming the key, the value and what is allowed: a fraction outside
            (0, 1], a window outside the rounds or covering all of them, a join round
            outside 1 .. rounds - 1, a window and a join round together.
    """
    for f in row["fractions"]:
        if not 0 < f <= 1:
            raise ConfigError(f"{key}.fractions: {f} is not allowed; allowed: (0, 1]")
    if row.get("window") is not None:
        check_window(row["window"], rounds=row["rounds"], key=f"{key}.window")
    if row.get("join_round") is not None:
        check_join_round(row["join_round"], rounds=row["rounds"], key=f"{key}.join_round")
        if row.get("window") is not None:
            raise ConfigError(
                f"{key}.join_round: {row['join_round']} is not allowed with a window; allowed: "
                "one of window and join_round"
            )


def held_out(
    *, pool: Pool, row: Mapping[str, Any], chosen: np.ndarray, seed: int
) -> tuple[Tensor, Tensor] | None:
    """Up to ``test_records`` pool records outside the row's ``chosen`` ones, with their
    main-task labels, for the global model's accuracy; None when none remain."""
    rest = np.setdiff1d(np.arange(len(pool)), chosen)
    if row["test_records"] == 0 or rest.size == 0:
        return None
    rng = np.random.default_rng(seed)
    test = np.sort(rng.choice(rest, size=min(row["test_records"], rest.size), replace=False))
    labels = task_labels(pool.y[test], row["task"])
    return records(pool.x[test], arch=row["arch"]), torch.from_numpy(labels)


def _schedule(row: Mapping[str, Any], *, count: int) -> Schedule | None:
    """The row's window or join schedule; None: the trial draws Section VI-B's half of
    the rounds itself (:func:`property_inference.run_trial`)."""
    if row.get("window") is not None:
        start, end = row["window"]
        return window(rounds=row["rounds"], start=start, end=end, count=count)
    if row.get("join_round") is not None:
        return late_join(rounds=row["rounds"], join_round=row["join_round"], count=count)
    return None


def whole_run_auc(*, property_means: np.ndarray, control_means: np.ndarray) -> float:
    """Whole-run inference (Section IV-D: "the average score across all iterations"): the
    AUC of the runs' mean per-round scores s̄ = (1/T) Σ_t f_prop(g_obs,t), runs where the
    target's data has the property (label 1) against control runs where it has none
    (label 0)."""
    scores = np.concatenate([property_means, control_means])
    member = np.r_[np.ones(len(property_means), bool), np.zeros(len(control_means), bool)]
    return auc(scores=scores, member=member)


def _seed(base: int, *parts: object) -> int:
    """``base`` itself without parts (the K's seeds as the row's first run takes them),
    else :func:`derive_seed`."""
    return derive_seed(base, *parts) if parts else base


def run_k(
    *,
    row: Mapping[str, Any],
    model: Callable[..., nn.Module],
    data: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor] | None,
    partition: Partition,
    settings: TrialSettings,
    seed: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per fraction: the run's AUC and accuracy and, with ``whole_run_trials`` n > 0, the
    whole-run AUC over n further runs with the row's schedule and n control runs whose
    target (joining at the row's join round) never holds the property, each from a fresh
    initial model. ``model(*labels)`` builds the initial model seeded by
    ``labels``. The row's first run takes the K's seeds unchanged, the others derive
    theirs by fraction and trial. Returns (runs, rounds): ``rounds`` holds each run's
    scores per round when the row has a window or a join round.
    """
    runs, rounds = [], []
    per_round = settings.batch_size * settings.local_steps
    timed = row.get("window") is not None or row.get("join_round") is not None
    k = len(partition.nonprop)
    absent = control(rounds=settings.rounds, join_round=row.get("join_round") or 0)
    for i, fraction in enumerate(row["fractions"]):
        count = property_count(fraction=fraction, records=per_round)

        tag = (f"fraction={fraction}",) if i else ()

        def trial(schedule: Schedule | None, *labels: object, _tag=tag, _count: int = count):
            tag = (*_tag, *labels)
            return run_trial(
                model=model(*tag),
                x=data[0],
                labels=data[1],
                partition=partition,
                settings=settings,
                seed=_seed(seed, *tag),
                schedule=schedule,
                test=test,
                adversary_records=_count,
            )

        first = trial(_schedule(row, count=count))
        n = row["whole_run_trials"]
        means = {
            "property": [trial(_schedule(row, count=count), "property", j) for j in range(n)],
            "control": [trial(absent, "control", j) for j in range(n)],
        }
        runs.append(
            {
                "participants": k,
                "fraction": fraction,
                "auc": first.auc,
                "accuracy": first.accuracy,
                "whole_run_auc": whole_run_auc(
                    property_means=np.array([r.scores.mean() for r in means["property"]]),
                    control_means=np.array([r.scores.mean() for r in means["control"]]),
                )
                if n
                else None,
            }
        )
        if timed:
            rounds.append(
                {
                    "participants": k,
                    "fraction": fraction,
                    "scores": [round(float(v), DIGITS) for v in first.scores],
                    "has_property": first.has_property.tolist(),
                }
            )
    return runs, rounds
