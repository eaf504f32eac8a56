"""purchase_synth (100 classes) and purchase_synth2/10/20/50: SYNTHETIC stand-ins for
Purchase-100 and its 2-, 10-, 20- and 50-class variants, generated from the seed.

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
   clusters over the records (2, 10, 20 or 50 for ``purchase_synth<k>``, as Shokri et al.
   Fig. 11 and Zhao et al. section 3 vary the class count; each set draws its own records).

Steps 1-3 are :mod:`leakbench.data.binary_mixture`.

The latent profiles are not exposed: the task, like the paper's, is to predict the cluster.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from leakbench.data.binary_mixture import kmeans_labels, mixture_records
from leakbench.data.pool import Pool
from leakbench.data.spec import DatasetSpec
from leakbench.errors import ConfigError
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
    x = mixture_records(
        np.random.default_rng(derive_seed(seed, "purchase_synth", "records")),
        n_records=n_records,
        n_features=n_features,
        n_profiles=n_profiles,
        concentration=PROFILE_CONCENTRATION,
        rate_beta=RATE_BETA,
    )
    labels = kmeans_labels(
        x,
        num_classes=num_classes,
        n_init=N_INIT,
        random_state=derive_seed(seed, "purchase_synth", "kmeans"),
        name="purchase_synth",
    )
    return Pool(
        x=x,
        y=labels,
        properties={},
        feature_names=tuple(f"product_{j:03d}" for j in range(n_features)),
        num_classes=num_classes,
    )


def prepare(
    *, raw_dir: Path, seed: int, records: int = N_RECORDS, num_classes: int = NUM_CLASSES
) -> Pool:
    """Generate a pool of ``records`` records in ``num_classes`` classes; ``raw_dir`` is
    unused (no raw files)."""
    del raw_dir
    return generate_purchase(seed=seed, n_records=records, num_classes=num_classes)


def _spec(name: str, num_classes: int) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        description=(
            f"SYNTHETIC Purchase-{num_classes} stand-in (not the Kaggle data): {N_RECORDS:,} "
            f"records x {N_FEATURES} binary 'bought product j' features drawn from "
            f"{N_PROFILES} latent shopper profiles with per-profile Bernoulli rates, "
            f"labelled by k-means into {num_classes} clusters as Shokri et al. 2017 (IV-A) "
            f"labelled Purchase-{num_classes}."
        ),
        synthetic=True,
        raw_files=(),
        input_shape=(N_FEATURES,),
        num_classes=num_classes,
        properties=(),
        binary=True,
        prepare=partial(prepare, num_classes=num_classes),
    )


# Purchase-100's stand-in keeps its historical name; the other class counts of Shokri et
# al. (Fig. 11) and Zhao et al. (section 3) are named by their class count.
SPEC = _spec("purchase_synth", NUM_CLASSES)
CLASS_COUNTS = (2, 10, 20, 50)
SPECS = (SPEC, *(_spec(f"purchase_synth{k}", k) for k in CLASS_COUNTS))
