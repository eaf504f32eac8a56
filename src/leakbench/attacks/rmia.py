"""The Robust Membership Inference Attack (RMIA) score on per-record reference signals.

Zarifzadeh et al. 2024, "Low-Cost High-Power Membership Inference Attacks" (ICML),
section 3. For a record x and the target model theta,

    LR(x, z) = (Pr(x | theta) / Pr(x)) / (Pr(z | theta) / Pr(z)),

where Pr(. | theta) is the true label's softmax probability at temperature T (the
``prob_t`` signal), Pr(x) its mean over reference models, and z ranges over population
records. The score is the fraction of population records z with LR(x, z) > gamma.

Ties and the discrete score (defined here, since the paper leaves them open):

* "LR > gamma" is evaluated as Pr(x|theta)/Pr(x) > gamma * (Pr(z|theta)/Pr(z)) in float64,
  strictly: a pair whose two sides are equal does not count.
* x itself is left out when it is one of the population records (its LR with itself is 1,
  which would add 1/|Z| to every population record whenever gamma < 1): the fraction is
  over Z minus {x}.
* The score takes at most |Z| + 1 values per query, so many records tie; tied records get
  the same score and the ROC treats them as one threshold step
  (:func:`leakbench.metrics.roc_curve`). With several queries the score is the mean over
  queries of the per-query fractions.

The arrays are the ones :mod:`leakbench.attacks.lira` documents (target [n, Q], refs
[n, k, Q], ref_in bool [n, k]), holding ``prob_t`` values; ``population`` indexes the
records z among the n.
"""

from __future__ import annotations

import numpy as np

from leakbench.errors import ConfigError


def _reference_mean(refs: np.ndarray, ref_in: np.ndarray, offline_a: float | None) -> np.ndarray:
    """Pr(x) per record and query, [n, Q] (see :func:`scores`)."""
    if offline_a is None:
        return refs.mean(axis=1)
    out = ~ref_in
    empty = ~out.any(axis=1)
    if empty.any():
        raise ConfigError(
            f"references: {int(empty.sum())} records have no OUT reference model; allowed: at "
            "least one OUT reference model per record for offline RMIA (choose them with "
            "select_references)"
        )
    mean_out = (refs * out[:, :, None]).sum(axis=1) / out.sum(axis=1)[:, None]
    return 0.5 * ((1 + offline_a) * mean_out + (1 - offline_a))


def scores(
    *,
    target: np.ndarray,
    refs: np.ndarray,
    ref_in: np.ndarray,
    population: np.ndarray,
    gamma: float,
    offline_a: float | None,
) -> np.ndarray:
    """RMIA scores, online or offline (Zarifzadeh et al. 2024, section 3).

    Pr(x), per record and query:

    * online (``offline_a`` None): the mean of Pr(x | theta') over the record's reference
      models, IN and OUT alike (section 3, Pr(x) as the average over reference models);
    * offline: only OUT reference models, and
      Pr(x) = ((1 + a) * mean_OUT Pr(x | theta') + (1 - a)) / 2, the paper's linear
      approximation of the missing IN half (section 3 and its appendix on offline RMIA;
      ``a`` in [0, 1], chosen by :func:`leakbench.attacks.reference.calibrate_rmia_a`).

    Then ratio(x) = Pr(x | theta) / Pr(x), and per query
    score_q(x) = #{z in Z, z != x : ratio(x) > gamma * ratio(z)} / #{z in Z, z != x};
    the score is the mean over queries (ties as in the module docstring).

    Args:
        target: float64 [n, Q], Pr(x | theta) of the target model.
        refs: float64 [n, k, Q], Pr(x | theta') of each record's reference models.
        ref_in: bool [n, k], whether the record is in that reference model's training set.
        population: int [m], distinct indices into n of the records z, m >= 2.
        gamma: the likelihood-ratio threshold, > 0.
        offline_a: a of the offline form, or None for online.

    Returns:
        float64 [n] in [0, 1].

    Raises:
        ConfigError: if offline and a record has no OUT reference model, or if Pr(x) is 0
            for some record (a probability that underflowed: raise the temperature).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = target / _reference_mean(refs, ref_in, offline_a)
    if not np.isfinite(ratio).all():
        raise ConfigError(
            "signals: Pr(x) is 0 for some record; allowed: positive reference probabilities "
            "(raise rmia temperature)"
        )
    in_population = np.zeros(ratio.shape[0], dtype=bool)
    in_population[population] = True
    others = population.size - in_population
    fractions = np.empty_like(ratio)
    for q in range(ratio.shape[1]):
        thresholds = np.sort(gamma * ratio[population, q])
        below = np.searchsorted(thresholds, ratio[:, q], side="left")
        self_pair = in_population & (ratio[:, q] > gamma * ratio[:, q])
        fractions[:, q] = (below - self_pair) / others
    return fractions.mean(axis=1)
