"""K fitted scikit-learn models of one family: training and logits.

The counterpart of :class:`leakbench.training.StackedModels` for the families of
:mod:`leakbench.estimators.families`: the models train one after the other (they do not
stack), each on its own records, each seeded, with every native thread pool (BLAS,
OpenMP) held to one thread so that a rerun gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from leakbench.errors import ConfigError
from leakbench.estimators.families import family_params, get_family


@dataclass(frozen=True)
class FittedEstimators:
    """K fitted models of one scikit-learn family.

    Attributes:
        family: the family's name (a key of :data:`~leakbench.estimators.FAMILIES`).
        params: its parameters, defaults filled in.
        input_shape: shape of one input record (flattened before fitting).
        num_classes: number of output logits.
        seeds: model k's ``random_state``.
        arrays: model k's arrays (:attr:`~leakbench.estimators.families.Family.arrays`).
    """

    family: str
    params: dict[str, Any]
    input_shape: tuple[int, ...]
    num_classes: int
    seeds: tuple[int, ...]
    arrays: tuple[dict[str, np.ndarray], ...]

    @property
    def count(self) -> int:
        """The number of models K."""
        return len(self.seeds)


def _records(x: np.ndarray, input_shape: Sequence[int]) -> np.ndarray:
    """Records ``[N, *input_shape]`` as the float64 matrix ``[N, D]`` the families take."""
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise ConfigError(
            f"x: record shape {list(x.shape[1:])} is not allowed; allowed: {list(input_shape)} "
            "(the models' input shape)"
        )
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1)


def train_estimators(
    *,
    family: str,
    params: Mapping[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    keep: np.ndarray,
    seeds: Sequence[int],
) -> FittedEstimators:
    """Fit model k of ``family`` on the records ``keep[k]`` selects, with ``seeds[k]``.

    Args:
        family: a family name.
        params: its ``arch_params`` (checked; defaults filled).
        x: records ``[N, *shape]``; y: labels ``[N]`` in ``[0, num_classes)``.
        num_classes: the dataset's class count (every model has that many logits).
        keep: boolean ``[K, N]``.
        seeds: K seeds.

    Raises:
        ConfigError: for bad parameters, or as many seeds as rows of ``keep``.
    """
    spec = get_family(family)
    full = family_params(family, params)
    if len(seeds) != keep.shape[0]:
        raise ConfigError(
            f"seeds: {len(seeds)} seeds is not allowed; allowed: one per model ({keep.shape[0]})"
        )
    records = _records(x, x.shape[1:])
    fitted = []
    with threadpool_limits(limits=1):
        for k, seed in enumerate(seeds):
            rows = np.flatnonzero(keep[k])
            fitted.append(
                spec.fit(x=records[rows], y=y[rows], num_classes=num_classes, seed=seed, **full)
            )
    return FittedEstimators(
        family=family,
        params=full,
        input_shape=tuple(int(d) for d in x.shape[1:]),
        num_classes=num_classes,
        seeds=tuple(int(s) for s in seeds),
        arrays=tuple(fitted),
    )


def estimator_logits(models: FittedEstimators) -> Callable[[np.ndarray], np.ndarray]:
    """The models' logits as a function of records: float32 ``[K, N, num_classes]``, whose
    softmax over the last axis is each model's ``predict_proba`` (the prediction vectors
    torch models give through :func:`leakbench.training.predict_logits`)."""
    spec = get_family(models.family)

    def logits(x: np.ndarray) -> np.ndarray:
        records = _records(np.asarray(x), models.input_shape)
        with threadpool_limits(limits=1):
            return np.stack([spec.logits(a, records) for a in models.arrays]).astype(np.float32)

    return logits
