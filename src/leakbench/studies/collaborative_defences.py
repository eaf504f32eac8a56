"""The collaborative-learning defences and active-attack study (Melis et al. 2019, Section
IV-E with Fig. 7, Section VIII with Tables V and VII): per grid row, one two-party run of
synchronised SGD per value of the row's sweep, the attack's AUC beside the joint model's
main-task accuracy (:mod:`leakbench.collaborative.defended`).

A row sweeps one knob: ``alpha`` (the active adversary's multi-task weight, Fig. 7),
``share_fraction`` (the fraction of largest-magnitude update entries shared, Table V) or
``dropout`` (the joint model's dropout probability, Table VII). Every value of a row
starts from the same split, initial model and round draws, so the sweep is paired.

The study takes leakbench's DP axis (``privacy.cells.collaborative_defences``): a listed
row runs again at every finite epsilon under participant-level DP (Section VIII-D;
:mod:`leakbench.collaborative.participant_dp`), each update clipped to
``privacy.max_grad_norm`` and the noise multiplier calibrated by
:func:`leakbench.privacy.accounting.calibrate_rounds` (q = 1, T = ``rounds``). Its
privacy variants share the row's seeds, so the non-private run is their paired baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import numpy as np
import torch

from leakbench.collaborative.active import check_alpha, output_layer
from leakbench.collaborative.defended import Setting, run
from leakbench.collaborative.participant_dp import ParticipantDP
from leakbench.collaborative.partition import pearson, split, task_labels
from leakbench.collaborative.sharing import check_fraction
from leakbench.data.pool import Pool
from leakbench.errors import ConfigError
from leakbench.models import build_model, get_architecture
from leakbench.privacy.accounting import Calibration, calibrate_rounds
from leakbench.privacy.settings import DPConfig
from leakbench.seeding import derive_seed
from leakbench.studies import collaborative
from leakbench.studies.collaborative_tokens import check_ids, records

STUDY = "collaborative_defences"
ATTACK = "defended_property"


class Sweep(StrEnum):
    """The knob a grid row varies."""

    ALPHA = "alpha"
    """the active adversary's alpha (Fig. 7)."""
    SHARE_FRACTION = "share_fraction"
    """the fraction of each update shared (Table V)."""
    DROPOUT = "dropout"
    """the joint model's dropout probability (Table VII)."""


def value_name(value: float) -> str:
    """The metrics key of a sweep value (``0.1``, ``1``)."""
    return f"{float(value):g}"


def check_value(sweep: str, value: float, *, key: str) -> float:
    """``value`` if it is allowed for ``sweep``: alpha in [0, 1], a sharing fraction in
    (0, 1], a dropout probability in [0, 1).

    Raises:
        ConfigError: naming ``key``, the value and the allowed range.
    """
    which = Sweep(sweep)
    if which is Sweep.ALPHA:
        return check_alpha(value, key=key)
    if which is Sweep.SHARE_FRACTION:
        return check_fraction(value, key=key)
    if isinstance(value, bool) or not 0 <= value < 1:
        raise ConfigError(f"{key}: {value!r} is not allowed; allowed: 0 <= dropout < 1")
    return float(value)


def check_row(
    row: Mapping[str, Any],
    *,
    key: str,
    num_classes: int,
    properties: tuple[str, ...],
    vocabulary: int = 0,
) -> None:
    """The checks a row's settings allow before its data are read: each sweep value in
    its range (:func:`check_value`), an architecture with a dropout parameter and no
    ``dropout`` in ``arch_params`` in a dropout sweep,
    and the passive study's checks of the property, the record count at two
    participants and a token model's data and vocabulary (``vocabulary``: the data set's,
    0 when its records are not token ids; :func:`leakbench.studies.collaborative.check_row`).

    Raises:
        ConfigError: naming the key, the value and the allowed values.
    """
    for i, value in enumerate(row["values"]):
        check_value(row["sweep"], value, key=f"{key}.values.{i}")
    if row["sweep"] == Sweep.DROPOUT and "dropout" not in get_architecture(row["arch"]).params:
        raise ConfigError(
            f"{key}.arch: {row['arch']!r} is not allowed in a dropout sweep; allowed: an "
            "architecture with a dropout parameter (mlp)"
        )
    if row["sweep"] == Sweep.DROPOUT and "dropout" in row["arch_params"]:
        raise ConfigError(
            f"{key}.arch_params.dropout: {row['arch_params']['dropout']!r} is not allowed in "
            "a dropout sweep; allowed: no dropout key (the sweep's values set it)"
        )
    passive = {
        **row,
        "algorithm": "sync_sgd",
        "participants": [2],
        "local_steps": 1,
        "fractions": [],
    }
    collaborative.check_row(
        passive, key=key, num_classes=num_classes, properties=properties, vocabulary=vocabulary
    )


