"""Membership splits: disjointness, sizes, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest

from leakbench.errors import ConfigError
from leakbench.studies.splits import make_splits, max_members


def test_target_and_shadow_data_are_disjoint_and_sized():
    s = make_splits(n_pool=1000, members=100, shadows=5, seed=3)
    assert s.target_in.sum() == s.target_out.sum() == 100
    assert not (s.target_in & s.target_out).any()
    assert (s.shadow_in.sum(axis=1) == 100).all() and (s.shadow_out.sum(axis=1) == 100).all()
    assert not (s.shadow_in & s.shadow_out).any()
    shadow_any = (s.shadow_in | s.shadow_out).any(axis=0)
    assert not (shadow_any & (s.target_in | s.target_out)).any()
    # shadows draw different subsets
    assert not np.array_equal(s.shadow_in[0], s.shadow_in[1])


def test_splits_are_deterministic_in_the_seed():
    a = make_splits(n_pool=400, members=50, shadows=2, seed=1)
    b = make_splits(n_pool=400, members=50, shadows=2, seed=1)
    c = make_splits(n_pool=400, members=50, shadows=2, seed=2)
    assert all(np.array_equal(a.arrays()[k], b.arrays()[k]) for k in a.arrays())
    assert not np.array_equal(a.target_in, c.target_in)


def test_too_many_members_names_the_limit():
    assert max_members(1001) == 250
    with pytest.raises(ConfigError, match=r"members: 251 .* allowed: 1 to 250"):
        make_splits(n_pool=1001, members=251, shadows=1, seed=0)
    with pytest.raises(ConfigError, match=r"membership\.shadows"):
        make_splits(n_pool=1000, members=10, shadows=0, seed=0)
