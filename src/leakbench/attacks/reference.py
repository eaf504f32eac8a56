"""Membership attacks on keep-matrix reference models: the registry, the data they share and
the one entry point :func:`score`.

The protocol (Carlini et al. 2022, "Membership Inference Attacks From First Principles",
IEEE S&P, section IV and the reference code's keep matrix): N models are trained on random
halves of one pool of n records, ``keep[N, n]`` saying which model saw which record. Any
model can be the target; the others are its reference models, whose ``keep`` rows the
attacker knows. Each attack sees per-model, per-record signals ``[N, n, Q]``
(:class:`ReferenceSignals`) and scores every record for one target.

Reference models per record: :func:`select_references` gives each record its own k
reference models, k/2 IN and k/2 OUT for an online attack and k OUT for an offline one, as
the papers count "k reference (shadow) models": a record scored with k models has k
models of the kind the attack uses. :func:`score` also takes one list of model indices for
every record; an attack then refuses a record that lacks a side it needs. With every model
but the target as that list (the reference code's setting, "N - 1 reference models"),
each record has N/2 - 1 or N/2 models on each side.

RMIA's population records z (:attr:`ReferenceSignals.population`) are pool records chosen
without regard to any model's membership (the attacker does not know the target's), e.g.
a seeded uniform sample of the pool; the same z serve every target. This is the RMIA
reference code's (privacytrustlab/ml_privacy_meter) population data, drawn from the pool
because the keep protocol leaves no record outside every model.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from leakbench.attacks import lira, rmia
from leakbench.attacks.base import positive
from leakbench.attacks.queries import QUERIES, check_queries
from leakbench.attacks.signals import SignalSpec
from leakbench.errors import ConfigError, UnknownNameError
from leakbench.metrics import auc

DEFAULT_GAMMA = 2.0
"""RMIA's likelihood-ratio threshold gamma (Zarifzadeh et al. 2024, section 3 and their
experiments' default)."""
DEFAULT_TEMPERATURE = 2.0
"""T of RMIA's Pr(x | theta) = softmax(z / T)_y (Zarifzadeh et al. 2024's default)."""
A_GRID = tuple(step / 10 for step in range(11))
"""The values of RMIA's offline ``a`` that :func:`calibrate_rmia_a` tries: 0, 0.1, ..., 1,
the grid of the RMIA reference code."""
LIRA_SIGNALS = ("phi", "loss", "confidence")
"""Signals a LiRA attack or the global threshold may model (``params["signal"]``)."""

References = Literal["none", "online", "offline"]


@dataclass(frozen=True, eq=False)
class ReferenceSignals:
    """What the attacker has: every model's signals on every record, and ``keep``.

    Attributes:
        signals: storage name (:attr:`SignalSpec.key`) -> float64 [N, n, Q].
        keep: bool [N, n], ``keep[m, i]`` iff record i is in model m's training set.
        population: int [m], m >= 2 distinct indices into n: RMIA's population records z
            (see the module docstring for how to choose them).

    Raises:
        ConfigError: naming the field, on shapes, dtypes or values that do not fit.
    """

    signals: Mapping[str, np.ndarray]
    keep: np.ndarray
    population: np.ndarray

    def __post_init__(self) -> None:
        keep = np.asarray(self.keep)
        if keep.ndim != 2 or keep.dtype != bool or keep.shape[0] < 2 or keep.shape[1] < 1:
            raise ConfigError(
                f"keep: shape {keep.shape} and dtype {keep.dtype} are not allowed; allowed: "
                "bool [N, n], N >= 2 models, n >= 1 records"
            )
        for key, values in self.signals.items():
            array = np.asarray(values)
            if array.ndim != 3 or array.shape[:2] != keep.shape or array.dtype != np.float64:
                raise ConfigError(
                    f"signals.{key}: shape {array.shape} and dtype {array.dtype} are not "
                    f"allowed; allowed: float64 [{keep.shape[0]}, {keep.shape[1]}, Q]"
                )
            if not np.isfinite(array).all():
                raise ConfigError(f"signals.{key}: non-finite values are not allowed")
        population = np.asarray(self.population)
        if (
            population.ndim != 1
            or population.dtype.kind not in "iu"
            or population.size < 2
            or np.unique(population).size != population.size
            or population.min() < 0
            or population.max() >= keep.shape[1]
        ):
            raise ConfigError(
                f"population: {population.size} indices of dtype {population.dtype} are not "
                f"allowed; allowed: >= 2 distinct integers in [0, {keep.shape[1] - 1}]"
            )


