"""Reference-model membership study: LiRA and RMIA on N keep-matrix models, and the
classical attacks on the same targets.

Carlini et al. 2022, "Membership Inference Attacks From First Principles" (IEEE S&P),
sections IV and VI, and Zarifzadeh et al. 2024, "Low-Cost High-Power Membership Inference
Attacks" (ICML), section 3 and 5. N models train on one keep matrix
(:mod:`leakbench.studies.lira_splits`); models 0 .. T-1 are attacked in turn
(leave-one-model-out), every other model being a possible reference model, and each
attack's metrics are reported as the mean and spread over the T targets for every number
of reference models k it is given.

What k counts (the papers' convention, :func:`leakbench.attacks.reference.select_references`):
the reference models of the kind the attack uses for a record: k OUT models for an offline
attack (at most N/2 - 1 exist for every record besides the target), k/2 IN and k/2 OUT for
an online one (k even, at most N - 2). Each attack runs at k = 1, 2, 4, ... up to the
configured ``references`` and its own maximum, the maximum included (:func:`counts_for`).
The attacks that use the target alone (global threshold, loss, confidence) have one row, k
= 0. Shokri et al.'s attack (section V of their paper) takes k of the other models as its
shadow models, whole: the first k after the target in cyclic order, each with its own
records labelled by its ``keep`` row; it runs once per target, at k = min(``references``,
N - 1) (one attack model per class on k * n rows: the sweep over k would cost k-fold more
and is the reference-model attacks' question, not Shokri's).

RMIA offline's ``a`` (when the config leaves it out) is chosen per target on a stand-in
reference model (:func:`leakbench.attacks.reference.calibrate_rmia_a`) with min(k, N/2 - 2)
OUT models per record, since the stand-in leaves one model fewer to choose from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leakbench import metrics
from leakbench.attacks import get_attack
from leakbench.attacks.base import AttackInput
from leakbench.attacks.queries import query_inputs
from leakbench.attacks.reference import (
    REFERENCE_ATTACKS,
    ReferenceSignals,
    calibrate_rmia_a,
    get_reference_attack,
    score,
    select_references,
)
from leakbench.attacks.signals import SignalSpec, compute_signals
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.seeding import derive_seed
from leakbench.training import StackedModels, predict_logits

STUDY = "membership_lira"
SHADOW_ATTACKS = ("shokri",)
"""Attacks of :data:`leakbench.attacks.ATTACKS` the study runs with reference models as
shadow models; every other attack name is one of
:data:`~leakbench.attacks.reference.REFERENCE_ATTACKS`."""
FPR_LEVELS = (0.001, 0.01, 0.0)
"""TPR is reported at these FPRs (:func:`leakbench.metrics.tpr_at_fpr`: the TPR at the
largest ROC point whose FPR is at most the level; 0 asks for no false positive at all)."""
METRICS = ("auc", "balanced_accuracy", *(f"tpr_at_fpr_{level:g}" for level in FPR_LEVELS))
QUERY_CHUNK = 1024
"""Records whose queries go through the models at once in :func:`query_signals`."""


def model_seeds(*, seed: int, dataset: str, variant: str, models: range) -> list[int]:
    """Model k's seed (its initialisation and batch order), from the config seed and the
    cell's wildcards, for each k of ``models`` (one training job's slice)."""
    return [derive_seed(seed, STUDY, dataset, variant, "model", k) for k in models]


def kind_of(attack: str) -> str:
    """``"shadow"`` for Shokri's attack, else the reference attack's kind of reference
    models (``"online"``, ``"offline"`` or ``"none"``).

    Raises:
        UnknownNameError: for a name in neither registry.
    """
    if attack in SHADOW_ATTACKS:
        return "shadow"
    if attack not in REFERENCE_ATTACKS:
        raise UnknownNameError("attacks", attack, [*REFERENCE_ATTACKS, *SHADOW_ATTACKS])
    return get_reference_attack(attack).references


def max_references(*, kind: str, models: int) -> int:
    """The most reference models of ``kind`` every record has besides the target (module
    docstring): N/2 - 1 offline, N - 2 online, N - 1 as shadow models, 0 for none."""
    return {"none": 0, "offline": models // 2 - 1, "online": models - 2, "shadow": models - 1}[kind]


def counts_for(*, attack: str, models: int, references: int) -> list[int]:
    """The numbers of reference models ``attack`` runs with: 1, 2, 4, ... (even only for
    an online attack) below m = min(``references``, its maximum), then m itself; [0] for an
    attack that uses none; [m] for Shokri's attack (module docstring).

    Raises:
        ConfigError: if the attack can use no reference model with N = ``models``.
    """
    kind = kind_of(attack)
    if kind == "none":
        return [0]
    most = min(references, max_references(kind=kind, models=models))
    if kind == "online":
        most -= most % 2
    if most < (2 if kind == "online" else 1):
        raise ConfigError(
            f"membership_lira.attacks: {attack!r} is not allowed with {models} models and "
            f"references {references}; allowed: models >= 4 and references >= "
            f"{2 if kind == 'online' else 1} (it needs a reference model of each kind it uses "
            "for every record)"
        )
    if kind == "shadow":
        return [most]
    ladder = [2**i for i in range(1 if kind == "online" else 0, int(math.log2(most)) + 1)]
    return sorted({*(c for c in ladder if c < most), most})


def signal_specs(
    *, attacks: Sequence[str], params: Mapping[str, Mapping[str, Any]]
) -> dict[str, SignalSpec]:
    """Every signal the reference attacks among ``attacks`` need, by storage name."""
    from leakbench.attacks.reference import required_signals

    chosen = [a for a in attacks if a not in SHADOW_ATTACKS]
    return required_signals(attacks=chosen, params={a: params.get(a, {}) for a in chosen})


def query_signals(
    *,
    models: StackedModels,
    x: np.ndarray,
    labels: np.ndarray,
    queries: Sequence[str],
    specs: Mapping[str, SignalSpec],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every model's signals on every record and query, and its plain-query logits.

    Each record is presented as its queries (:func:`leakbench.attacks.queries.query_inputs`),
    :data:`QUERY_CHUNK` records at a time; each model's logits on them give its signals
    (:func:`leakbench.attacks.signals.compute_signals`).

    Returns:
        ``({storage name: float64 [K, n, Q]}, float32 logits [K, n, C] of query 0)``.
    """
    count, records = len(models.seeds), len(labels)
    signals = {key: np.empty((count, records, len(queries))) for key in specs}
    plain = np.empty((count, records, models.num_classes), dtype=np.float32)
    for start in range(0, records, QUERY_CHUNK):
        stop = min(start + QUERY_CHUNK, records)
        inputs = query_inputs(x=x[start:stop], queries=queries)
        flat = inputs.reshape(-1, *inputs.shape[2:])
        logits = predict_logits(models, flat).reshape(count, stop - start, len(queries), -1)
        plain[:, start:stop] = logits[:, :, 0]
        for k in range(count):
            values = compute_signals(logits=logits[k], labels=labels[start:stop], specs=specs)
            for key, value in values.items():
                signals[key][k, start:stop] = value
    return signals, plain


