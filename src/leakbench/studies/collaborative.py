"""The collaborative-learning study (Melis et al. 2019): per grid row, for each number of
participants K, one simulated training run and the passive property attack on it.

A row names the main task (``parity`` or ``label`` of the class) and the property (a
class, ``property: class`` with ``property_class``, or one of the pool's record
properties); the row's single-batch AUC is the AUC at its smallest K (K = 2: Section VI-B,
Table III), the others give AUC against K (Section VII-A, Fig. 8). A row may also set the
property's fraction of a batch (Fig. 4), a window of rounds the property appears in
(Fig. 5), a round the target joins at (Fig. 10) and whole-run trials (Section IV-D); see
:mod:`leakbench.studies.collaborative_runs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from leakbench.collaborative.partition import pearson, split, task_labels
from leakbench.collaborative.property_inference import TrialSettings
from leakbench.collaborative.simulate import Algorithm, parse_algorithm
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.models import build_model
from leakbench.seeding import derive_seed
from leakbench.studies.collaborative_runs import check_schedule, held_out, run_k
from leakbench.studies.collaborative_tokens import check_ids, check_tokens, records

STUDY = "collaborative"
ATTACK = "passive_property"
CLASS_PROPERTY = "class"


def has_property(pool: Pool, row: Mapping[str, Any], *, key: str) -> np.ndarray:
    """Which records have the row's property (boolean ``[N]``).

    Raises:
        ConfigError: naming ``key``, if the pool has no such property or it matches no record.
    """
    name = row["property"]
    if name == CLASS_PROPERTY:
        found = np.isin(pool.y, property_classes(row))
    elif name in pool.properties:
        found = np.asarray(pool.properties[name], dtype=bool)
    else:
        raise UnknownNameError(f"{key}.property", name, [CLASS_PROPERTY, *pool.properties])
    if not found.any():
        value = row["property_class"] if name == CLASS_PROPERTY else name
        raise ConfigError(
            f"{key}.property: {value!r} matches no record is not allowed; allowed: a property "
            "some records have"
        )
    return found


def property_classes(row: Mapping[str, Any]) -> list[int]:
    """The classes that have a ``class`` property (``property_class``: one or a list)."""
    value = row["property_class"]
    return [int(c) for c in value] if isinstance(value, list) else [int(value)]


def check_row(
    row: Mapping[str, Any],
    *,
    key: str,
    num_classes: int,
    properties: tuple[str, ...],
    vocabulary: int = 0,
) -> None:
    """The checks a row's settings allow before its data are read (``vocabulary``: the
    data set's, 0 when its records are not token ids).

    Raises:
        ConfigError: naming the key, the value and the allowed values: an unknown
            algorithm, K < 2, local_steps > 1 with synchronised SGD, a property the data
            set does not carry, a property class outside its classes (it matches no
            record), more participants than rounds' batches of the row's records, a
            fraction outside (0, 1], a window outside the rounds, a join round outside
            them (:func:`collaborative_runs.check_schedule`), a token model on data that
            are not token ids or with a vocabulary smaller than the data's
            (:func:`collaborative_tokens.check_tokens`).
    """
    check_tokens(row, key=key, vocabulary=vocabulary)
    algorithm = parse_algorithm(row["algorithm"], key=f"{key}.algorithm")
    for k in row["participants"]:
        if k < 2:
            raise ConfigError(f"{key}.participants: {k} is not allowed; allowed: >= 2")
    if algorithm is Algorithm.SYNC_SGD and row["local_steps"] != 1:
        raise ConfigError(
            f"{key}.local_steps: {row['local_steps']} is not allowed with sync_sgd; allowed: 1"
        )
    if row["property"] not in (CLASS_PROPERTY, *properties):
        raise UnknownNameError(f"{key}.property", row["property"], [CLASS_PROPERTY, *properties])
    for c in property_classes(row) if row["property"] == CLASS_PROPERTY else []:
        if not 0 <= c < num_classes:
            raise ConfigError(
                f"{key}.property_class: {c} matches no record; allowed: 0 .. {num_classes - 1}"
            )
    most = row["records"] // (row["batch_size"] * row["local_steps"])
    if max(row["participants"]) > most:
        raise ConfigError(
            f"{key}.participants: {max(row['participants'])} is not allowed with "
            f"{row['records']} records at {row['batch_size'] * row['local_steps']} per "
            f"round; allowed: 2 .. {most}"
        )
    check_schedule(row, key=key)


def run_row(*, pool: Pool, row: Mapping[str, Any], seed: int, key: str) -> dict[str, Any]:
    """The row's metrics: the task-property correlation (Table III), the AUC at each K
    (at the row's largest fraction), the single-batch AUC (smallest K), the property's
    record count, and per (K, fraction) the run's AUC, main-task accuracy and whole-run
    AUC (``runs``) and, for a window or join row, the scores per round (``rounds``).

    Every draw comes from ``seed``: the row's records, the test records, and per K the
    split, the initial model and the rounds. Raises :class:`ConfigError` (naming ``key``)
    before any training if the data do not fit the row (:func:`has_property`,
    :func:`partition.split`).
    """
    settings = TrialSettings(
        algorithm=parse_algorithm(row["algorithm"], key=f"{key}.algorithm"),
        rounds=row["rounds"],
        batch_size=row["batch_size"],
        local_steps=row["local_steps"],
        lr=row["lr"],
        trees=row["trees"],
        max_features=row["max_features"],
    )
    rng = np.random.default_rng(derive_seed(seed, "records"))
    chosen = np.sort(rng.choice(len(pool), size=min(row["records"], len(pool)), replace=False))
    labels = task_labels(pool.y[chosen], row["task"])
    prop = has_property(pool, row, key=key)[chosen]
    check_ids(pool.x[chosen], row, key=key)
    x, y = records(pool.x[chosen], arch=row["arch"]), torch.from_numpy(labels)
    test = held_out(pool=pool, row=row, chosen=chosen, seed=derive_seed(seed, "test"))
    partitions = {
        k: split(
            has_property=prop,
            participants=k,
            batch_records=settings.batch_size * settings.local_steps,
            key=key,
            rng=np.random.default_rng(derive_seed(seed, "split", k)),
        )
        for k in row["participants"]
    }
    runs, rounds = [], []
    for k, partition in partitions.items():

        def model(*labels_: str, k: int = k) -> torch.nn.Module:
            torch.manual_seed(derive_seed(seed, "init", k, *labels_))
            return build_model(
                row["arch"],
                input_shape=tuple(pool.x.shape[1:]),
                num_classes=int(labels.max()) + 1,
                **row["arch_params"],
            )

        k_runs, k_rounds = run_k(
            row=row,
            model=model,
            data=(x, y),
            test=test,
            partition=partition,
            settings=settings,
            seed=derive_seed(seed, "trial", k),
        )
        runs += k_runs
        rounds += k_rounds
    largest = max(row["fractions"])
    aucs = {str(r["participants"]): r["auc"] for r in runs if r["fraction"] == largest}
    return {
        "auc": aucs,
        "single_batch_auc": aucs[str(min(row["participants"]))],
        "correlation": pearson(labels, prop),
        "property_records": int(prop.sum()),
        "runs": runs,
        "rounds": rounds,
    }