@dataclass(frozen=True)
class ReferenceAttack:
    """A registered reference-model attack.

    Attributes:
        name: the name configs use.
        compute: ``compute(*, target, refs, ref_in, data, params) -> float64 [n]`` on the
            gathered arrays of :mod:`leakbench.attacks.lira`.
        params: the parameter names it takes, with their defaults (None: required by
            :func:`score`, supplied by the study, e.g. a calibrated ``a``).
        references: which reference models per record it uses: "online" (IN and OUT),
            "offline" (OUT only) or "none" (the target alone).
        description: one line for listings.
        reference: the paper and section implemented.
    """

    name: str
    compute: Callable[..., np.ndarray]
    params: Mapping[str, object]
    references: References
    description: str
    reference: str


def _lira(form: Callable[..., np.ndarray], *, fixed: bool) -> Callable[..., np.ndarray]:
    def compute(
        *,
        target: np.ndarray,
        refs: np.ndarray,
        ref_in: np.ndarray,
        data: ReferenceSignals,
        params: Mapping[str, object],
    ) -> np.ndarray:
        del data, params
        return form(target=target, refs=refs, ref_in=ref_in, fixed=fixed)

    return compute


def _signal_mean(
    *,
    target: np.ndarray,
    refs: np.ndarray,
    ref_in: np.ndarray,
    data: ReferenceSignals,
    params: Mapping[str, object],
) -> np.ndarray:
    """Score = the mean over queries of the target's signal, one threshold for every
    record. On phi: the "global threshold" baseline of Carlini et al. 2022, section IV
    (the reference code's ``generate_global``); on the true label's softmax probability:
    the confidence threshold of Salem et al. 2019 (NDSS), section 7. Higher = member."""
    del refs, ref_in, data, params
    return target.mean(axis=1)


def _negated(
    *,
    target: np.ndarray,
    refs: np.ndarray,
    ref_in: np.ndarray,
    data: ReferenceSignals,
    params: Mapping[str, object],
) -> np.ndarray:
    """Yeom et al. 2018, IEEE CSF, section 3.2: score = -mean over queries of the loss."""
    del refs, ref_in, data, params
    return -target.mean(axis=1)


def _rmia(*, offline: bool) -> Callable[..., np.ndarray]:
    def compute(
        *,
        target: np.ndarray,
        refs: np.ndarray,
        ref_in: np.ndarray,
        data: ReferenceSignals,
        params: Mapping[str, object],
    ) -> np.ndarray:
        return rmia.scores(
            target=target,
            refs=refs,
            ref_in=ref_in,
            population=np.asarray(data.population),
            gamma=float(params["gamma"]),
            offline_a=float(params["a"]) if offline else None,
        )

    return compute


_CARLINI = "Carlini et al. 2022, IEEE S&P, section IV, Algorithm 1"
_ZARIFZADEH = "Zarifzadeh et al. 2024, ICML, section 3"
_LIRA_PARAMS: Mapping[str, object] = {"signal": "phi"}
_RMIA_PARAMS: Mapping[str, object] = {"gamma": DEFAULT_GAMMA, "temperature": DEFAULT_TEMPERATURE}