@dataclass(frozen=True)
class Evaluation:
    """One attack's results on one cell.

    Attributes:
        by_count: ``{k: {metric: [value per target]}}``, targets in order.
        roc: ``(fpr, tpr)`` of the first target at the largest k (the ROC figure's curve).
        scores: float64 [n], the first target's scores at the largest k.
        params: ``{target: {name: value}}``, parameters chosen per target (RMIA offline's
            calibrated ``a``); empty when none is.
    """

    by_count: dict[int, dict[str, list[float]]]
    roc: tuple[np.ndarray, np.ndarray]
    scores: np.ndarray
    params: dict[int, dict[str, float]]

    def summary(self) -> dict[str, dict[str, float]]:
        """``{k: {metric_mean, metric_std}}`` over the targets (std with ddof = 0)."""
        return {
            str(k): {
                f"{name}_{stat}": float(fn(values))
                for name, values in by_metric.items()
                for stat, fn in (("mean", np.mean), ("std", np.std))
            }
            for k, by_metric in self.by_count.items()
        }


def metric_values(*, scores: np.ndarray, member: np.ndarray) -> dict[str, float]:
    """:data:`METRICS` of one target's scores."""
    values = {
        "auc": metrics.auc(scores=scores, member=member),
        "balanced_accuracy": metrics.best_balanced_accuracy(scores=scores, member=member),
    }
    for level in FPR_LEVELS:
        values[f"tpr_at_fpr_{level:g}"] = metrics.tpr_at_fpr(
            scores=scores, member=member, fpr=level
        )
    return values


def shadow_models(*, target: int, count: int, models: int) -> list[int]:
    """Shokri's shadow models for ``target``: the ``count`` models after it, cyclically."""
    return [(target + 1 + i) % models for i in range(count)]


def shokri_scores(
    *,
    logits: np.ndarray,
    labels: np.ndarray,
    keep: np.ndarray,
    target: int,
    count: int,
    params: Mapping[str, Any],
    seed: int,
) -> np.ndarray:
    """Shokri et al. 2017's attack (:func:`leakbench.attacks.shokri.run`) on ``target``
    with :func:`shadow_models` as its shadow models, each on every record (its IN records
    and its OUT records by its ``keep`` row)."""
    shadows = shadow_models(target=target, count=count, models=keep.shape[0])
    inp = AttackInput(
        logits=logits[target],
        labels=labels,
        shadow_logits=np.concatenate([logits[s] for s in shadows]),
        shadow_labels=np.tile(labels, len(shadows)),
        shadow_member=np.concatenate([keep[s] for s in shadows]),
    )
    return get_attack("shokri").run(inp, seed=seed, **params).scores


