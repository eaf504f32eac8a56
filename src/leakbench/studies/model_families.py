"""One interface over a grid row's models, whatever trains them: torch architectures (the
stacked trainer, :mod:`leakbench.training`) or scikit-learn families
(:mod:`leakbench.estimators`). A row's ``arch`` picks the trainer; a model file's header
picks the reader; both give logits ``[K, N, C]`` whose softmax is the prediction vector
the attacks read, so every attack runs unchanged on either."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from leakbench.estimators import (
    FittedEstimators,
    estimator_logits,
    is_estimator_file,
    is_family,
    load_estimators,
    save_estimators,
    train_estimators,
)
from leakbench.training import StackedModels, TrainConfig, train_stacked
from leakbench.training import load_models as load_stacked
from leakbench.training import logits_function as stacked_logits
from leakbench.training import save_models as save_stacked

Models = StackedModels | FittedEstimators
"""K models of one grid row: stacked torch models or fitted scikit-learn models."""


def train_models(
    *,
    row: Mapping[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    keep: np.ndarray,
    seeds: Sequence[int],
) -> Models:
    """Model k of the row's ``arch`` trained on the records ``keep[k]`` selects, from
    ``seeds[k]``: a scikit-learn family with its ``arch_params`` (the row's torch training
    settings do not apply), else the stacked trainer with :meth:`TrainConfig.from_row`."""
    if is_family(row["arch"]):
        return train_estimators(
            family=row["arch"],
            params=row.get("arch_params", {}),
            x=x,
            y=y,
            num_classes=num_classes,
            keep=keep,
            seeds=seeds,
        )
    return train_stacked(
        arch=row["arch"],
        arch_params=row["arch_params"],
        x=x,
        y=y,
        num_classes=num_classes,
        keep=keep,
        seeds=list(seeds),
        config=TrainConfig.from_row(row),
    )


def save_models(path: str | os.PathLike[str], models: Models) -> None:
    """Write ``models`` atomically in their own safetensors layout."""
    if isinstance(models, FittedEstimators):
        save_estimators(path, models)
    else:
        save_stacked(path, models)


def load_models(path: str | os.PathLike[str]) -> Models:
    """Read a model file of either layout (its header names it); never unpickles.

    Raises:
        DataError: naming the file, if it is neither.
    """
    return load_estimators(path) if is_estimator_file(path) else load_stacked(path)


def logits_function(models: Models) -> Callable[[np.ndarray], np.ndarray]:
    """The models' logits as a function of records, float32 ``[K, N, C]``."""
    if isinstance(models, FittedEstimators):
        return estimator_logits(models)
    return stacked_logits(models)


def predict_logits(models: Models, x: np.ndarray) -> np.ndarray:
    """Logits of every model on every record of ``x``, float32 ``[K, N, C]``."""
    return logits_function(models)(x)
