"""purchase_synth: deterministic generation and k-means labels."""

from __future__ import annotations

import numpy as np
import pytest

from leakbench.data.purchase import generate_purchase
from leakbench.data.registry import get_dataset
from leakbench.errors import ConfigError

SMALL = {"n_records": 300, "n_features": 40, "num_classes": 8, "n_profiles": 4}


def test_same_seed_gives_identical_arrays_and_another_seed_differs():
    a, b, c = (generate_purchase(seed=s, **SMALL) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)
    assert a.x.shape == (300, 40) and a.x.dtype == np.float32
    assert set(np.unique(a.x)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.unique(a.y), np.arange(8))


def test_default_pool_matches_the_spec_and_has_100_classes(tmp_path):
    spec = get_dataset("purchase_synth")
    pool = spec.prepare(raw_dir=tmp_path, seed=0)
    assert pool.input_shape == spec.input_shape == (600,)
    assert pool.num_classes == spec.num_classes == 100
    assert len(pool) == 10_000
    np.testing.assert_array_equal(np.unique(pool.y), np.arange(100))
    assert len(pool.feature_names) == 600
    # Sparse baskets: the mean of Beta(0.3, 3) is 0.3 / 3.3 = 0.091.
    assert abs(pool.x.mean() - 0.3 / 3.3) < 0.02


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_records": 5}, "purchase_synth.n_records: 5 is not allowed; allowed: >= num_classes"),
        ({"n_profiles": 0}, "purchase_synth.n_profiles: 0 is not allowed"),
    ],
)
def test_bad_sizes_are_refused(change, message):
    with pytest.raises(ConfigError, match=message):
        generate_purchase(seed=0, **{**SMALL, **change})
