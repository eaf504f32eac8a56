"""The generator behind the synthetic binary datasets: a Bernoulli mixture labelled by k-means.

Shokri et al. 2017 (section IV-A) labelled Purchase-100 and Location-30 by k-means clustering
of binary records. ``purchase_synth*`` and ``location_synth`` draw records of the same kind
from a latent-profile model and label them the same way:

1. ``n_profiles`` latent profiles; profile weights ~ Dirichlet(concentration, ...);
   each profile's per-feature rate ~ Beta(a, b).
2. Each record draws a profile z from the weights, then feature j ~ Bernoulli(rate[z, j]).
3. Labels: sklearn KMeans (k-means++ init, ``n_init`` restarts, a seeded ``random_state``,
   one thread so the result does not depend on the core count) into ``num_classes``
   clusters over the records.
"""

from __future__ import annotations

import numpy as np

from leakbench.errors import DataError


def mixture_records(
    rng: np.random.Generator,
    *,
    n_records: int,
    n_features: int,
    n_profiles: int,
    concentration: float,
    rate_beta: tuple[float, float],
) -> np.ndarray:
    """float32 ``[n_records, n_features]`` 0/1 records of the mixture (steps 1-2 above),
    drawn from ``rng`` in the order weights, rates, profiles, features."""
    weights = rng.dirichlet(np.full(n_profiles, concentration))
    rates = rng.beta(*rate_beta, size=(n_profiles, n_features))
    profile = rng.choice(n_profiles, size=n_records, p=weights)
    return (rng.random((n_records, n_features)) < rates[profile]).astype(np.float32)


def kmeans_labels(
    x: np.ndarray, *, num_classes: int, n_init: int, random_state: int, name: str
) -> np.ndarray:
    """int64 k-means cluster labels of ``x`` (step 3 above).

    Raises:
        DataError: naming ``name`` if a cluster is left empty.
    """
    # scikit-learn costs a second to import; only preparing these datasets needs it.
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    kmeans = KMeans(
        n_clusters=num_classes, init="k-means++", n_init=n_init, random_state=random_state
    )
    with threadpool_limits(limits=1):
        labels = kmeans.fit_predict(x).astype(np.int64)
    sizes = np.bincount(labels, minlength=num_classes)
    if (sizes == 0).any():
        raise DataError(
            f"{name}: k-means left {int((sizes == 0).sum())} of {num_classes} "
            "clusters empty; use more records or fewer classes"
        )
    return labels