REFERENCE_ATTACKS: dict[str, ReferenceAttack] = {
    attack.name: attack
    for attack in (
        ReferenceAttack(
            "lira_online",
            _lira(lira.online, fixed=False),
            _LIRA_PARAMS,
            "online",
            "LiRA online: per-record IN and OUT Gaussians, log likelihood ratio",
            f"{_CARLINI} (online)",
        ),
        ReferenceAttack(
            "lira_online_fixed",
            _lira(lira.online, fixed=True),
            _LIRA_PARAMS,
            "online",
            "LiRA online with one global variance",
            f"{_CARLINI} (online, global variance)",
        ),
        ReferenceAttack(
            "lira_offline",
            _lira(lira.offline, fixed=False),
            _LIRA_PARAMS,
            "offline",
            "LiRA offline, the paper's one-sided test against the OUT Gaussian",
            f"{_CARLINI} (offline)",
        ),
        ReferenceAttack(
            "lira_offline_fixed",
            _lira(lira.offline, fixed=True),
            _LIRA_PARAMS,
            "offline",
            "LiRA offline (one-sided) with one global variance",
            f"{_CARLINI} (offline, global variance)",
        ),
        ReferenceAttack(
            "lira_offline_refcode",
            _lira(lira.offline_refcode, fixed=False),
            _LIRA_PARAMS,
            "offline",
            "LiRA offline as the reference code scores it: -log density of the OUT Gaussian",
            "Carlini et al. 2022, reference code (research/mi_lira_2021/plot.py), section VI",
        ),
        ReferenceAttack(
            "lira_offline_refcode_fixed",
            _lira(lira.offline_refcode, fixed=True),
            _LIRA_PARAMS,
            "offline",
            "LiRA offline as the reference code scores it, one global variance",
            "Carlini et al. 2022, reference code (research/mi_lira_2021/plot.py), section VI",
        ),
        ReferenceAttack(
            "global_threshold",
            _signal_mean,
            _LIRA_PARAMS,
            "none",
            "one threshold on the target's phi for every record",
            "Carlini et al. 2022, IEEE S&P, section IV (global threshold baseline)",
        ),
        ReferenceAttack(
            "rmia_online",
            _rmia(offline=False),
            _RMIA_PARAMS,
            "online",
            "RMIA: fraction of population records z with LR(x, z) > gamma",
            f"{_ZARIFZADEH} (online)",
        ),
        ReferenceAttack(
            "rmia_offline",
            _rmia(offline=True),
            {**_RMIA_PARAMS, "a": None},
            "offline",
            "RMIA offline: Pr(x) = ((1 + a) mean_OUT + (1 - a)) / 2",
            f"{_ZARIFZADEH} and appendix (offline a)",
        ),
        ReferenceAttack(
            "loss",
            _negated,
            {},
            "none",
            "the target's cross-entropy, negated",
            "Yeom et al. 2018, IEEE CSF, section 3.2",
        ),
        ReferenceAttack(
            "confidence",
            _signal_mean,
            {},
            "none",
            "the target's softmax probability of the true label",
            "Salem et al. 2019, NDSS (ML-Leaks), section 7 (threshold on the posterior)",
        ),
    )
}


def get_reference_attack(name: str) -> ReferenceAttack:
    """The attack registered under ``name``.

    Raises:
        UnknownNameError: naming the key ``attacks``, the value and the registered names.
    """
    if name not in REFERENCE_ATTACKS:
        raise UnknownNameError("attacks", name, REFERENCE_ATTACKS)
    return REFERENCE_ATTACKS[name]


def _check_one(attack: str, params: Mapping[str, object]) -> dict[str, object]:
    """``params`` of ``attack`` checked, with the defaults filled in (a required one that is
    absent stays absent)."""
    spec = get_reference_attack(attack)
    for key in params:
        if key not in spec.params:
            raise ConfigError(
                f"attack_params.{attack}.{key}: unknown parameter {key!r}; allowed: "
                f"{', '.join(spec.params) or 'none (it takes no parameters)'}"
            )
    merged = {k: v for k, v in spec.params.items() if v is not None} | dict(params)
    for key in ("gamma", "temperature"):
        if key in merged:
            positive(f"attack_params.{attack}.{key}", merged[key])
    if "a" in merged:
        value = merged["a"]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            raise ConfigError(
                f"attack_params.{attack}.a: {value!r} is not allowed; allowed: a number in [0, 1]"
            )
    if "signal" in merged and merged["signal"] not in LIRA_SIGNALS:
        raise ConfigError(
            f"attack_params.{attack}.signal: {merged['signal']!r} is not allowed; allowed: "
            f"{', '.join(LIRA_SIGNALS)}"
        )
    return merged


def check_reference_params(
    *,
    attacks: Sequence[str],
    params: Mapping[str, Mapping[str, object]],
    queries: Sequence[str],
) -> None:
    """Refuse a configuration before any model is trained.

    Args:
        attacks: names of :data:`REFERENCE_ATTACKS`.
        params: attack name -> its parameters (absent ones take their defaults; RMIA
            offline's ``a`` may be absent, to be set by :func:`calibrate_rmia_a`).
        queries: names of :data:`~leakbench.attacks.queries.QUERIES` ("plain" first).
            Whether the data are images is the dataset's to say: call
            :func:`~leakbench.attacks.queries.check_queries` with ``image`` as well.

    Raises:
        UnknownNameError: for an unknown attack or query.
        ConfigError: for parameters of an attack not in ``attacks``, an unknown parameter,
            a outside [0, 1], gamma or temperature not > 0, or a signal not allowed.
    """
    for attack in attacks:
        get_reference_attack(attack)
    for attack in params:
        if attack not in attacks:
            raise ConfigError(
                f"attack_params.{attack}: parameters of an attack that is not run are not "
                f"allowed; allowed: {', '.join(attacks)}"
            )
    for attack in attacks:
        _check_one(attack, params.get(attack, {}))
    for name in queries:
        if name not in QUERIES:
            raise UnknownNameError("queries", name, QUERIES)
    check_queries(queries=queries, image=True)


