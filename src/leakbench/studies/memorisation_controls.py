"""The stack layout of the Song et al. study and its parameter-distribution checks against
benign models trained alike (section 7, Fig. 6).

The capacity-abuse model (section 5) trains on its training records and its synthetic
inputs, so it takes more optimiser steps than the benign model; a two-sample test against
a benign reference may then flag the training length, not the encoding. Each capacity
encoding therefore gets a step-matched control set: benign models trained on the real
training records repeated to the capacity model's augmented size (:func:`repeated`), a
reference and the models that set its threshold. Repeating the real records keeps the
control benign: synthetic inputs with random labels would make it a capacity-abuse model
of a random secret, which no honest trainer hands over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from leakbench.malicious import detection
from leakbench.studies.memorisation_encodings import encoding_label

TRAINED = ("correlation", "sign", "capacity")  # encodings trained as such; lsb is post hoc


def trained_encodings(study: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The encodings with a model of their own in the stack, in config order."""
    return [e for e in study["encodings"] if e["encoding"] in TRAINED]


@dataclass(frozen=True)
class Slots:
    """Where each model sits in a grid row's stack: the benign model (0), the trained
    encodings (``1 .. trained``), the reference, the ``benign_models`` null models, then
    per capacity encoding (``capacity`` labels, in config order) its step-matched control
    set (its reference first, then its null models)."""

    trained: int
    benign_models: int
    capacity: tuple[str, ...]

    @property
    def reference(self) -> int:
        """The benign reference model's slot."""
        return 1 + self.trained

    @property
    def null(self) -> range:
        """The slots of the benign models that set the threshold."""
        return range(self.reference + 1, self.reference + 1 + self.benign_models)

    def control(self, label: str) -> range:
        """The slots of capacity encoding ``label``'s control set, its reference first."""
        size = 1 + self.benign_models
        start = self.null.stop + self.capacity.index(label) * size
        return range(start, start + size)

    @property
    def count(self) -> int:
        """Models in the stack."""
        return self.null.stop + len(self.capacity) * (1 + self.benign_models)


def slots(study: Mapping[str, Any]) -> Slots:
    """The stack layout of ``study`` (:class:`Slots`)."""
    return Slots(
        trained=len(trained_encodings(study)),
        benign_models=study["detection"]["benign_models"],
        capacity=tuple(
            encoding_label(e) for e in study["encodings"] if e["encoding"] == "capacity"
        ),
    )


def repeated(order: np.ndarray, count: int) -> np.ndarray:
    """The records ``order`` repeated from the first and cut to ``count``: the rows a
    step-matched control adds to its training records, so that it trains on as many
    records as a capacity model with ``count`` synthetic inputs (hence takes as many
    steps, ``epochs * ceil((n + count) / batch_size)``)."""
    return np.resize(np.asarray(order), count)


@dataclass(frozen=True)
class BenignCheck:
    """A reference model's parameters, the KS statistics of the benign models beside it
    against it and the threshold they set (:mod:`leakbench.malicious.detection`)."""

    reference: np.ndarray
    null_ks: list[float]
    threshold: float


def benign_check(*, models: np.ndarray, false_alarm: float) -> BenignCheck:
    """The check of a set of benign models ``[1 + m, P]`` trained alike: the first is the
    reference, the other m set the threshold at ``false_alarm``
    (:func:`leakbench.malicious.detection.threshold`)."""
    null_ks = [detection.ks_statistic(m, models[0]) for m in models[1:]]
    return BenignCheck(
        reference=models[0],
        null_ks=null_ks,
        threshold=detection.threshold(np.asarray(null_ks), false_alarm),
    )
