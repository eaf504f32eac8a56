"""purchase_synth: a SYNTHETIC stand-in for Purchase-100, generated from the seed.

Shokri et al. 2017, section IV-A, built Purchase-100 from Kaggle's "Acquire Valued
Shoppers" transactions: one binary feature per product (600), 1 when the customer bought
it, and class labels from k-means clustering of those records into 100 clusters. The
Kaggle data cannot be fetched here, so this module makes records of the same shape from a
generative model and labels them the same way:

1. ``n_profiles`` latent shopper profiles; profile weights ~ Dirichlet(10, ..., 10) (near-even);
   each profile's per-product purchase rate ~ Beta(0.3, 3) (mean 0.09: sparse baskets
   with a few favourite products).
2. Each record draws a profile z from the weights, then feature j ~ Bernoulli(rate[z, j]).
3. Labels: sklearn KMeans (k-means++ init, ``n_init`` restarts, ``random_state`` derived
   from the seed, one thread so the result does not depend on the core count) with 100
   clusters over the records.

The latent profiles are not exposed: the task, like the paper's, is to predict the cluster.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from leakbench.data.pool import Pool
from leakbench.data.spec import DatasetSpec
from leakbench.errors import ConfigError, DataError
from leakbench.seeding import derive_seed

N_RECORDS = 10_000
N_FEATURES = 600
NUM_CLASSES = 100
N_PROFILES = 20
N_INIT = 3
PROFILE_CONCENTRATION = 10.0
RATE_BETA = (0.3, 3.0)


def generate_purchase(
    *,
    seed: int,
    n_records: int = N_RECORDS,
    n_features: int = N_FEATURES,
    num_classes: int = NUM_CLASSES,
    n_profiles: int = N_PROFILES,
) -> Pool:
    """Generate the synthetic Purchase-like pool (see the module docstring).

    Args:
        seed: the prepare seed; generation uses ``derive_seed(seed, "purchase_synth",
            "records")`` and k-means ``derive_seed(seed, "purchase_synth", "kmeans")``.
        n_records: number of records N.
        n_features: number of binary features (products).
        num_classes: number of k-means clusters, i.e. classes.
        n_profiles: number of latent shopper profiles.

    Raises:
        ConfigError: if a size is not positive or ``n_records < num_classes``.
        DataError: if k-means leaves a cluster empty.
    """
    for key, value in (
        ("n_features", n_features),
        ("n_profiles", n_profiles),
        ("num_classes", num_classes),
    ):
        if value < 1:
            raise ConfigError(f"purchase_synth.{key}: {value} is not allowed; allowed: >= 1")
    if n_records < num_classes:
        raise ConfigError(
            f"purchase_synth.n_records: {n_records} is not allowed; allowed: >= num_classes "
            f"({num_classes})"
        )
    rng = np.random.default_rng(derive_seed(seed, "purchase_synth", "records"))
    weights = rng.dirichlet(np.full(n_profiles, PROFILE_CONCENTRATION))
    rates = rng.beta(*RATE_BETA, size=(n_profiles, n_features))
    profile = rng.choice(n_profiles, size=n_records, p=weights)
    x = (rng.random((n_records, n_features)) < rates[profile]).astype(np.float32)
    kmeans = KMeans(
        n_clusters=num_classes,
        init="k-means++",
        n_init=N_INIT,
        random_state=derive_seed(seed, "purchase_synth", "kmeans"),
    )
    with threadpool_limits(limits=1):
        labels = kmeans.fit_predict(x).astype(np.int64)
    sizes = np.bincount(labels, minlength=num_classes)
    if (sizes == 0).any():
        raise DataError(
            f"purchase_synth: k-means left {int((sizes == 0).sum())} of {num_classes} "
            "clusters empty; use more records or fewer classes"
        )
    return Pool(
        x=x,
        y=labels,
        properties={},
        feature_names=tuple(f"product_{j:03d}" for j in range(n_features)),
        num_classes=num_classes,
    )


def prepare(*, raw_dir: Path, seed: int, records: int = N_RECORDS) -> Pool:
    """Generate a pool of ``records`` records; ``raw_dir`` is unused (no raw files)."""
    del raw_dir
    return generate_purchase(seed=seed, n_records=records)


SPEC = DatasetSpec(
    name="purchase_synth",
    description=(
        f"SYNTHETIC Purchase-100 stand-in (not the Kaggle data): {N_RECORDS:,} records x "
        f"{N_FEATURES} binary 'bought product j' features drawn from {N_PROFILES} latent "
        f"shopper profiles with per-profile Bernoulli rates, labelled by k-means into "
        f"{NUM_CLASSES} clusters as Shokri et al. 2017 (IV-A) labelled Purchase-100."
    ),
    synthetic=True,
    raw_files=(),
    input_shape=(N_FEATURES,),
    num_classes=NUM_CLASSES,
    properties=(),
    prepare=prepare,
)