def _signal_of(attack: str, params: Mapping[str, object]) -> SignalSpec:
    merged = _check_one(attack, params)
    if attack.startswith("rmia"):
        return SignalSpec("prob_t", temperature=float(merged["temperature"]))  # type: ignore[arg-type]
    if attack in ("loss", "confidence"):
        return SignalSpec(attack)
    return SignalSpec(str(merged["signal"]))


def required_signals(
    *, attacks: Sequence[str], params: Mapping[str, Mapping[str, object]]
) -> dict[str, SignalSpec]:
    """The signals the attacks need, by storage name (each once).

    Raises:
        UnknownNameError, ConfigError: as :func:`check_reference_params`.
    """
    specs = (_signal_of(attack, params.get(attack, {})) for attack in attacks)
    return {spec.key: spec for spec in specs}


def select_references(
    *, keep: np.ndarray, exclude: Sequence[int], count: int, online: bool
) -> np.ndarray:
    """Each record's ``count`` reference models, deterministically.

    The candidates are the models not in ``exclude`` (the target, and for
    :func:`calibrate_rmia_a` the model attacked in its place), in increasing index order.
    Offline: the first ``count`` candidates that are OUT for the record. Online: the first
    ``count / 2`` IN and the first ``count / 2`` OUT candidates (as many IN as OUT, the
    paper's balanced shadow sets). Taking the first in index order keeps the sets nested:
    the models used with k are among those used with 2k.

    Args:
        keep: bool [N, n].
        exclude: model indices never used.
        count: k >= 1 (even for online).
        online: which kind of sets.

    Returns:
        int64 [n, count], model indices per record, sorted increasingly.

    Raises:
        ConfigError: naming ``references`` if k is odd for online, < 1, or more than some
            record has models of the kind needed.
    """
    keep = np.asarray(keep, dtype=bool)
    candidates = np.array([m for m in range(keep.shape[0]) if m not in set(exclude)])
    per_side = count // 2 if online else count
    if count < 1 or (online and count % 2):
        raise ConfigError(
            f"references: {count} is not allowed; allowed: an integer >= 1"
            + (", even for an online attack (as many IN as OUT)" if online else "")
        )
    member = keep[candidates].T  # [n, candidates]
    sides = (member, ~member) if online else (~member,)
    available = min(int(side.sum(axis=1).min()) for side in sides)
    if per_side > available:
        most = available * (2 if online else 1)
        raise ConfigError(
            f"references: {count} is not allowed; allowed: at most {most} (every record has "
            f"{available} {'IN and OUT' if online else 'OUT'} models besides the excluded)"
        )
    chosen = []
    for side in sides:
        # Stable argsort of "not on this side" puts the side's models first, in index order.
        order = np.argsort(~side, axis=1, kind="stable")[:, :per_side]
        chosen.append(candidates[order])
    return np.sort(np.concatenate(chosen, axis=1), axis=1).astype(np.int64)


