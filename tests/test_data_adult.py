"""UCI Adult parsing and encoding on hand-written lines in the real file format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from leakbench.data import adult
from leakbench.errors import DataError

DATA = (
    "30, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
    "Male, 2174, 0, 40, United-States, <=50K\n"
    "50, ?, 83311, Bachelors, 13, Married-civ-spouse, ?, Wife, Black, Female, 0, 0, 40, "
    "United-States, >50K\n"
)
TEST = (
    "|1x3 Cross validator\n"
    "30, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, "
    "Asian-Pac-Islander, Female, 0, 0, 40, ?, <=50K.\n"
    "50, Private, 89814, HS-grad, 9, Married-civ-spouse, Farming-fishing, Husband, White, "
    "Male, 0, 0, 40, Cuba, >50K.\n"
    "\n"
)


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    (tmp_path / "adult.data").write_text(DATA)
    (tmp_path / "adult.test").write_text(TEST)
    return tmp_path


def _pool(raw_dir: Path, seed: int = 0):
    train = adult.read_adult_records(path=raw_dir / "adult.data", expected_rows=2)
    test = adult.read_adult_records(path=raw_dir / "adult.test", expected_rows=2)
    return adult.encode_adult(
        fields=np.concatenate([train[0], test[0]]),
        labels=np.concatenate([train[1], test[1]]),
        seed=seed,
    )


def _column(pool, name: str) -> np.ndarray:
    return pool.x[:, pool.feature_names.index(name)]


def test_parser_skips_the_comment_and_blank_lines_and_strips_label_dots(raw_dir):
    fields, labels = adult.read_adult_records(path=raw_dir / "adult.test", expected_rows=2)
    assert fields.shape == (2, 14)
    assert fields[0, 0] == "30" and fields[1, 13] == "Cuba"
    np.testing.assert_array_equal(labels, [0, 1])


def test_encoding_by_hand(raw_dir):
    pool = _pool(raw_dir)
    assert pool.x.shape == (4, len(adult.feature_names())) == (4, 109)
    assert pool.x.dtype == np.float32
    np.testing.assert_array_equal(pool.y, [0, 1, 0, 1])
    # age 30, 50, 30, 50: mean 40, population std 10 -> -1, +1, -1, +1.
    np.testing.assert_allclose(_column(pool, "age"), [-1, 1, -1, 1])
    # hours-per-week is constant here: it encodes to zeros.
    np.testing.assert_array_equal(_column(pool, "hours-per-week"), [0, 0, 0, 0])
    # One-hot with "?" a category of its own; each categorical block sums to one per row.
    np.testing.assert_array_equal(_column(pool, "workclass=?"), [0, 1, 0, 0])
    np.testing.assert_array_equal(_column(pool, "workclass=Private"), [0, 0, 1, 1])
    np.testing.assert_array_equal(_column(pool, "native-country=?"), [0, 0, 1, 0])
    np.testing.assert_array_equal(_column(pool, "race=Asian-Pac-Islander"), [0, 0, 1, 0])
    for column, categories in adult.SCHEMA.items():
        if categories is not None:
            block = np.stack([_column(pool, f"{column}={c}") for c in categories], axis=1)
            np.testing.assert_array_equal(block.sum(axis=1), 1, err_msg=column)


def test_properties(raw_dir):
    pool = _pool(raw_dir)
    assert tuple(pool.properties) == adult.SPEC.properties
    np.testing.assert_array_equal(pool.properties["sex"], [False, True, True, False])
    np.testing.assert_array_equal(pool.properties["race"], [False, True, True, False])
    np.testing.assert_array_equal(
        pool.properties["random_bit"], _column(pool, "random_bit").astype(bool)
    )
    assert pool.feature_names[-1] == "random_bit"


def test_random_bit_is_seeded_balanced_and_independent_of_the_label(tmp_path):
    (tmp_path / "many.data").write_text(DATA * 5000)
    fields, labels = adult.read_adult_records(path=tmp_path / "many.data", expected_rows=10_000)
    bits = [
        adult.encode_adult(fields=fields, labels=labels, seed=s).properties["random_bit"]
        for s in (1, 1, 2)
    ]
    np.testing.assert_array_equal(bits[0], bits[1])
    assert not np.array_equal(bits[0], bits[2])
    # 10,000 fair bits: mean 0.5 with std 0.005; the bounds are 6 std away.
    assert abs(bits[0].mean() - 0.5) < 0.03
    # Rows alternate labels 0, 1 with identical features otherwise; the bit ignores them
    # (std of the difference of two means of 5,000 bits: 0.01).
    assert abs(bits[0][labels == 1].mean() - bits[0][labels == 0].mean()) < 0.05


def test_wrong_record_count_names_the_file(raw_dir):
    with pytest.raises(DataError, match=r"adult\.test: 2 records; expected 16281"):
        adult.read_adult_records(path=raw_dir / "adult.test", expected_rows=adult.TEST_ROWS)
    with pytest.raises(DataError, match=r"adult\.data: 2 records; expected 32561"):
        adult.prepare(raw_dir=raw_dir, seed=0)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("30, Private, 1\n", "3 fields; allowed: 15"),
        (DATA.splitlines()[0].replace("<=50K", "maybe") + "\n", "income 'maybe' is not allowed"),
        (DATA.splitlines()[0].replace("State-gov", "Gov") + "\n", "workclass 'Gov' is not allow"),
        (DATA.splitlines()[0].replace("2174", "lots") + "\n", "capital-gain 'lots' is not allow"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "adult.data"
    path.write_text(DATA + line)
    with pytest.raises(DataError, match=rf"adult\.data:3: {message}"):
        adult.read_adult_records(path=path, expected_rows=None)
