"""The LiRA keep-matrix split (Carlini et al. 2022, section VI-A)."""

from __future__ import annotations

import numpy as np
import pytest

from leakbench.errors import ConfigError
from leakbench.studies.lira_splits import LiraSplit, keep_matrix, make_lira_split


@pytest.mark.parametrize(("models", "records"), [(2, 1), (16, 300), (64, 50)])
def test_each_record_is_in_exactly_half_the_models(models, records):
    keep = keep_matrix(models=models, records=records, seed=3)
    assert keep.shape == (models, records) and keep.dtype == bool
    assert (keep.sum(axis=0) == models // 2).all()


def test_keep_matrix_is_the_reference_codes_draw():
    # train.py of the LiRA code: keep = uniform(N, n).argsort(0) < N * pkeep, pkeep = 1/2
    draws = np.random.default_rng(11).uniform(0, 1, size=(8, 40))
    expected = draws.argsort(0) < 4
    assert np.array_equal(keep_matrix(models=8, records=40, seed=11), expected)


def test_keep_matrix_is_seeded_and_identical_on_rerun():
    a = keep_matrix(models=16, records=500, seed=5)
    assert np.array_equal(a, keep_matrix(models=16, records=500, seed=5))
    assert not np.array_equal(a, keep_matrix(models=16, records=500, seed=6))
    counts = a.sum(axis=1)
    assert counts.min() != counts.max()  # per-model counts differ: the trainer must cope
    assert abs(counts.mean() - 250) < 1e-9  # ... but average exactly n / 2


@pytest.mark.parametrize("models", [0, 1, 3, 15, -2, 2.0, True])
def test_odd_or_small_model_counts_are_refused(models):
    with pytest.raises(ConfigError, match=r"models: .* is not allowed; allowed: an even integer"):
        keep_matrix(models=models, records=10, seed=0)


def test_split_draws_records_keep_and_population_and_round_trips():
    split = make_lira_split(n_pool=1000, records=300, models=4, population=50, seed=9)
    assert split.rows.shape == (300,) and np.all(np.diff(split.rows) > 0)
    assert split.rows.max() < 1000
    assert split.keep.shape == (4, 300) and (split.keep.sum(axis=0) == 2).all()
    assert split.population.shape == (50,) and np.all(np.diff(split.population) > 0)
    assert split.population.max() < 300
    again = LiraSplit.from_arrays(split.arrays())
    assert all(
        np.array_equal(a, b)
        for a, b in zip(again.arrays().values(), split.arrays().values(), strict=True)
    )
    other = make_lira_split(n_pool=1000, records=300, models=4, population=50, seed=9)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(other.arrays().values(), split.arrays().values(), strict=True)
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"records": 1001},
            r"records: 1001 is not allowed for a pool of 1000 records; allowed: 2 to 1000",
        ),
        ({"population": 0}, r"population: 0 is not allowed; allowed: 1 to 300"),
        ({"population": 301}, r"population: 301 is not allowed"),
        ({"models": 5}, r"models: 5 is not allowed; allowed: an even integer >= 2"),
    ],
)
def test_bad_split_settings_are_refused(change, message):
    args = {"n_pool": 1000, "records": 300, "models": 4, "population": 50, "seed": 9} | change
    with pytest.raises(ConfigError, match=message):
        make_lira_split(**args)