def evaluate(
    *,
    attack: str,
    data: ReferenceSignals,
    logits: np.ndarray,
    labels: np.ndarray,
    params: Mapping[str, Any],
    targets: int,
    references: int,
    seed: int,
) -> Evaluation:
    """Attack each of the models 0 .. ``targets`` - 1 with every number of reference
    models of :func:`counts_for`, scoring all n records against the target's ``keep`` row.

    Args:
        attack: a reference attack or one of :data:`SHADOW_ATTACKS`.
        data: every model's signals, ``keep`` and the population records.
        logits: float32 [N, n, C], every model's plain-query logits (Shokri's attack).
        labels: int [n].
        params: the attack's parameters.
        targets: T, the number of models attacked in turn.
        references: the largest number of reference models asked for.
        seed: the seed of Shokri's attack models.
    """
    keep = np.asarray(data.keep)
    models = keep.shape[0]
    kind = kind_of(attack)
    counts = counts_for(attack=attack, models=models, references=references)
    by_count: dict[int, dict[str, list[float]]] = {
        k: {name: [] for name in METRICS} for k in counts
    }
    chosen: dict[int, dict[str, float]] = {}
    last = np.empty(0)
    for target in range(targets):
        for k in counts:
            if kind == "shadow":
                scores = shokri_scores(
                    logits=logits,
                    labels=labels,
                    keep=keep,
                    target=target,
                    count=k,
                    params=params,
                    seed=seed,
                )
            else:
                run_params = dict(params)
                if attack == "rmia_offline" and "a" not in params:
                    run_params["a"] = calibrate_rmia_a(
                        data=data, target=target, count=min(k, models // 2 - 2), params=params
                    )
                    chosen.setdefault(target, {})[f"a_{k}"] = run_params["a"]
                refs = (
                    np.array([m for m in range(models) if m != target])
                    if kind == "none"
                    else select_references(
                        keep=keep, exclude=(target,), count=k, online=kind == "online"
                    )
                )
                scores = score(
                    attack=attack, data=data, target=target, references=refs, params=run_params
                )
            for name, value in metric_values(scores=scores, member=keep[target]).items():
                by_count[k][name].append(value)
            if target == 0 and k == counts[-1]:
                last = scores
    fpr, tpr, _ = metrics.roc_curve(scores=last, member=keep[0])
    return Evaluation(by_count=by_count, roc=(fpr, tpr), scores=last, params=chosen)


def references_of(row: Mapping[str, Any]) -> int:
    """A grid row's largest number of reference models: ``references``, or N - 1 where
    it is null or absent."""
    value = row.get("references")
    return int(row["models"] - 1 if value is None else value)


def check_study(*, study: Mapping[str, Any], datasets: Mapping[str, Any]) -> None:
    """Every rule of the ``membership_lira`` section the schema cannot express, before any
    job: models even and >= 2 (at least 4 for an attack with reference models), targets
    and references within the models trained, attack names and parameters, queries and
    training augmentation for the dataset's kind of records.

    Args:
        study: the validated section.
        datasets: the dataset registry (name -> spec with ``input_shape``).

    Raises:
        ConfigError, UnknownNameError: naming the key, the value and what is allowed.
    """
    from leakbench.attacks.queries import check_queries
    from leakbench.attacks.reference import check_reference_params
    from leakbench.studies.lira_splits import check_models
    from leakbench.training.augment import check_image_inputs

    attacks = list(study["attacks"])
    for name in attacks:
        kind_of(name)
    reference = [a for a in attacks if a not in SHADOW_ATTACKS]
    params = study["attack_params"]
    for name in params:
        if name not in attacks:
            raise UnknownNameError("membership_lira.attack_params", name, attacks)
    check_reference_params(
        attacks=reference,
        params={a: params[a] for a in reference if a in params},
        queries=["plain"],
    )
    for i, row in enumerate(study["grid"]):
        key = f"membership_lira.grid.{i}"
        models = check_models(key=f"{key}.models", models=row["models"])
        if row["targets"] > models:
            raise ConfigError(
                f"{key}.targets: {row['targets']} is not allowed; allowed: 1 to {models} "
                "(the models trained)"
            )
        if references_of(row) > models - 1:
            raise ConfigError(
                f"{key}.references: {references_of(row)} is not allowed; allowed: 1 to "
                f"{models - 1} (the models trained besides the target)"
            )
        image = len(datasets[row["dataset"]].input_shape) == 3
        try:
            check_queries(queries=row["queries"], image=image)
        except ConfigError as err:
            raise ConfigError(f"{key}.{err}") from None
        check_image_inputs(
            augment=row["augment"],
            input_shape=datasets[row["dataset"]].input_shape,
            key=f"{key}.augment",
        )
        for name in attacks:
            counts_for(attack=name, models=models, references=references_of(row))
        calibrates = "rmia_offline" in attacks and "a" not in params.get("rmia_offline", {})
        if calibrates and models < 6:
            raise ConfigError(
                f"{key}.models: {models} is not allowed for rmia_offline without a; "
                "allowed: >= 6 (calibrating a needs a stand-in target and an OUT "
                "reference model for every record), or set attack_params.rmia_offline.a"
            )
        if row["population"] > row["records"]:
            raise ConfigError(
                f"{key}.population: {row['population']} is not allowed; allowed: 2 to "
                f"{row['records']} (records)"
            )
