"""The keep-matrix split of the reference-model membership study (the LiRA protocol).

Carlini et al. 2022, "Membership Inference Attacks From First Principles" (IEEE S&P),
section VI-A: N models train on random halves of one pool of n records, and every record
is in exactly half of them, so any model can be the target and the others are its
reference (shadow) models, with N/2 IN and N/2 OUT models for every record. The mask is
drawn as in the LiRA reference code (tensorflow/privacy, research/mi_lira_2021/train.py):
a uniform draw per (model, record), ``argsort`` over the models of each record, and model
slot ``i`` takes the record iff the model at position ``i`` of that order is one of the
first N/2, i.e. ``keep = argsort(U, axis=0) < N / 2``. Each column is a permutation of the
model indices, so each record is in exactly N/2 models; the models' own counts differ
(:class:`~leakbench.training.samplers.RaggedEpochSampler` trains them exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError


def check_models(*, key: str, models: object) -> int:
    """``models`` as an int: an even N >= 2.

    Raises:
        ConfigError: naming ``key``, for N odd, below 2 or not an integer.
    """
    if isinstance(models, bool) or not isinstance(models, int | np.integer):
        raise ConfigError(f"{key}: {models!r} is not allowed; allowed: an even integer >= 2")
    if models < 2 or models % 2:
        raise ConfigError(
            f"{key}: {models} is not allowed; allowed: an even integer >= 2 (each record is in "
            "exactly half of the models)"
        )
    return int(models)


def keep_matrix(*, models: int, records: int, seed: int) -> np.ndarray:
    """The LiRA keep mask, bool ``[models, records]``: each record in exactly models / 2.

    ``keep = argsort(U, axis=0) < models / 2`` with U uniform ``[models, records]`` from
    ``numpy.random.default_rng(seed)`` (the module docstring; Carlini et al. 2022, VI-A).

    Raises:
        ConfigError: for ``models`` odd or below 2, or fewer than one record.
    """
    count = check_models(key="models", models=models)
    if isinstance(records, bool) or not isinstance(records, int | np.integer) or records < 1:
        raise ConfigError(f"records: {records!r} is not allowed; allowed: an integer >= 1")
    draws = np.random.default_rng(seed).uniform(0.0, 1.0, size=(count, int(records)))
    return draws.argsort(axis=0, kind="stable") < count // 2


@dataclass(frozen=True)
class LiraSplit:
    """What the split step saves and every later step reads.

    Attributes:
        rows: int64 ``[n]``, the pool rows of the study's records (ascending); record j of
            the study is pool row ``rows[j]``.
        keep: bool ``[N, n]``, model k trains on the records where ``keep[k]``.
        population: int64, indices into the n records: RMIA's population records z
            (Zarifzadeh et al. 2024, section 3), ascending.
    """

    rows: np.ndarray
    keep: np.ndarray
    population: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name, for :func:`leakbench.io.write_npz`."""
        return {"rows": self.rows, "keep": self.keep, "population": self.population}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LiraSplit:
        """Inverse of :meth:`arrays`."""
        return cls(
            rows=arrays["rows"].astype(np.int64),
            keep=arrays["keep"].astype(bool),
            population=arrays["population"].astype(np.int64),
        )


def make_lira_split(
    *, n_pool: int, records: int, models: int, population: int, seed: int
) -> LiraSplit:
    """Draw the study's records, their keep mask and RMIA's population records.

    The ``records`` records are a uniform sample of the pool without replacement (all of
    it when ``records`` equals the pool size), kept in pool order; the keep mask is
    :func:`keep_matrix`; the ``population`` records are a uniform sample of the study's
    records (each, like every record, in half of the models). All three draws come from
    one generator seeded with ``seed``, the keep mask from a seed it draws.

    Raises:
        ConfigError: for ``records`` outside [2, n_pool], ``population`` outside
            [1, records], or ``models`` odd or below 2.
    """
    if not 2 <= records <= n_pool:
        raise ConfigError(
            f"records: {records} is not allowed for a pool of {n_pool} records; allowed: "
            f"2 to {n_pool}"
        )
    if not 1 <= population <= records:
        raise ConfigError(
            f"population: {population} is not allowed; allowed: 1 to {records} (a subset of "
            "the study's records)"
        )
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n_pool, size=records, replace=False)).astype(np.int64)
    keep = keep_matrix(models=models, records=records, seed=int(rng.integers(2**63)))
    chosen = np.sort(rng.choice(records, size=population, replace=False)).astype(np.int64)
    return LiraSplit(rows=rows, keep=keep, population=chosen)


def parts(*, models: int, stack: int) -> list[range]:
    """The models of each training job: consecutive slices of at most ``stack`` models."""
    return [range(start, min(start + stack, models)) for start in range(0, models, stack)]
