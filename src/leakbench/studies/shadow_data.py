"""Shadow data that is not the adversary's clean real data (Shokri et al. 2017, section V-C).

A grid row's shadow models train on one of (:class:`leakbench.names.ShadowData`):

* ``real``: the disjoint real records of :mod:`leakbench.studies.splits` (nothing here);
* ``noisy<rate>``: each shadow's own real in- and out-records, every feature changed
  independently with probability ``rate`` (:func:`add_noise`): flipped when the data set
  is binary, the paper's procedure ("Noisy real data"); in a data set with other values
  (images, Adult's scaled columns) replaced by a draw from its marginal over the
  adversary's records (not in the paper, whose noisy data sets are all binary). Labels
  stay the original ones;
* ``marginal``: records drawn feature by feature, independently, from the class-conditional
  marginals of the adversary's records (the shadow side of the pool), labels drawn from the
  adversary's class frequencies (:func:`sample_marginals`; "Statistics-based synthesis");
* ``synthetic``: records found by hill climbing against the target's prediction API, each
  labelled with the class it was synthesised for, classes as frequent as in the adversary's
  records (:mod:`leakbench.studies.synthesis`; "Model-based synthesis").

Each shadow k gets ``count`` in-records and ``count`` out-records of its own (``synthetic``:
as many as the accepted records allow, up to ``count``); the masks over the generated
records are block-diagonal, so shadows never share a generated record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leakbench.errors import ConfigError
from leakbench.names import REAL, ShadowData
from leakbench.studies.splits import MembershipSplits
from leakbench.studies.synthesis import Domain, Predict, SynthesisParams, synthesise


@dataclass(frozen=True)
class ShadowRecords:
    """Generated shadow data: records, labels, the shadows' in/out masks over them, and
    what generating them cost (``stats``: metric name -> value)."""

    x: np.ndarray  # float32 [M, *input_shape]
    y: np.ndarray  # int64 [M]
    shadow_in: np.ndarray  # bool [k, M]
    shadow_out: np.ndarray  # bool [k, M]
    stats: Mapping[str, float] = field(default_factory=dict)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name (stats as float64 scalars ``stat.<name>``), for ``write_npz``."""
        stats = {f"stat.{k}": np.float64(v) for k, v in self.stats.items()}
        return {
            "x": self.x,
            "y": self.y,
            "shadow_in": self.shadow_in,
            "shadow_out": self.shadow_out,
            **stats,
        }


def check_row(key: str, row: Mapping[str, Any]) -> None:
    """Refuse a grid row's shadow-data settings the schema cannot judge.

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    names = row["shadow_data"]
    for i, name in enumerate(names):
        ShadowData.parse(name, key=f"{key}.shadow_data.{i}")
    if REAL not in names:
        raise ConfigError(
            f"{key}.shadow_data: {names!r} is not allowed; allowed: a list that holds "
            "'real' (the row's own shadows, which every other attack uses too)"
        )
    count = row["shadow_records"]
    if count is not None and not 1 <= count <= row["members"]:
        raise ConfigError(
            f"{key}.shadow_records: {count!r} is not allowed; allowed: null or 1 to members "
            f"({row['members']})"
        )
    SynthesisParams(**row["synthesis"])


def add_noise(
    x: np.ndarray, *, rate: float, reference: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``x`` ``[n, d]`` with each feature changed independently with probability ``rate``:
    flipped when the data is binary (every value of ``reference`` 0 or 1), else replaced
    by the value of a random ``reference`` record in that column."""
    binary = bool(np.all((reference == 0) | (reference == 1)))
    change = rng.random(x.shape) < rate
    donors = reference[rng.integers(len(reference), size=x.shape), np.arange(x.shape[1])]
    changed = np.where(binary, 1 - x, donors)
    return np.where(change, changed, x).astype(np.float32)


