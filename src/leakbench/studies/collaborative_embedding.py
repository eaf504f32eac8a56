"""The embedding-gradient study (Melis et al. 2019): per grid row, collaborative training
runs of a model with an embedding layer, membership inference from the batch BoWs the
embedding updates reveal against the batch size (Section VI-A, Table II), batch-property
inference from the same BoWs with logistic regression (Sections IV-D, VI-B), and the
smaller-vocabulary defence (Section VIII-B, Table VI) with the model's utility beside it.

A row runs one trial per batch size at the data's full vocabulary and one per vocabulary
size at ``defence_batch_size`` (a pair already run is reused).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from leakbench.collaborative.embedding import restrict_vocabulary
from leakbench.collaborative.embedding_trial import (
    TrialResult,
    embedding_name,
    run_trial,
    split_roles,
)
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.models import build_model
from leakbench.seeding import derive_seed

STUDY = "collaborative_embedding"
ATTACK = "embedding_membership"
ROLES = 3  # the records are split among the target, the adversary and the held-out set


def check_row(
    row: Mapping[str, Any], *, key: str, properties: tuple[str, ...], vocabulary: int
) -> None:
    """The checks a row's settings allow before its data are read.

    Args:
        properties: the data set's record properties.
        vocabulary: the data set's vocabulary size (0: its records are not token ids).

    Raises:
        ConfigError: naming the key, the value and the allowed values: a data set without
            token ids, a property the data set does not carry, a vocabulary size < 2 or
            above the data's, ``arch_params.vocab`` (set by the study), a batch size larger
            than a role's third of the records.
    """
    if vocabulary < 2:
        raise ConfigError(
            f"{key}.dataset: {row['dataset']!r} is not allowed; allowed: a data set of token "
            "ids (checkin_synth)"
        )
    if row["property"] not in properties:
        raise UnknownNameError(f"{key}.property", row["property"], properties)
    for size in row["vocab_sizes"]:
        if not 2 <= size <= vocabulary:
            raise ConfigError(
                f"{key}.vocab_sizes: {size} is not allowed; allowed: 2 .. {vocabulary} (the "
                "data's vocabulary)"
            )
    if "vocab" in row["arch_params"]:
        raise ConfigError(
            f"{key}.arch_params.vocab: {row['arch_params']['vocab']} is not allowed; allowed: "
            "no vocab (the study sets it from the data and vocab_sizes)"
        )
    most = row["records"] // ROLES
    for size in (*row["batch_sizes"], row["defence_batch_size"]):
        if size > most:
            raise ConfigError(
                f"{key}.batch_sizes: {size} is not allowed with {row['records']} records (a "
                f"third each for the target, the adversary and the held-out set); allowed: "
                f"1 .. {most}"
            )


def check_model(
    row: Mapping[str, Any], *, key: str, input_shape: tuple[int, ...], num_classes: int
) -> None:
    """Build the row's model (vocabulary 2) and check that it can be attacked and vmapped.

    Raises:
        ConfigError: naming ``key``, if the model cannot be built with a ``vocab``
            parameter, has no embedding layer or has a
            dropout layer with p > 0 (the participants' updates are one vmapped call, which
            refuses random draws).
    """
    try:
        model = build_model(
            row["arch"],
            input_shape=input_shape,
            num_classes=num_classes,
            **{**row["arch_params"], "vocab": 2},
        )
        embedding_name(model)
    except ConfigError as err:
        raise ConfigError(f"{key}.{err}") from None
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout) and module.p > 0:
            raise ConfigError(f"{key}.arch_params.dropout: {module.p} is not allowed; allowed: 0")


def _property(pool: Pool, name: str, *, key: str) -> np.ndarray:
    if name not in pool.properties:
        raise UnknownNameError(f"{key}.property", name, pool.properties)
    found = np.asarray(pool.properties[name], dtype=bool)
    if not found.any():
        raise ConfigError(
            f"{key}.property: {name!r} matches no record is not allowed; allowed: a property "
            "some records have"
        )
    return found


def _metrics(result: TrialResult) -> dict[str, float | int]:
    return {
        "precision": result.precision,
        "recall": result.recall,
        "property_auc": result.property_auc,
        "model_auc": result.model_auc,
        "members": result.members,
        "mean_batch_words": result.mean_batch_words,
    }


def run_row(
    *, pool: Pool, vocabulary: int, row: Mapping[str, Any], seed: int, key: str
) -> dict[str, Any]:
    """The row's metrics: ``batch`` (Table II: one entry per batch size at the full
    vocabulary) and ``vocabulary`` (Table VI: one per vocabulary size at
    ``defence_batch_size``), each with precision, recall, property AUC and model AUC.

    ``vocabulary`` is the data set's vocabulary size (its registry entry). Every draw
    comes from ``seed``. Raises :class:`ConfigError` (naming ``key``) before any training
    if the data do not fit the row (:func:`check_row`; a property that matches no record; a
    batch size above a role's records).
    """
    check_row(row, key=key, properties=tuple(pool.properties), vocabulary=vocabulary)
    rng = np.random.default_rng(derive_seed(seed, "records"))
    chosen = np.sort(rng.choice(len(pool), size=min(row["records"], len(pool)), replace=False))
    prop = _property(pool, row["property"], key=key)[chosen]
    tokens = torch.from_numpy(pool.x[chosen].astype(np.int64))
    labels = torch.from_numpy(pool.y[chosen])
    full = vocabulary
    pairs = [(b, full) for b in row["batch_sizes"]]
    pairs += [(row["defence_batch_size"], v) for v in row["vocab_sizes"]]
    roles = {
        b: split_roles(
            has_property=prop,
            batch_size=b,
            key=key,
            rng=np.random.default_rng(derive_seed(seed, "split")),
        )
        for b, _ in pairs
    }
    results: dict[tuple[int, int], TrialResult] = {}
    for b, v in pairs:
        if (b, v) in results:
            continue
        torch.manual_seed(derive_seed(seed, "init", v))
        model = build_model(
            row["arch"],
            input_shape=tuple(pool.x.shape[1:]),
            num_classes=pool.num_classes,
            vocab=v,
            **row["arch_params"],
        )
        results[(b, v)] = run_trial(
            model=model,
            tokens=restrict_vocabulary(tokens, vocab=v),
            labels=labels,
            roles=roles[b],
            rounds=row["rounds"],
            batch_size=b,
            lr=row["lr"],
            seed=derive_seed(seed, "trial", b, v),
        )
    return {
        "vocabulary": full,
        "property_records": int(prop.sum()),
        "batch": {str(b): _metrics(results[(b, full)]) for b in row["batch_sizes"]},
        "vocab": {
            str(v): _metrics(results[(row["defence_batch_size"], v)]) for v in row["vocab_sizes"]
        },
    }