def check_model(
    row: Mapping[str, Any], *, key: str, input_shape: tuple[int, ...], num_classes: int
) -> None:
    """An active row (an alpha sweep with a value above 0) builds its model and checks that
    a property head attaches to it (:func:`active.output_layer`); a passive adversary needs
    none.

    Raises:
        ConfigError: naming ``key``'s ``arch``, the model and the allowed architectures.
    """
    if row["sweep"] != Sweep.ALPHA or not any(v > 0 for v in row["values"]):
        return
    model = build_model(
        row["arch"], input_shape=input_shape, num_classes=num_classes, **row["arch_params"]
    )
    output_layer(model, key=f"{key}.arch")


def participant_dp(row: Mapping[str, Any]) -> tuple[ParticipantDP, Calibration] | None:
    """The participant-level DP of a row with ``privacy`` settings (a DP variant of the
    axis): clipping norm C = ``privacy.max_grad_norm`` and the noise multiplier that spends
    the target epsilon over the row's ``rounds`` at q = 1, with its calibration; None
    without ``privacy``.

    Raises:
        ConfigError: naming the ``privacy`` key, its value and what is allowed.
    """
    settings = row.get("privacy")
    if not settings:
        return None
    dp = DPConfig.from_mapping(settings)
    if not dp.private:
        return None
    calibration = calibrate_rounds(dp, rounds=row["rounds"])
    clip = ParticipantDP(clip=dp.max_grad_norm, noise_multiplier=calibration.noise_multiplier)
    return clip, calibration


def run_row(*, pool: Pool, row: Mapping[str, Any], seed: int, key: str) -> dict[str, Any]:
    """The row's metrics: per sweep value the attack's AUC and the joint model's test
    accuracy, the task-property correlation and the property's record count; under a DP
    variant also ``dp``, the calibration (noise multiplier, the accountant's epsilon ...).

    Raises :class:`ConfigError` (naming ``key``) before any training if the pool has
    fewer records than ``records + test_records``, the data do not fit the row, or the
    privacy settings are refused.
    """
    private = participant_dp(row)
    wanted = row["records"] + row["test_records"]
    if wanted > len(pool):
        raise ConfigError(
            f"{key}.records: {row['records']} + test_records {row['test_records']} is not "
            f"allowed with {len(pool)} records in the pool; allowed: a sum <= {len(pool)}"
        )
    values = [
        check_value(row["sweep"], v, key=f"{key}.values.{i}") for i, v in enumerate(row["values"])
    ]
    order = np.random.default_rng(derive_seed(seed, "records")).permutation(len(pool))
    chosen, held_out = np.sort(order[: row["records"]]), np.sort(order[row["records"] : wanted])
    labels = task_labels(pool.y, row["task"])
    prop = collaborative.has_property(pool, row, key=key)
    check_ids(pool.x[order[:wanted]], row, key=key)
    data = (
        records(pool.x[chosen], arch=row["arch"]),
        torch.from_numpy(labels[chosen]),
        torch.from_numpy(prop[chosen].astype(np.int64)),
    )
    test = (records(pool.x[held_out], arch=row["arch"]), torch.from_numpy(labels[held_out]))
    partition = split(
        has_property=prop[chosen],
        participants=2,
        batch_records=row["batch_size"],
        key=key,
        rng=np.random.default_rng(derive_seed(seed, "split")),
    )
    aucs, accuracies = {}, {}
    for value in values:
        arch_params = dict(row["arch_params"])
        if row["sweep"] == Sweep.DROPOUT:
            arch_params["dropout"] = value
        torch.manual_seed(derive_seed(seed, "init"))
        model = build_model(
            row["arch"],
            input_shape=tuple(pool.x.shape[1:]),
            num_classes=int(labels.max()) + 1,
            **arch_params,
        )
        setting = Setting(
            rounds=row["rounds"],
            batch_size=row["batch_size"],
            lr=row["lr"],
            trees=row["trees"],
            max_features=row["max_features"],
            alpha=value if row["sweep"] == Sweep.ALPHA else 0.0,
            share_fraction=value if row["sweep"] == Sweep.SHARE_FRACTION else 1.0,
            property_share=row["property_share"],
            dp=None if private is None else private[0],
        )
        outcome = run(
            model=model,
            data=data,
            test=test,
            partition=partition,
            setting=setting,
            seed=derive_seed(seed, "trial"),
            key=key,
        )
        aucs[value_name(value)] = outcome.auc
        accuracies[value_name(value)] = outcome.accuracy
    metrics = {
        "auc": aucs,
        "accuracy": accuracies,
        "correlation": pearson(labels[chosen], prop[chosen]),
        "property_records": int(prop[chosen].sum()),
    }
    if private is not None:
        metrics["dp"] = private[1].as_dict()
    return metrics