def sample_marginals(
    *, x: np.ndarray, y: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One record per entry of ``labels``, each feature drawn independently from its
    marginal among the records of ``x`` ``[n, d]`` of that label (its empirical
    distribution: Bernoulli(class mean) for a binary feature)."""
    out = np.empty((len(labels), x.shape[1]), dtype=np.float32)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        own = x[y == c]
        if len(own) == 0:
            raise ConfigError(
                f"shadow_data: marginal: class {int(c)} is not allowed; allowed: classes the "
                "adversary holds records of"
            )
        picks = rng.integers(len(own), size=(len(rows), x.shape[1]))
        out[rows] = own[picks, np.arange(x.shape[1])]
    return out


def block_masks(shadows: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks over ``shadows * 2 * count`` records: shadow k's in-records are rows
    ``[2k * count, (2k + 1) * count)``, its out-records the next ``count``."""
    total = shadows * 2 * count
    shadow_in = np.zeros((shadows, total), dtype=bool)
    shadow_out = np.zeros((shadows, total), dtype=bool)
    for k in range(shadows):
        start = 2 * k * count
        shadow_in[k, start : start + count] = True
        shadow_out[k, start + count : start + 2 * count] = True
    return shadow_in, shadow_out


def make_shadow_records(
    *,
    shadow_data: ShadowData,
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    splits: MembershipSplits,
    count: int,
    synthesis: SynthesisParams,
    predict: Predict | None,
    seed: int,
) -> ShadowRecords:
    """Every shadow's ``count`` in- and ``count`` out-records of a non-real variant.

    Args:
        shadow_data: the variant (not ``real``).
        x, y: the pool; the adversary's records are those of the shadow side (any
            ``splits.shadow_in | splits.shadow_out``).
        num_classes: the task's classes.
        splits: the grid row's masks.
        count: in-records per shadow (at most the row's members).
        synthesis: Algorithm 1's parameters (``synthetic`` only).
        predict: the target's prediction API (``synthetic`` only).
        seed: every draw comes from it.
    """
    rng = np.random.default_rng(seed)
    shape = x.shape[1:]
    flat = x.reshape(len(x), -1)
    held = np.flatnonzero((splits.shadow_in | splits.shadow_out).any(axis=0))
    shadows = splits.shadow_in.shape[0]
    shadow_in, shadow_out = block_masks(shadows, count)
    stats: dict[str, float] = {}
    if shadow_data.kind == "noisy":
        masks = (splits.shadow_in, splits.shadow_out)
        rows = np.concatenate([np.flatnonzero(m[k])[:count] for k in range(shadows) for m in masks])
        records = add_noise(flat[rows], rate=float(shadow_data.rate), reference=flat[held], rng=rng)
        labels = y[rows]
        stats["changed_fraction"] = float(np.mean(records != flat[rows]))
    elif shadow_data.kind == "marginal":
        labels = y[held][rng.integers(len(held), size=shadows * 2 * count)]
        records = sample_marginals(x=flat[held], y=y[held], labels=labels, rng=rng)
    elif shadow_data.kind == "synthetic":
        if predict is None:
            raise ConfigError("shadow_data: synthetic is not allowed without the target's API")
        labels = np.sort(y[held][rng.integers(len(held), size=shadows * 2 * count)])
        made = synthesise(
            predict=lambda rec: predict(rec.reshape(len(rec), *shape)),
            counts=np.bincount(labels, minlength=num_classes),
            domain=Domain.of(flat[held]),
            params=synthesis,
            seed=int(rng.integers(2**31)),
        )
        per_shadow = len(made.y) // (2 * shadows)
        if per_shadow == 0:
            raise ConfigError(
                f"synthesis: {len(made.y)} accepted records for {shadows} shadows is not "
                "allowed; allowed: at least 2 per shadow (raise synthesis.iter_max or "
                "synthesis.rounds, or lower synthesis.conf_min)"
            )
        order = rng.permutation(len(made.y))[: 2 * shadows * per_shadow]
        records, labels = made.x[order], made.y[order]
        shadow_in, shadow_out = block_masks(shadows, per_shadow)
        stats["queries_per_record"] = made.queries_per_record
        stats["acceptance_rate"] = made.acceptance_rate
        stats["records_per_shadow"] = float(per_shadow)
    else:
        raise ConfigError(
            f"shadow_data: {str(shadow_data)!r} is not allowed; allowed: noisy<rate>, "
            "marginal, synthetic (real shadows train on the pool)"
        )
    return ShadowRecords(
        records.reshape(len(records), *shape).astype(np.float32),
        labels.astype(np.int64),
        shadow_in,
        shadow_out,
        stats,
    )
