"""The label-only property-inference attack of Mahloujifar et al. 2022 (IEEE S&P).

The adversary queries a model on q records that have the property and sees only the
predicted labels. Its score for the model is the fraction of queries answered with the
poison's target label (:func:`label_fraction`). It tells the two worlds t0 < t1 apart by a
threshold on that score learned from its own shadow models (:func:`fit_threshold`), and
estimates the ratio itself by a monotone regression from score to ratio fitted on shadow
models trained at many ratios (:func:`fit_ratio_regressor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from leakbench.errors import ConfigError

if TYPE_CHECKING:
    from sklearn.isotonic import IsotonicRegression


def label_fraction(*, predictions: np.ndarray, target_label: int) -> np.ndarray:
    """Score per model: s_k = (1/q) sum_i [prediction_ki == target_label].

    Args:
        predictions: int [K, q], each model's predicted class on the q queries.
        target_label: the label the poison carries.

    Returns:
        float64 [K].
    """
    predicted = np.asarray(predictions)
    if predicted.ndim != 2 or predicted.shape[1] == 0:
        raise ConfigError(f"predictions: shape {predicted.shape} is not allowed; allowed: [K, q]")
    return (predicted == target_label).mean(axis=1, dtype=np.float64)


@dataclass(frozen=True)
class ThresholdRule:
    """Decide world t1 iff ``sign * (score - threshold) > 0``.

    With label poisoning, fewer property records (t0) leave the poison more weight, so
    t0 models answer the target label more often and the learned sign is normally -1.
    """

    threshold: float
    sign: int

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """bool [K]: True where the rule says the model was trained at t1."""
        return self.sign * (np.asarray(scores, dtype=np.float64) - self.threshold) > 0


def fit_threshold(*, scores: np.ndarray, world: np.ndarray) -> ThresholdRule:
    """The threshold and direction that classify the shadow models best.

    Candidates are every midpoint between consecutive distinct shadow scores and one
    point below and above them all; both signs are tried, -1 first. The rule with the
    highest shadow accuracy (1/S) sum_k [rule(s_k) == world_k] wins; among ties of the
    winning sign, the middle candidate (lower middle for an even count) is taken, so a
    plateau of equally good thresholds is split in its centre.

    Args:
        scores: float [S], the shadow models' scores.
        world: bool [S], True for shadows trained at t1.

    Raises:
        ConfigError: if either world has no shadow model.
    """
    s = np.asarray(scores, dtype=np.float64)
    w = np.asarray(world, dtype=bool)
    if s.shape != w.shape or s.ndim != 1 or w.all() or not w.any():
        raise ConfigError(
            f"shadow models: {int((~w).sum())} at t0 and {int(w.sum())} at t1 are not "
            "allowed; allowed: at least one in each world, one score each"
        )
    values = np.unique(s)
    candidates = np.concatenate(
        ([values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0])
    )
    best: tuple[float, int, np.ndarray] | None = None
    for sign in (-1, 1):
        predicted = sign * (s[None, :] - candidates[:, None]) > 0
        accuracy = (predicted == w[None, :]).mean(axis=1)
        top = accuracy.max()
        if best is None or top > best[0]:
            best = (top, sign, candidates[accuracy == top])
    _, sign, ties = best
    return ThresholdRule(threshold=float(ties[(len(ties) - 1) // 2]), sign=sign)


def fit_ratio_regressor(*, scores: np.ndarray, ratios: np.ndarray) -> IsotonicRegression:
    """A monotone map from score to ratio, fitted on shadow models (Mahloujifar et al. 2022,
    section I, "regression": shadow models at many ratios instead of two).

    Isotonic least squares: the non-increasing or non-decreasing step function g (direction
    chosen by the sign of the Spearman correlation, sklearn's ``increasing="auto"``) that
    minimises sum_k (g(s_k) - t_k)^2; predictions interpolate linearly between its steps and
    are clipped to the fitted range outside it. A monotone fit uses the one assumption the
    attack rests on (the score moves one way with the ratio) and nothing more.
    """
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(ratios, dtype=np.float64)
    if s.shape != t.shape or s.ndim != 1 or np.unique(t).size < 2:
        raise ConfigError(
            "regression.shadow_ratios: at least two distinct ratios with one score per shadow "
            "model are needed to fit the regressor"
        )
    # scikit-learn is imported here: only the regression attack needs it.
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(increasing="auto", out_of_bounds="clip").fit(s, t)


def mean_absolute_error(*, predicted: np.ndarray, actual: np.ndarray) -> float:
    """MAE = (1/K) sum_k |predicted_k - actual_k| of the estimated ratios (the regression
    metric of Mahloujifar et al. 2022, section I: "average absolute error of less than 5%").
    """
    p = np.asarray(predicted, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if p.shape != a.shape or p.size == 0:
        raise ConfigError(
            f"predicted, actual: shapes {p.shape} and {a.shape} must match, non-empty"
        )
    return float(np.abs(p - a).mean())
