"""Names of privacy variants, variant labels, ratio pairs and cells: format and parse."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leakbench.errors import ConfigError
from leakbench.names import (
    CellId,
    RatioPair,
    parse_variant_label,
    privacy_epsilon,
    privacy_name,
    variant_label,
)

PART = st.from_regex(r"[a-z0-9_][a-z0-9_-]{0,12}", fullmatch=True)
# Epsilons whose %g form is exact (at most six significant digits), as configs write them.
EPSILON = (
    st.integers(1, 999_999)
    .flatmap(lambda m: st.sampled_from([m, m / 10, m / 1000, m * 1e-9, m * 1e6]))
    .map(lambda e: float(f"{e:g}"))
)


def test_privacy_names_by_hand():
    assert privacy_name(math.inf) == "nodp"
    assert privacy_name(8) == "eps8"
    assert privacy_name(0.95) == "eps0.95"
    assert privacy_name(1e-5) == "eps1e-05"
    assert privacy_epsilon("eps0.95") == 0.95
    assert privacy_epsilon("nodp") == math.inf


@given(EPSILON)
def test_privacy_name_round_trips(epsilon):
    assert privacy_epsilon(privacy_name(epsilon)) == epsilon


@pytest.mark.parametrize("name", ["", "eps", "epsx", "nodp2", "eps-1", "EPS1", "eps1/2"])
def test_privacy_epsilon_refuses_other_names(name):
    with pytest.raises(ConfigError, match=r"privacy: variant .* allowed: nodp, eps<epsilon>"):
        privacy_epsilon(name)


def test_variant_labels_by_hand():
    assert variant_label("mlp128") == "mlp128"
    assert variant_label("mlp128", 8) == "mlp128.eps8"
    assert parse_variant_label("tiny.eps0.95") == ("tiny", 0.95)
    assert parse_variant_label("a.eps1.eps2") == ("a.eps1", 2.0)
    assert parse_variant_label("logreg") == ("logreg", math.inf)


@given(PART, EPSILON | st.just(math.inf))
def test_variant_label_round_trips(variant, epsilon):
    assert parse_variant_label(variant_label(variant, epsilon)) == (variant, epsilon)


def test_ratio_pair_by_hand():
    assert str(RatioPair(0.1, 0.25)) == "0.1-0.25"
    assert str(RatioPair(0, 1)) == "0-1"
    assert RatioPair.parse("0.2-0.6") == RatioPair(0.2, 0.6)


@given(st.integers(0, 1000), st.integers(0, 1000))
def test_ratio_pair_round_trips(a, b):
    pair = RatioPair(a / 1000, b / 1000)
    assert RatioPair.parse(str(pair)) == pair


@pytest.mark.parametrize("text", ["0.1", "0.1-0.2-0.3", "a-b", "", "1e-5-0.2"])
def test_ratio_pair_refuses_malformed_text(text):
    with pytest.raises(ConfigError, match=r"ratio pair: .* allowed: <t0>-<t1>"):
        RatioPair.parse(text)


def test_cell_by_hand():
    cell = CellId.of(("property", "group", "model"), ("sex", RatioPair(0.1, 0.25), "logreg"))
    assert str(cell) == "sex/0.1-0.25/logreg"
    assert cell.wildcards == {"property": "sex", "group": "0.1-0.25", "model": "logreg"}
    assert CellId.parse(cell.keys, str(cell)) == cell


@given(st.lists(PART, min_size=1, max_size=4))
def test_cell_round_trips(values):
    keys = tuple(f"k{i}" for i in range(len(values)))
    cell = CellId.of(keys, values)
    assert CellId.parse(keys, str(cell)) == cell


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("adult", r"cell: 'adult' is not allowed; allowed: 2 parts, dataset/variant"),
        ("adult/a/b", r"allowed: 2 parts"),
        ("adult/", r"cell.variant: '' is not allowed"),
        ("adult/-x", r"cell.variant: '-x' is not allowed"),
        ("adult/a b", r"cell.variant: 'a b' is not allowed"),
        ("../x", r"cell.dataset: '..' is not allowed"),
    ],
)
def test_cell_refuses_malformed_parts(text, message):
    with pytest.raises(ConfigError, match=message):
        CellId.parse(("dataset", "variant"), text)
