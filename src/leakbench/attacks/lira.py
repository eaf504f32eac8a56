"""The Likelihood Ratio Attack (LiRA) statistics on per-record reference signals.

Carlini et al. 2022, "Membership Inference Attacks From First Principles" (IEEE S&P),
section IV: for each record, fit a Gaussian to the signal (the logit-scaled confidence phi
by default) of the reference models trained with it (IN) and one to those trained without
it (OUT), then score the target model's signal by a likelihood ratio.

Every function here takes the same arrays, gathered per record from the reference models
(:mod:`leakbench.attacks.reference` gathers them):

* ``target``: float64 [n, Q], the target model's signal on each record and query;
* ``refs``: float64 [n, k, Q], the signal of the record's k reference models;
* ``ref_in``: bool [n, k], whether the record was in that reference model's training set;

and returns float64 [n], higher = more likely a member of the target.

The statistics follow the LiRA reference code (tensorflow/privacy, research/mi_lira_2021,
plot.py): per record and query, the Gaussian's location is the MEDIAN of the reference
signals (the paper writes the mean; the published numbers come from the code) and its
scale the population standard deviation (ddof = 0) plus :data:`SIGMA_FLOOR`; the score is
the mean over queries of the per-query statistic. "Fixed variance" (section IV, Algorithm
1's global-variance option, evaluated in section VI) replaces the per-record scale by one
scale pooled over every record, reference model and query: the reference code's
``np.std`` of the whole IN (online) or OUT (offline) array, around the global mean, not
around each record's own location. With one query the pooled scale is a common factor of
every record's score, so it cannot change a ranking: fixed-variance offline ranks records
by phi - mu_out, online by (mu_in - mu_out)(phi - (mu_in + mu_out) / 2). Records whose
OUT signals spread widely (e.g. bimodal across reference models) then rank high as
non-members, which per-record scales discount; which std is pooled matters only for the
one-sided offline form averaged over several queries.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr

from leakbench.errors import ConfigError

SIGMA_FLOOR = 1e-30
"""Added to every standard deviation, as the reference code does: one reference model on a
side, or equal signals, give a zero spread, and the Gaussian density must stay finite."""

_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def _side(refs: np.ndarray, mask: np.ndarray, side: str) -> np.ndarray:
    """refs with the entries outside ``mask`` set to NaN, [n, k, Q]; refuses a record with
    no reference model on ``side``."""
    empty = ~mask.any(axis=1)
    if empty.any():
        raise ConfigError(
            f"references: {int(empty.sum())} records have no {side} reference model; "
            f"allowed: at least one {side} reference model per record (choose them with "
            "select_references)"
        )
    return np.where(mask[:, :, None], refs, np.nan)


def _location_scale(values: np.ndarray, *, fixed: bool) -> tuple[np.ndarray, np.ndarray]:
    """(median, std + floor) per record and query over the non-NaN reference signals; with
    ``fixed`` the std is one number pooled over every non-NaN entry."""
    location = np.nanmedian(values, axis=1)
    spread = np.nanstd(values) if fixed else np.nanstd(values, axis=1)
    return location, spread + SIGMA_FLOOR


def log_normal_pdf(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """log N(x; mean, std^2) = -((x - mean) / std)^2 / 2 - log std - log(2 pi) / 2."""
    t = (x - mean) / std
    return -0.5 * t * t - np.log(std) - _HALF_LOG_2PI


def online(*, target: np.ndarray, refs: np.ndarray, ref_in: np.ndarray, fixed: bool) -> np.ndarray:
    """LiRA online, Carlini et al. 2022, section IV, Algorithm 1 (online).

    Per record and query: mu_in, sigma_in from the IN reference signals, mu_out, sigma_out
    from the OUT ones (median and std, see the module docstring). Score =
    mean_q [log N(phi_q; mu_in, sigma_in^2) - log N(phi_q; mu_out, sigma_out^2)], the log
    likelihood ratio of the target's signal phi_q.

    With ``fixed`` (the paper's global variance), sigma_in = sigma_out = the std of every
    IN signal pooled over records, references and queries: the reference code uses the IN
    signals' pooled std for both Gaussians, and so does this function.

    Raises:
        ConfigError: if a record has no IN or no OUT reference model.
    """
    values_in = _side(refs, ref_in, "IN")
    values_out = _side(refs, ~ref_in, "OUT")
    mu_in, sigma_in = _location_scale(values_in, fixed=fixed)
    mu_out, sigma_out = _location_scale(values_out, fixed=fixed)
    if fixed:
        sigma_out = sigma_in
    ratio = log_normal_pdf(target, mu_in, sigma_in) - log_normal_pdf(target, mu_out, sigma_out)
    return ratio.mean(axis=1)


def offline(*, target: np.ndarray, refs: np.ndarray, ref_in: np.ndarray, fixed: bool) -> np.ndarray:
    """LiRA offline, the paper's one-sided test, Carlini et al. 2022, section IV, Algorithm 1
    (the lines of its offline variant).

    Only the OUT reference signals are used: mu_out, sigma_out per record and query
    (median and std; with ``fixed`` the std pooled over every OUT signal). The paper scores
    Lambda = 1 - Pr[Z > phi], Z ~ N(mu_out, sigma_out^2): a member's signal sits high in the
    OUT distribution. 1 - Pr[Z > phi] rounds to 1 in float64 once phi is about 8 sigma above
    mu_out, tying exactly the records an attack at low FPR must rank, so this function
    scores the monotone transform -log Pr[Z > phi] = -log Phi(-(phi - mu_out) / sigma_out)
    (log Phi by :func:`scipy.special.log_ndtr`, accurate in the tail), averaged over queries.
    For one query it ranks records exactly as Lambda does.

    Raises:
        ConfigError: if a record has no OUT reference model.
    """
    mu_out, sigma_out = _location_scale(_side(refs, ~ref_in, "OUT"), fixed=fixed)
    return -log_ndtr(-(target - mu_out) / sigma_out).mean(axis=1)


def offline_refcode(
    *, target: np.ndarray, refs: np.ndarray, ref_in: np.ndarray, fixed: bool
) -> np.ndarray:
    """LiRA offline as the reference code scores it (plot.py, ``generate_ours_offline``),
    which produced the paper's published offline numbers (section VI, the CIFAR-10
    comparison).

    Score = -mean_q log N(phi_q; mu_out, sigma_out^2): two-sided, a signal far from the OUT
    Gaussian on EITHER side counts as a member (the paper's one-sided form is
    :func:`offline`). mu_out, sigma_out as in :func:`offline`, ``fixed`` likewise.

    Raises:
        ConfigError: if a record has no OUT reference model.
    """
    mu_out, sigma_out = _location_scale(_side(refs, ~ref_in, "OUT"), fixed=fixed)
    return -log_normal_pdf(target, mu_out, sigma_out).mean(axis=1)
