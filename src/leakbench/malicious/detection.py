"""Parameter-distribution detection, the receiver's countermeasure of Song et al. 2017,
section 7 (their Fig. 6): a maliciously trained model's parameters may be distributed
unlike a benign model's. The receiver compares a model's parameters with those of a
benign reference model by a two-sample Kolmogorov-Smirnov statistic and flags it when the
statistic exceeds what independently trained benign models reach (the false-alarm rate).
"""

from __future__ import annotations

import numpy as np

from leakbench.errors import ConfigError


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic ``D = sup_x |F_a(x) - F_b(x)|``, with
    ``F`` the empirical distribution functions of the two samples (evaluated at every
    sample value, where the supremum is reached)."""
    a = np.sort(np.asarray(a, dtype=np.float64).reshape(-1))
    b = np.sort(np.asarray(b, dtype=np.float64).reshape(-1))
    at = np.concatenate([a, b])
    fa = np.searchsorted(a, at, side="right") / len(a)
    fb = np.searchsorted(b, at, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def threshold(null: np.ndarray, false_alarm: float) -> float:
    """The detection threshold at false-alarm rate ``alpha``: the ``ceil((1 - alpha) n)``-th
    smallest of the n benign statistics (the first when that rank is 0); a model is
    flagged when its statistic exceeds it, so at most a fraction ``alpha`` of the benign
    ones are.

    Raises:
        ConfigError: for no benign statistics or ``alpha`` outside (0, 1).
    """
    if len(null) == 0 or not 0 < false_alarm < 1:
        raise ConfigError(
            f"detection: {len(null)} benign models at false_alarm {false_alarm!r} is not "
            "allowed; allowed: at least 1 benign model and a false_alarm in (0, 1)"
        )
    ordered = np.sort(np.asarray(null, dtype=np.float64))
    rank = int(np.ceil((1.0 - false_alarm) * len(ordered)))
    return float(ordered[max(rank, 1) - 1])


def histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Fraction of ``values`` in each bin of ``edges`` (values outside fall in the end bins)."""
    clipped = np.clip(np.asarray(values, dtype=np.float64), edges[0], edges[-1])
    counts, _ = np.histogram(clipped, bins=edges)
    return counts / max(len(clipped), 1)
