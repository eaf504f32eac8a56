"""Pool: validation on construction, and a byte-deterministic save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest

from leakbench.data.pool import Pool, image_pool
from leakbench.errors import DataError
from leakbench.io import write_npz


def _tabular() -> Pool:
    return Pool(
        x=np.array([[0.5, -1.0], [2.0, 0.0], [1.5, 3.25]], dtype=np.float32),
        y=np.array([0, 2, 1], dtype=np.int64),
        properties={
            "sex": np.array([True, False, True]),
            "random_bit": np.array([False, False, True]),
        },
        feature_names=("age", "workclass=?"),
        num_classes=3,
    )


def _assert_same(a: Pool, b: Pool) -> None:
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.x.dtype == b.x.dtype == np.float32
    assert a.y.dtype == b.y.dtype == np.int64
    assert sorted(a.properties) == sorted(b.properties)
    for name, values in a.properties.items():
        assert b.properties[name].dtype == np.bool_
        np.testing.assert_array_equal(values, b.properties[name])
    assert a.feature_names == b.feature_names
    assert a.num_classes == b.num_classes


def test_tabular_round_trip_is_exact_and_byte_deterministic(tmp_path):
    pool = _tabular()
    pool.save(tmp_path / "a.npz")
    pool.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    back = Pool.load(tmp_path / "a.npz")
    _assert_same(pool, back)
    assert back.input_shape == (2,)
    assert len(back) == 3


def test_image_pool_scales_to_unit_interval_and_round_trips(tmp_path):
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    pool = image_pool(images=images, labels=np.array([4]), num_classes=10)
    assert pool.x.shape == (1, 1, 2, 2)
    np.testing.assert_allclose(pool.x[0, 0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)
    assert pool.feature_names == () and pool.properties == {}
    pool.save(tmp_path / "img.npz")
    _assert_same(pool, Pool.load(tmp_path / "img.npz"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": np.zeros((3, 2), dtype=np.float64)}, "Pool.x: dtype float64"),
        ({"y": np.array([0, 1], dtype=np.int64)}, "Pool.y: shape (2,)"),
        ({"y": np.array([0, 1, 1], dtype=np.int32)}, "Pool.y: dtype int32"),
        ({"y": np.array([0, 3, 1], dtype=np.int64)}, "labels in [0, 3]"),
        ({"properties": {"sex": np.array([1, 0, 1])}}, "Pool.properties['sex']: dtype int64"),
        ({"properties": {"sex": np.array([True, False])}}, "shape (2,)"),
        ({"properties": {"bad name": np.array([True] * 3)}}, "'bad name'"),
        ({"feature_names": ("age",)}, "Pool.feature_names: 1 names"),
        ({"num_classes": 1}, "Pool.num_classes: 1"),
    ],
)
def test_construction_rejects_bad_fields(change, message):
    fields = {
        "x": _tabular().x,
        "y": _tabular().y,
        "properties": {},
        "feature_names": ("a", "b"),
        "num_classes": 3,
    }
    with pytest.raises(DataError) as err:
        Pool(**{**fields, **change})
    assert message in str(err.value)


def test_images_must_not_carry_feature_names():
    with pytest.raises(DataError, match="no names for non-tabular x"):
        Pool(
            x=np.zeros((2, 1, 2, 2), dtype=np.float32),
            y=np.zeros(2, dtype=np.int64),
            properties={},
            feature_names=("p0",),
            num_classes=2,
        )


def test_load_names_the_missing_entries(tmp_path):
    write_npz(tmp_path / "other.npz", x=np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(
        DataError,
        match=r"other\.npz: not a pool file; missing entries: "
        r"feature_names, num_classes, y",
    ):
        Pool.load(tmp_path / "other.npz")