def _gather(
    data: ReferenceSignals, key: str, target: int, references: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(target [n, Q], refs [n, k, Q], ref_in [n, k]) of one signal."""
    values = np.asarray(data.signals[key])
    keep = np.asarray(data.keep)
    rows = np.arange(keep.shape[1])[:, None]
    return values[target], values[references, rows], keep[references, rows]


def _references(data: ReferenceSignals, target: int, references: np.ndarray) -> np.ndarray:
    models, records = np.asarray(data.keep).shape
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise ConfigError(f"target: {target!r} is not allowed; allowed: a model index")
    if not 0 <= target < models:
        raise ConfigError(f"target: {target} is not allowed; allowed: 0 .. {models - 1}")
    refs = np.asarray(references)
    if refs.ndim == 1:
        refs = np.broadcast_to(refs, (records, refs.size))
    if (
        refs.ndim != 2
        or refs.shape[0] != records
        or refs.shape[1] < 1
        or refs.dtype.kind not in "iu"
    ):
        raise ConfigError(
            f"references: shape {refs.shape} and dtype {refs.dtype} are not allowed; "
            f"allowed: integers [k] or [{records}, k], k >= 1"
        )
    if refs.min() < 0 or refs.max() >= models or (refs == target).any():
        raise ConfigError(
            f"references: model indices in [{refs.min()}, {refs.max()}] including or beside "
            f"the target are not allowed; allowed: 0 .. {models - 1} except the target {target}"
        )
    ordered = np.sort(refs, axis=1)
    if (ordered[:, 1:] == ordered[:, :-1]).any():
        raise ConfigError("references: a repeated model is not allowed; allowed: distinct")
    return refs


def score(
    *,
    attack: str,
    data: ReferenceSignals,
    target: int,
    references: np.ndarray,
    params: Mapping[str, object],
) -> np.ndarray:
    """Score every record as a member of model ``target``.

    Args:
        attack: a name of :data:`REFERENCE_ATTACKS` (its docstring cites the formula).
        data: the signals it needs (:func:`required_signals`) and ``keep``.
        target: the attacked model's index.
        references: reference model indices, never the target: int [k] (the same for
            every record) or [n, k] (per record, as :func:`select_references` gives).
            Ignored by the attacks that use none ("none" in :attr:`ReferenceAttack.references`).
        params: the attack's parameters (defaults filled in; RMIA offline needs ``a``).

    Returns:
        float64 [n], higher = more likely a member of ``target``.

    Raises:
        UnknownNameError: for an unknown attack.
        ConfigError: on a bad parameter, a missing required one, a bad ``target`` or
            ``references``, or a record lacking a reference model of a side it needs.
    """
    spec = get_reference_attack(attack)
    merged = _check_one(attack, params)
    missing = [key for key in spec.params if key not in merged]
    if missing:
        raise ConfigError(
            f"attack_params.{attack}.{missing[0]}: missing; allowed: a value (for a, a number "
            "in [0, 1], e.g. from calibrate_rmia_a)"
        )
    key = _signal_of(attack, params).key
    if key not in data.signals:
        raise ConfigError(
            f"signals: {key!r} is missing; allowed: the keys of required_signals "
            f"({', '.join(data.signals) or 'none given'})"
        )
    refs = _references(data, target, references)
    target_values, ref_values, ref_in = _gather(data, key, target, refs)
    result = spec.compute(
        target=target_values, refs=ref_values, ref_in=ref_in, data=data, params=merged
    )
    return np.asarray(result, dtype=np.float64)


def calibrate_rmia_a(
    *,
    data: ReferenceSignals,
    target: int,
    count: int | None,
    params: Mapping[str, object],
) -> float:
    """Choose offline RMIA's ``a`` without the target, as Zarifzadeh et al. 2024 describe
    (appendix on offline RMIA: attack one reference model with the others and keep the best
    a).

    The stand-in target is the lowest-index model other than ``target``; its reference
    models are :func:`select_references` (offline, ``count`` per record) among the models
    other than both, or, with ``count`` None, every model other than both. Each a in
    :data:`A_GRID` scores the stand-in's records with :func:`score`; the a with the highest
    AUC against the stand-in's ``keep`` row wins (the smallest such a on a tie, as the
    reference code keeps the first strictly better one).
    The target's signals and membership are never read.

    Args:
        data: signals with ``prob_t`` at the attack's temperature.
        target: the model that will be attacked (left out).
        count: reference models per record, as the attack itself will use; None for all.
        params: rmia_offline's other parameters (gamma, temperature); ``a`` is ignored.

    Returns:
        The chosen a.

    Raises:
        ConfigError: as :func:`score` and :func:`select_references`; also when N < 3 (no
            model left to stand in).
    """
    keep = np.asarray(data.keep)
    if keep.shape[0] < 3:
        raise ConfigError(
            f"keep: {keep.shape[0]} models are not allowed for calibrating a; allowed: >= 3 "
            "(a target, a stand-in and a reference model)"
        )
    stand_in = 0 if target != 0 else 1
    refs = (
        np.array([m for m in range(keep.shape[0]) if m not in (target, stand_in)])
        if count is None
        else select_references(keep=keep, exclude=(target, stand_in), count=count, online=False)
    )
    member = keep[stand_in]
    best, best_auc = A_GRID[0], -math.inf
    base = {k: v for k, v in params.items() if k != "a"}
    for a in A_GRID:
        scores = score(
            attack="rmia_offline",
            data=data,
            target=stand_in,
            references=refs,
            params={**base, "a": a},
        )
        value = auc(scores=scores, member=member)
        if value > best_auc:
            best, best_auc = a, value
    return best
