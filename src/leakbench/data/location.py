"""location_synth: a SYNTHETIC stand-in for Location-30, generated from the seed.

Shokri et al. 2017 (section IV-A) built Location-30 from Foursquare check-ins in Bangkok
(Yang et al. 2016): one binary feature per region or location type (446), 1 when the user
visited it, 5,010 users, labelled by k-means clustering of those records into 30 clusters.
Zhao et al. 2019 (section 3) attack it. The check-ins cannot be fetched offline, so this
module makes records of the same shape from a generative model and labels them the same way
(:mod:`leakbench.data.binary_mixture`):

1. 15 latent traveller profiles; profile weights ~ Dirichlet(5, ..., 5); each profile's
   per-feature visit rate ~ Beta(0.4, 1.6) (mean 0.2: denser than a Purchase basket, as a
   traveller's visited regions are).
2. Each record draws a profile z from the weights, then feature j ~ Bernoulli(rate[z, j]).
3. Labels: k-means (k-means++, 3 restarts, seeded, one thread) into 30 clusters.

The latent profiles are not exposed: the task, like the paper's, is to predict the cluster.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from leakbench.data.binary_mixture import kmeans_labels, mixture_records
from leakbench.data.pool import Pool
from leakbench.data.spec import DatasetSpec
from leakbench.errors import ConfigError
from leakbench.seeding import derive_seed

NAME = "location_synth"
N_RECORDS = 5_010
N_FEATURES = 446
NUM_CLASSES = 30
N_PROFILES = 15
N_INIT = 3
PROFILE_CONCENTRATION = 5.0
RATE_BETA = (0.4, 1.6)


def generate_location(*, seed: int, n_records: int = N_RECORDS) -> Pool:
    """Generate the synthetic Location-like pool (see the module docstring).

    Args:
        seed: the prepare seed; records use ``derive_seed(seed, "location_synth",
            "records")``, k-means ``derive_seed(seed, "location_synth", "kmeans")``.
        n_records: number of records N.

    Raises:
        ConfigError: if ``n_records`` is below the class count.
        DataError: if k-means leaves a cluster empty.
    """
    if n_records < NUM_CLASSES:
        raise ConfigError(f"{NAME}.records: {n_records} is not allowed; allowed: >= {NUM_CLASSES}")
    x = mixture_records(
        np.random.default_rng(derive_seed(seed, NAME, "records")),
        n_records=n_records,
        n_features=N_FEATURES,
        n_profiles=N_PROFILES,
        concentration=PROFILE_CONCENTRATION,
        rate_beta=RATE_BETA,
    )
    labels = kmeans_labels(
        x,
        num_classes=NUM_CLASSES,
        n_init=N_INIT,
        random_state=derive_seed(seed, NAME, "kmeans"),
        name=NAME,
    )
    return Pool(
        x=x,
        y=labels,
        properties={},
        feature_names=tuple(f"region_{j:03d}" for j in range(N_FEATURES)),
        num_classes=NUM_CLASSES,
    )


def prepare(*, raw_dir: Path, seed: int, records: int = N_RECORDS) -> Pool:
    """Generate a pool of ``records`` records; ``raw_dir`` is unused (no raw files)."""
    del raw_dir
    return generate_location(seed=seed, n_records=records)


SPEC = DatasetSpec(
    name=NAME,
    description=(
        f"SYNTHETIC Location-30 stand-in (not the Foursquare check-ins): {N_RECORDS:,} "
        f"records x {N_FEATURES} binary 'visited region j' features drawn from {N_PROFILES} "
        f"latent traveller profiles with per-profile Bernoulli rates, labelled by k-means "
        f"into {NUM_CLASSES} clusters as Shokri et al. 2017 (IV-A) labelled Location-30."
    ),
    synthetic=True,
    raw_files=(),
    input_shape=(N_FEATURES,),
    num_classes=NUM_CLASSES,
    properties=(),
    binary=True,
    prepare=prepare,
)
