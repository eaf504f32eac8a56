"""Model-based synthesis of shadow data (Shokri et al. 2017, section V-C, Algorithm 1).

Each chain searches, for one class c, a record the target classifies as c with high
confidence, by hill climbing on the target's black-box prediction vector:

1. start from a random record x (every feature drawn uniformly from its domain), y*_c = 0,
   j = 0, k = k_max;
2. query y = f(x); if y_c >= y*_c the record is accepted as the new incumbent x* (y*_c = y_c,
   j = 0) and, if moreover y_c > conf_min and c = argmax y, it is returned with probability
   y_c (the sampling step); otherwise j = j + 1, and after more than rej_max consecutive
   rejections k = max(k_min, ceil(k / 2)) and j = 0;
3. x = x* with k features drawn afresh from their domains; repeat from 2 up to iter_max
   queries, after which the chain fails.

Here the chains run as one batch (one query of the batch per iteration; every chain's draws
come from one seeded generator, so the result depends on the seed only). A feature's domain
is what the adversary knows of the input format: {0, 1} for every feature of binary data,
else the interval between the smallest and largest value the feature takes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from leakbench.errors import ConfigError

Predict = Callable[[np.ndarray], np.ndarray]
"""The black-box API: records ``[n, d]`` -> prediction vectors ``[n, C]`` (probabilities)."""


@dataclass(frozen=True)
class SynthesisParams:
    """Algorithm 1's parameters (names as in the paper) and the chains' restart budget.

    Attributes:
        k_max: features randomised per step at the start (clipped to the feature count).
        k_min: the fewest features randomised per step after halving.
        conf_min: the confidence a record must exceed to be returned.
        rej_max: consecutive rejections before k is halved.
        iter_max: queries of one chain before it fails.
        rounds: rounds of chains; a record whose chain failed gets a fresh chain in the
            next round (not in the paper, which leaves a failed chain's record missing).
    """

    k_max: int
    k_min: int
    conf_min: float
    rej_max: int
    iter_max: int
    rounds: int

    def __post_init__(self) -> None:
        key = "synthesis"
        for name in ("k_max", "k_min", "rej_max", "iter_max", "rounds"):
            value = getattr(self, name)
            low = 0 if name == "rej_max" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(
                    f"{key}.{name}: {value!r} is not allowed; allowed: an integer >= {low}"
                )
        if self.k_min > self.k_max:
            raise ConfigError(
                f"{key}.k_min: {self.k_min} is not allowed; allowed: 1 to k_max ({self.k_max})"
            )
        if not 0 <= self.conf_min <= 1:
            raise ConfigError(f"{key}.conf_min: {self.conf_min!r} is not allowed; allowed: [0, 1]")


@dataclass(frozen=True)
class Domain:
    """Per-feature domains of flat records ``[n, d]``: binary columns draw from {0, 1},
    the others uniformly from [low, high]."""

    binary: np.ndarray  # bool [d]
    low: np.ndarray  # float32 [d]
    high: np.ndarray  # float32 [d]

    @classmethod
    def of(cls, x: np.ndarray) -> Domain:
        """The domains the columns of ``x`` ``[n, d]`` span (binary when every value is 0
        or 1, so a column that happens to hold one value keeps it)."""
        binary = np.full(x.shape[1], bool(np.all((x == 0) | (x == 1))))
        return cls(binary, x.min(axis=0).astype(np.float32), x.max(axis=0).astype(np.float32))

    def draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        """Records of ``shape`` with every feature drawn uniformly from its domain."""
        u = rng.random(shape, dtype=np.float32)
        values = self.low + (self.high - self.low) * u
        return np.where(self.binary, (u < 0.5).astype(np.float32), values).astype(np.float32)


@dataclass(frozen=True)
class Synthesised:
    """The records the chains returned and what they cost.

    Attributes:
        x: float32 ``[n, d]``, the accepted records.
        y: int64 ``[n]``, the class each was synthesised for.
        queries: target queries of every chain, failed ones included.
        chains: chains started.
    """

    x: np.ndarray
    y: np.ndarray
    queries: int
    chains: int

    @property
    def acceptance_rate(self) -> float:
        """Accepted records / chains started."""
        return len(self.y) / self.chains if self.chains else math.nan

    @property
    def queries_per_record(self) -> float:
        """Target queries / accepted records (failed chains' queries included)."""
        return self.queries / len(self.y) if len(self.y) else math.nan


def run_chains(
    *,
    predict: Predict,
    classes: np.ndarray,
    domain: Domain,
    params: SynthesisParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, int]:
    """One batch of Algorithm 1 chains, chain i for class ``classes[i]``.

    Returns:
        ``(records [n, d], accepted [n] bool, queries)``; a failed chain's record is its
        last incumbent and ``accepted`` is False for it.
    """
    n, d = len(classes), len(domain.binary)
    x = domain.draw(rng, (n, d))
    best_x = x.copy()
    best_conf = np.zeros(n)
    rejected = np.zeros(n, dtype=np.int64)
    k = np.full(n, min(params.k_max, d), dtype=np.int64)
    k_min = min(params.k_min, d)
    accepted = np.zeros(n, dtype=bool)
    queries = 0
    for _ in range(params.iter_max):
        live = np.flatnonzero(~accepted)
        if live.size == 0:
            break
        probs = np.asarray(predict(x[live]), dtype=np.float64)
        queries += live.size
        conf = probs[np.arange(live.size), classes[live]]
        better = conf >= best_conf[live]
        confident = better & (conf > params.conf_min) & (probs.argmax(axis=1) == classes[live])
        sampled = confident & (rng.random(live.size) < conf)
        accepted[live[sampled]] = True
        up = live[better]
        best_x[up], best_conf[up], rejected[up] = x[up], conf[better], 0
        down = live[~better]
        rejected[down] += 1
        halve = down[rejected[down] > params.rej_max]
        k[halve] = np.maximum(k_min, -(-k[halve] // 2))
        rejected[halve] = 0
        x[accepted] = best_x[accepted]
        moving = np.flatnonzero(~accepted)
        x[moving] = _randomise(best_x[moving], k[moving], domain, rng)
    return best_x, accepted, queries


def _randomise(
    x: np.ndarray, k: np.ndarray, domain: Domain, rng: np.random.Generator
) -> np.ndarray:
    """``x`` with ``k[i]`` distinct features of row i, chosen uniformly, drawn afresh."""
    n, d = x.shape
    noise = rng.random((n, d))
    pick = np.zeros((n, d), dtype=bool)
    for size in np.unique(k):
        rows = np.flatnonzero(k == size)
        if size >= d:
            pick[rows] = True
            continue
        chosen = np.argpartition(noise[rows], size - 1, axis=1)[:, :size]
        pick[rows[:, None], chosen] = True
    return np.where(pick, domain.draw(rng, (n, d)), x).astype(np.float32)


def synthesise(
    *,
    predict: Predict,
    counts: np.ndarray,
    domain: Domain,
    params: SynthesisParams,
    seed: int,
) -> Synthesised:
    """``counts[c]`` records of each class c, by rounds of Algorithm 1 chains.

    Round r starts one chain per record still missing; chains that fail are started again
    in the next round, up to ``params.rounds`` rounds. Records still missing then stay
    missing, as a failed chain's record does in the paper (a class the target seldom
    predicts gets fewer records). Records are returned class by class, in the order their
    chains were started.
    """
    rng = np.random.default_rng(seed)
    missing = np.asarray(counts, dtype=np.int64).copy()
    xs, ys, queries, chains = [], [], 0, 0
    for _ in range(params.rounds):
        if missing.sum() == 0:
            break
        classes = np.repeat(np.arange(len(missing)), missing)
        records, accepted, used = run_chains(
            predict=predict, classes=classes, domain=domain, params=params, rng=rng
        )
        queries, chains = queries + used, chains + len(classes)
        xs.append(records[accepted])
        ys.append(classes[accepted])
        missing -= np.bincount(classes[accepted], minlength=len(missing))
    y = np.concatenate(ys)
    order = np.argsort(y, kind="stable")
    return Synthesised(np.concatenate(xs)[order], y[order].astype(np.int64), queries, chains)
